// The cap on client and scope pairs, against the real simulator and the SDK's reader: one app with
// more scopes than the cap, and many short-lived clients of one client id, must give every
// instrument a bounded number of series and still count every call.
import { afterEach, expect, it } from 'vitest';
import type { MaskinportenClient, StoredToken, TokenStore } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { instrumentPortvakt, PORTVAKT_ATTRIBUTES as A, PORTVAKT_METRICS as M, PORTVAKT_SPANS } from '@portvakt/opentelemetry';
import type { PortvaktInstrumentation } from '@portvakt/opentelemetry';
import { ORG, clientFor, key, manualClock, startSim, until } from './simulator.ts';
import { startTelemetry } from './telemetry.ts';
import type { Point, Telemetry } from './telemetry.ts';

/** The documented cap (docs/observability.md). */
const CAP = 1_000;
const SCOPES = Array.from({ length: 1_500 }, (_, i) => `test:many-${i}`);
const SHORT_LIVED = 1_000;
/** Client ids first seen past the cap, each with one scope: more than get an (other) series of their own. */
const LATE_CLIENTS = 150;
/** The documented bound on (other) series by client id (docs/observability.md). */
const OTHER_CLIENTS = 100;

let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
let telemetry: Telemetry | undefined;
let instrumentation: PortvaktInstrumentation | undefined;
afterEach(async () => {
  instrumentation?.uninstrument();
  await client?.close();
  await sim?.close();
  await telemetry?.shutdown();
  client = sim = telemetry = instrumentation = undefined;
});

/** A shared token store in memory (what @portvakt/redis is for a fleet): the short-lived clients share one token. */
function memoryStore(): TokenStore {
  const tokens = new Map<string, StoredToken>();
  return {
    async load(storeKey, fetch, { minValidUntil }) {
      const known = tokens.get(storeKey);
      if (known !== undefined && known.expiresAt >= minValidUntil) return known;
      const fresh = await fetch();
      tokens.set(storeKey, fresh);
      return fresh;
    },
  };
}

const total = (points: Point[]) => points.reduce((sum, p) => sum + p.value, 0);
const scopesOf = (points: Point[]) => new Set(points.map((p) => p.attributes[A.scope]));

it('gives every instrument at most 1,000 pairs plus 101 (other) series, with 1,500 scopes, 1,000 short-lived clients of one id and 150 late client ids, and counts every call', { timeout: 180_000 }, async () => {
  // The SDK's limit is raised above anything this run makes, so what is measured is Portvakt's cap.
  telemetry = startTelemetry({ cardinalityLimit: 100_000 });
  instrumentation = instrumentPortvakt({ meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
  const clock = manualClock();
  sim = await startSim({ clock, clients: [{ clientId: 'client-1', orgno: ORG, scopes: ['test:scope', ...SCOPES], jwks: [key.publicJwk] }] });
  // Attempts are given far more time than a loaded machine needs: a timed-out attempt is retried
  // and would change the counts this test checks.
  const transport = { backoffBase: 1, backoffMax: 5, attemptTimeout: 120_000, deadline: 300_000 };
  const options = { clock, cache: { jitter: 0 }, transport };

  // 1,000 clients of one id, each created, used (a miss and a hit) and closed: one pair between
  // them. Behind a shared store, so only the first asks the simulator; each still fetches (from the store).
  const store = memoryStore();
  for (let i = 0; i < SHORT_LIVED; i++) {
    const shortLived = clientFor(sim, { clock, cache: { jitter: 0, store }, transport });
    await shortLived.getToken();
    await shortLived.getToken();
    await shortLived.close();
  }

  // One client asks for 1,500 scopes: a miss and a hit each. The fetches of the scopes around the
  // cap are retried once, so the retry counter has scopes on both sides of it.
  client = clientFor(sim, options);
  let retries = 0;
  for (const [i, scope] of SCOPES.entries()) {
    if (i >= CAP - 20 && i < CAP + 20) {
      sim.inject({ kind: 'status', status: 503 }, { times: 1 });
      retries++;
    }
    await client.getToken({ scope });
    await client.getToken({ scope });
  }

  // Past the cap, 150 more client ids, each with its own client: a miss and a hit each. The first
  // 100 of them (client-1 has one already) get an (other) series each; the rest share one series
  // under client id (other).
  for (let i = 0; i < LATE_CLIENTS; i++) {
    const clientId = `late-${i}`;
    sim.addClient({ clientId, orgno: ORG, scopes: ['test:scope'], jwks: [key.publicJwk] });
    const late = clientFor(sim, { clientId, clock, cache: { jitter: 0 }, transport });
    await late.getToken();
    await late.getToken();
    await late.close();
  }

  // Past the refresh point each scope's hit starts a refresh-ahead, which Maskinporten refuses
  // (a 400 is not retried: one request each).
  // The refreshes run in batches, each waited for, so a loaded machine never has 1,500 in flight
  // at once (an attempt that timed out would be retried and change the counts).
  clock.advance(70_000);
  sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_scope' } }, { times: SCOPES.length });
  const fetchSpans = () => telemetry!.spans.getFinishedSpans().filter((s) => s.name === PORTVAKT_SPANS.fetch);
  const beforeRefreshes = SHORT_LIVED + SCOPES.length + LATE_CLIENTS;
  const BATCH = 100;
  for (let at = 0; at < SCOPES.length; at += BATCH) {
    for (const scope of SCOPES.slice(at, at + BATCH)) await client.getToken({ scope });
    const done = beforeRefreshes + Math.min(at + BATCH, SCOPES.length);
    await until(() => fetchSpans().length === done, `the refresh spans up to ${done}`, 60_000);
  }
  const fetches = SHORT_LIVED + 2 * SCOPES.length + LATE_CLIENTS;

  const collected = await telemetry.collect();
  const points = (name: string) => collected.get(name)?.points ?? [];
  const capped = [M.fetchDuration, M.fetchRetries, M.cacheHits, M.cacheMisses, M.cacheRefreshes, M.cacheRefreshFailures];
  // The client and scope pairs each instrument has a series for (soft: a failure shows every instrument).
  const pairsOf = (list: Point[]) => new Set(list.map((p) => `${String(p.attributes[A.clientId])} ${String(p.attributes[A.scope])}`));
  for (const name of capped) {
    const scopes = scopesOf(points(name));
    expect.soft(scopes.size, `${name}: scopes`).toBeLessThanOrEqual(CAP + 1);
    expect.soft(scopes.has('(other)'), `${name}: has (other)`).toBe(true);
    expect.soft(pairsOf(points(name)).size, `${name}: pairs`).toBeLessThanOrEqual(CAP + OTHER_CLIENTS + 1);
  }
  for (const name of [M.cacheHits, M.cacheMisses, M.fetchDuration]) {
    const pairs = pairsOf(points(name));
    const otherClients = [...pairs].filter((pair) => pair.endsWith(' (other)') && !pair.startsWith('(other) '));
    expect.soft(otherClients.length, `${name}: client ids with an (other) series`).toBe(OTHER_CLIENTS);
    expect.soft(pairs.has('(other) (other)'), `${name}: (other) (other)`).toBe(true);
  }
  const spanScopes = scopesOf(fetchSpans().map((s) => ({ attributes: s.attributes, value: 1 })));
  expect.soft(spanScopes.size, 'span scopes').toBeLessThanOrEqual(CAP + 1);
  expect.soft(spanScopes.has('(other)'), 'spans: has (other)').toBe(true);

  // Nothing is dropped: the totals are the number of calls, whichever series they went to.
  expect({
    hits: total(points(M.cacheHits)),
    misses: total(points(M.cacheMisses)),
    refreshes: total(points(M.cacheRefreshes)),
    refreshFailures: total(points(M.cacheRefreshFailures)),
    fetches: total(points(M.fetchDuration)),
    retries: total(points(M.fetchRetries)),
  }, 'totals').toEqual({
    hits: SHORT_LIVED + 2 * SCOPES.length + LATE_CLIENTS,
    misses: SHORT_LIVED + SCOPES.length + LATE_CLIENTS,
    refreshes: SCOPES.length,
    refreshFailures: SCOPES.length,
    fetches,
    retries,
  });
  // The short-lived clients share one pair: its hits and misses are the sum of theirs.
  const base = { [A.clientId]: 'client-1', [A.scope]: 'test:scope' };
  expect(points(M.cacheMisses).find((p) => p.attributes[A.scope] === 'test:scope')).toEqual({ attributes: base, value: SHORT_LIVED });
  expect(points(M.cacheHits).find((p) => p.attributes[A.scope] === 'test:scope')).toEqual({ attributes: base, value: SHORT_LIVED });
});
