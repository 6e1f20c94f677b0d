// The diagnostics channels as a subscriber sees them: one fetch's events tied together by fetchId,
// retries with their reasons, attempts on success and failure, the certificate's status.
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { DIAGNOSTICS_CHANNELS } from '@portvakt/core';
import type { DiagnosticsPayloads, MaskinportenClient } from '@portvakt/core';
import { createTestPki } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { ORG, clientFor, manualClock, startSim, until } from './client/harness.ts';

let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
const unsubscribes: (() => void)[] = [];
afterEach(async () => {
  unsubscribes.splice(0).forEach((u) => u());
  await client?.close();
  await sim?.close();
  client = sim = undefined;
});

type Key = keyof typeof DIAGNOSTICS_CHANNELS;

/** Records every event of the named channels, as [key, payload]. */
function record(...keys: Key[]): [Key, Record<string, unknown>][] {
  const events: [Key, Record<string, unknown>][] = [];
  for (const k of keys) {
    const fn = (message: unknown) => void events.push([k, message as Record<string, unknown>]);
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS[k], fn);
    unsubscribes.push(() => diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS[k], fn));
  }
  return events;
}

describe('diagnostics channels', () => {
  it('ties start, retries and end of one fetch together by fetchId, with the attempts', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const events = record('fetchStart', 'fetchRetry', 'fetchEnd');
    sim.inject({ kind: 'status', status: 503 }, { times: 1 });
    sim.inject({ kind: 'drop' }, { times: 1 });
    await client.getToken();
    expect(events.map(([k]) => k)).toEqual(['fetchStart', 'fetchRetry', 'fetchRetry', 'fetchEnd']);
    const ids = new Set(events.map(([, e]) => e.fetchId));
    expect(ids.size).toBe(1);
    expect(events[1]?.[1]).toMatchObject({ clientId: 'client-1', scope: 'test:scope', attempt: 1, reason: 'status', status: 503 });
    expect(events[2]?.[1]).toMatchObject({ attempt: 2, reason: 'network', status: undefined });
    expect(events[3]?.[1]).toMatchObject({ reason: 'miss', attempts: 3, fromStore: false });
    const end = events[3]?.[1] as DiagnosticsPayloads['fetchEnd'];
    expect(end.expiresIn).toBeGreaterThan(100);
  });

  it('gives each fetch its own fetchId', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const events = record('fetchStart');
    await client.getToken({ scope: 'a' });
    await client.getToken({ scope: 'b' });
    expect(events).toHaveLength(2);
    expect(events[0]?.[1].fetchId).not.toBe(events[1]?.[1].fetchId);
  });

  it('reports a timed-out attempt as a retry for "timeout"', async () => {
    sim = await startSim();
    client = clientFor(sim, { transport: { attemptTimeout: 1_000, backoffBase: 1, backoffMax: 5 } });
    const events = record('fetchRetry');
    sim.inject({ kind: 'hang' }, { times: 1 });
    await client.getToken();
    expect(events.map(([, e]) => e.reason)).toEqual(['timeout']);
  });

  it('counts the attempts and names the MP code of a failed fetch', async () => {
    sim = await startSim();
    client = clientFor(sim, { scope: 'not-registered' });
    const events = record('fetchError');
    await expect(client.getToken()).rejects.toMatchObject({ code: 'ERR_PORTVAKT_TOKEN_REJECTED' });
    expect(events).toHaveLength(1);
    const e = events[0]?.[1] as DiagnosticsPayloads['fetchError'];
    expect(e).toMatchObject({ reason: 'miss', attempts: 1, code: 'ERR_PORTVAKT_TOKEN_REJECTED' });
    expect(e.mpCode).toMatch(/^MP-\d+$/);
  });

  it('counts every attempt of a fetch that gave up on an outage', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const events = record('fetchRetry', 'fetchError');
    sim.inject({ kind: 'status', status: 503 }, { times: 10 });
    await expect(client.getToken()).rejects.toMatchObject({ code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' });
    expect(events.map(([k]) => k)).toEqual(['fetchRetry', 'fetchRetry', 'fetchError']);
    expect(events[2]?.[1]).toMatchObject({ attempts: 3, code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE', mpCode: undefined });
  });

  it('reports no attempt for a fetch that failed before sending one', async () => {
    sim = await startSim();
    const events = record('fetchError');
    // Closed at once: the fetch ends before any request is sent.
    client = clientFor(sim);
    const pending = client.getToken();
    void client.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_PORTVAKT_CLIENT_CLOSED' });
    expect(events.map(([, e]) => e.attempts)).toEqual([0]);
  });

  it('reports the clock correction as a retry for "clock-offset"', async () => {
    sim = await startSim({ clock: { offsetMs: -60_000 } });
    client = clientFor(sim);
    const events = record('fetchRetry', 'fetchEnd');
    await client.getToken();
    expect(events.map(([k, e]) => `${k}:${String(e.reason)}`)).toEqual(['fetchRetry:clock-offset', 'fetchEnd:miss']);
    expect(events[1]?.[1]).toMatchObject({ attempts: 2 });
  });

  it('publishes the certificate status on each fetch of a certificate client', async () => {
    const pki = createTestPki();
    const cert = pki.issueEnterpriseCertificate({ orgno: ORG, notAfter: new Date(Date.now() + 100 * 86_400_000) });
    sim = await startSim({ trustedCaPems: pki.trustedCaPems });
    sim.addClient({ clientId: 'cert-client', orgno: ORG, scopes: ['a'], acceptCertificates: true });
    client = clientFor(sim, { clientId: 'cert-client', key: { pkcs12: cert.toPkcs12('pw'), passphrase: 'pw' }, scope: 'a' });
    const events = record('certificateStatus');
    await client.getToken();
    expect(events).toHaveLength(1);
    const e = events[0]?.[1] as DiagnosticsPayloads['certificateStatus'];
    expect(e).toMatchObject({ clientId: 'cert-client', daysLeft: 99 });
    expect(e.notAfter).toBeInstanceOf(Date);
    expect(e.subject).toContain(ORG);
  });

  it('marks a failed background refresh with reason "refresh" while hits keep being served', async () => {
    const clock = manualClock();
    sim = await startSim({ clock });
    client = clientFor(sim, { clock, cache: { jitter: 0 } });
    await client.getToken();
    const events = record('cacheHit', 'cacheRefresh', 'fetchError');
    sim.inject({ kind: 'status', status: 503 }, { times: 10 });
    clock.advance(70_000); // past the refresh point (60 s of 120), before the safety margin
    await client.getToken();
    await until(() => events.some(([k]) => k === 'fetchError'), 'the failed refresh');
    expect(events.map(([k]) => k)).toEqual(['cacheRefresh', 'cacheHit', 'fetchError']);
    expect(events[2]?.[1]).toMatchObject({ reason: 'refresh', code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' });
  });

  it('reuses one frozen payload per scope for the cache events', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const events = record('cacheMiss', 'cacheHit');
    await client.getToken();
    await client.getToken();
    await client.getToken({ scope: 'test:scope' });
    expect(events.map(([k]) => k)).toEqual(['cacheMiss', 'cacheHit', 'cacheHit']);
    expect(new Set(events.map(([, e]) => e)).size).toBe(1);
    expect(Object.isFrozen(events[0]?.[1])).toBe(true);
  });

  it('counts hits on a live tally, published at the first hit and every 1024th', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    const events = record('cacheHitCount');
    for (let i = 0; i < 1500; i++) await client.getToken();
    expect(events).toHaveLength(2);
    const tally = events[0]?.[1] as DiagnosticsPayloads['cacheHitCount'];
    expect(events[1]?.[1]).toBe(tally);
    expect(tally).toMatchObject({ clientId: 'client-1', scope: 'test:scope', hits: 1500 });
    unsubscribes.splice(0).forEach((u) => u());
    await client.getToken();
    expect(tally.hits).toBe(1500); // counted only while someone listens
  });

  it('publishes nothing, and builds no payload, when nobody subscribes', async () => {
    sim = await startSim();
    client = clientFor(sim);
    for (const name of Object.values(DIAGNOSTICS_CHANNELS)) expect(diagnostics.hasSubscribers(name)).toBe(false);
    await client.getToken();
    await client.getToken();
  });
});
