// Refresh-ahead with and without the Redis store, on one injected clock: the store must neither
// hand a refresh back the token it replaces (the fleet would then renew only inside the safety
// margin) nor serve a token Redis would already have expired. With Redis, callers see exactly what
// they see without it; Redis is read only when a process without it would ask Maskinporten.
import diagnostics from 'node:diagnostics_channel';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DIAGNOSTICS_CHANNELS, createMaskinportenClient } from '@portvakt/core';
import type { Clock, MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { createRedisTokenStore } from '@portvakt/redis';
import { startRedisServer } from './redis-server.js';
import type { RedisServer } from './redis-server.js';

const key = generateClientKey({ kid: 'refresh-key' });
const LIFETIME_S = 20;
const STEP_MS = 50;
const RUN_MS = 45_000;
const OUTAGE_FROM_MS = 12_000;
let server: RedisServer;
const connections: Redis[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await server.stop();
});

// Fetches in flight, from core's diagnostics events: a tick ends only when background refreshes
// have settled, so the injected clock decides what happens, not the machine's speed.
let inFlight = 0;
const started = () => void inFlight++;
const ended = () => void inFlight--;
beforeAll(() => {
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.fetchStart, started);
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.fetchEnd, ended);
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.fetchError, ended);
});
afterAll(() => {
  diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.fetchStart, started);
  diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.fetchEnd, ended);
  diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.fetchError, ended);
});
let misses = 0;
const missed = () => void misses++;

async function settle(): Promise<void> {
  while (inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
}

async function redisGets(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

/** What each call saw: a hit from memory, or a wait (a miss); then whether it got a token. */
type Outcome = 'hit' | 'wait' | 'wait-failed' | 'hit-failed';

interface Run {
  /** Per replica, the outcome of each call, one call per tick. */
  outcomes: Outcome[][];
  /** Ticks (ms from the start) at which Maskinporten got a token request. */
  tokenRequestTicks: number[];
  tokenRequests: { healthy: number; total: number };
  /** Ticks at which Redis got a GET, and how many in all. */
  getTicks: number[];
  gets: number;
}

async function run(replicas: number, withRedis: boolean): Promise<Run> {
  const t0 = Date.now();
  let now = t0;
  const clock: Clock = { now: () => now };
  const sim = await startMaskinportenSimulator({
    clock,
    tokenLifetimeSeconds: LIFETIME_S,
    clients: [{ clientId: 'refresh', orgno: '991825827', scopes: ['refresh:read'], jwks: [key.publicJwk] }],
  });
  const admin = new Redis(server.port, '127.0.0.1');
  connections.push(admin);
  await admin.flushall();
  await admin.config('RESETSTAT');
  const clients: MaskinportenClient[] = Array.from({ length: replicas }, () => {
    const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    connections.push(redis);
    return createMaskinportenClient({
      clientId: 'refresh', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'refresh:read', clock,
      // No jitter, so every replica (and the run without Redis) refreshes at the same point; one
      // attempt per fetch, so an outage is a prompt failure.
      cache: withRedis
        ? { jitter: 0, store: createRedisTokenStore({ redis, encryptionKey: Buffer.alloc(32, 7), clock, operationTimeout: 5_000 }) }
        : { jitter: 0 },
      transport: { maxAttempts: 1 },
    });
  });
  const outcomes: Outcome[][] = clients.map(() => []);
  const tokenRequestTicks: number[] = [];
  const getTicks: number[] = [];
  let healthy = 0;
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.cacheMiss, missed);
  try {
    for (let at = 0; at < RUN_MS; at += STEP_MS) {
      now = t0 + at;
      if (at === OUTAGE_FROM_MS) {
        healthy = sim.tokenRequestCount();
        sim.inject({ kind: 'status', status: 503 }, { times: Infinity });
      }
      const requestsBefore = sim.tokenRequestCount();
      const getsBefore = withRedis ? await redisGets(admin) : 0;
      // All replicas call at once; the miss event is published synchronously inside getToken().
      const calls = clients.map((client) => {
        const before = misses;
        const call = client.getToken();
        return { waited: misses > before, call };
      });
      for (const [i, { waited, call }] of calls.entries()) {
        const ok = await call.then(() => true, () => false);
        outcomes[i]!.push(waited ? (ok ? 'wait' : 'wait-failed') : ok ? 'hit' : 'hit-failed');
      }
      await settle();
      if (sim.tokenRequestCount() > requestsBefore) tokenRequestTicks.push(at);
      if (withRedis && (await redisGets(admin)) > getsBefore) getTicks.push(at);
    }
    return {
      outcomes,
      tokenRequestTicks,
      tokenRequests: { healthy, total: sim.tokenRequestCount() },
      getTicks,
      gets: withRedis ? await redisGets(admin) : 0,
    };
  } finally {
    diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.cacheMiss, missed);
    for (const client of clients) await client.close();
    await sim.close();
  }
}

const count = (outcomes: Outcome[], ...kinds: Outcome[]) => outcomes.filter((o) => kinds.includes(o)).length;
const firstFailureMs = (outcomes: Outcome[]) => outcomes.findIndex((o) => o.endsWith('failed')) * STEP_MS;

it('with Redis, refresh-ahead works as without it: same waits, same failures in an outage, Redis read only when a fetch is due', async () => {
  const alone = await run(1, false);
  const shared = await run(1, true);
  const [baseline] = alone.outcomes as [Outcome[]];
  const [withRedis] = shared.outcomes as [Outcome[]];
  const summary = (o: Outcome[]) => ({ calls: o.length, waits: count(o, 'wait', 'wait-failed'), failed: count(o, 'wait-failed', 'hit-failed'), firstFailureMs: firstFailureMs(o) });
  console.log('refresh-ahead, one process', JSON.stringify({
    withoutRedis: { ...summary(baseline), tokenRequests: alone.tokenRequests },
    withRedis: { ...summary(withRedis), tokenRequests: shared.tokenRequests, gets: shared.gets, ticksWithGets: shared.getTicks.length },
  }));

  // Without Redis: the token got at 0 s is refreshed ahead at 10 s (half its lifetime) with no
  // caller waiting; the outage from 12 s is felt only inside the new token's safety margin, from
  // 25 s (its expiry at 30 s minus 5 s).
  expect(baseline.slice(1, 25_000 / STEP_MS).every((o) => o === 'hit')).toBe(true);
  expect(baseline[0]).toBe('wait');
  expect(firstFailureMs(baseline)).toBe(25_000);
  expect(alone.tokenRequestTicks.filter((at) => at < OUTAGE_FROM_MS)).toEqual([0, 10_000]);

  // With Redis: call for call the same, the same token requests at the same moments, and Redis
  // read exactly when a token request is due: never on a hit, nor on every call once a refresh is.
  expect(withRedis).toEqual(baseline);
  expect(shared.tokenRequestTicks).toEqual(alone.tokenRequestTicks);
  expect(shared.tokenRequests).toEqual(alone.tokenRequests);
  expect(shared.getTicks).toEqual(alone.tokenRequestTicks);
}, 120_000);

it('two replicas sharing Redis each behave as one process without it, and renew ahead with one token request for both', async () => {
  const alone = await run(1, false);
  const fleet = await run(2, true);
  const [baseline] = alone.outcomes as [Outcome[]];
  console.log('refresh-ahead, two replicas', JSON.stringify({
    replicas: fleet.outcomes.map((o) => ({ waits: count(o, 'wait', 'wait-failed'), failed: count(o, 'wait-failed', 'hit-failed'), firstFailureMs: firstFailureMs(o) })),
    tokenRequests: fleet.tokenRequests,
    gets: fleet.gets,
    ticksWithGets: fleet.getTicks.length,
  }));
  for (const outcomes of fleet.outcomes) expect(outcomes).toEqual(baseline);
  // Before the outage: the cold start and the renewal at 10 s, once each for the fleet.
  expect(fleet.tokenRequestTicks.filter((at) => at < OUTAGE_FROM_MS)).toEqual([0, 10_000]);
  expect(fleet.tokenRequests.healthy).toBe(alone.tokenRequests.healthy);
  expect(fleet.getTicks).toEqual(alone.tokenRequestTicks);
}, 120_000);

it('replicas that start when the shared token is inside their safety margin get a newer one, once for the fleet, and then stop reading Redis', async () => {
  let now = Date.now();
  const clock: Clock = { now: () => now };
  const sim = await startMaskinportenSimulator({
    clock,
    tokenLifetimeSeconds: 120,
    clients: [{ clientId: 'refresh', orgno: '991825827', scopes: ['refresh:read'], jwks: [key.publicJwk] }],
  });
  const admin = new Redis(server.port, '127.0.0.1');
  connections.push(admin);
  await admin.flushall();
  const replica = () => {
    const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    connections.push(redis);
    return createMaskinportenClient({
      clientId: 'refresh', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'refresh:read', clock,
      cache: { jitter: 0, store: createRedisTokenStore({ redis, encryptionKey: Buffer.alloc(32, 7), clock, operationTimeout: 5_000 }) },
    });
  };
  const early = replica();
  const late = [replica(), replica()];
  try {
    const old = await early.getToken();
    // 10 s left of 120: above the 5 s floor, inside the 12 s margin (10 % of the lifetime). Taking
    // this token would make it due again at once, and every call would read Redis until it expired.
    now += 110_000;
    const got = await Promise.all(late.map((c) => c.getToken()));
    expect(got[0]!.accessToken).not.toBe(old.accessToken);
    expect(got[1]!.accessToken).toBe(got[0]!.accessToken);
    expect(sim.tokenRequestCount()).toBe(2); // the early replica's, then one for both late ones
    const gets = await redisGets(admin);
    for (let i = 0; i < 50; i++) for (const c of late) expect((await c.getToken()).accessToken).toBe(got[0]!.accessToken);
    expect(await redisGets(admin)).toBe(gets);
  } finally {
    for (const c of [early, ...late]) await c.close();
    await sim.close();
  }
});
