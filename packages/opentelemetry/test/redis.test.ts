// The Redis store's hits, misses and lock waits, from @portvakt/redis's channels, against a real
// redis-server and the simulator.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { instrumentPortvakt, PORTVAKT_ATTRIBUTES as A, PORTVAKT_METRICS as M } from '@portvakt/opentelemetry';
import type { PortvaktInstrumentation } from '@portvakt/opentelemetry';
// The Redis package's own test server: a real redis-server on a free loopback port.
import { freePort, startRedisServer as startRedis } from '../../redis/test/redis-server.ts';
import { clientFor, startSim } from './simulator.ts';
import { startTelemetry } from './telemetry.ts';
import type { Telemetry } from './telemetry.ts';

let server: Awaited<ReturnType<typeof startRedis>>;
let sim: MaskinportenSimulator;
let telemetry: Telemetry;
let instrumentation: PortvaktInstrumentation;
const connections: Redis[] = [];
const clients: MaskinportenClient[] = [];

beforeAll(async () => {
  server = await startRedis();
  sim = await startSim();
});
afterAll(async () => {
  await sim.close();
  await server.stop();
});
beforeEach(() => {
  telemetry = startTelemetry();
  instrumentation = instrumentPortvakt({ meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
});
afterEach(async () => {
  instrumentation.uninstrument();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  connections.splice(0).forEach((r) => r.disconnect());
  await telemetry.shutdown();
});

/** A client of the simulator whose store is Redis at `port`, under its own key prefix. */
function replica(port: number, keyPrefix: string): MaskinportenClient {
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
  connections.push(redis);
  const store = createRedisTokenStore({ redis, keyPrefix, encryptionKey: randomBytesFor(keyPrefix), operationTimeout: 300 });
  const client = clientFor(sim, { cache: { store } });
  clients.push(client);
  return client;
}

const keys = new Map<string, Buffer>();
/** One encryption key per prefix, shared by that prefix's replicas. */
function randomBytesFor(prefix: string): Buffer {
  if (!keys.has(prefix)) keys.set(prefix, randomBytes(32));
  return keys.get(prefix)!;
}

describe('the Redis store', () => {
  it('counts a fleet-wide miss, then a hit for the next replica', async () => {
    const prefix = 'otel-a:';
    await replica(server.port, prefix).getToken();
    await replica(server.port, prefix).getToken();
    expect(await telemetry.points(M.redisMisses)).toEqual([{ attributes: { [A.redisKeyPrefix]: prefix, [A.redisMissReason]: 'absent' }, value: 1 }]);
    expect(await telemetry.points(M.redisHits)).toEqual([{ attributes: { [A.redisKeyPrefix]: prefix, [A.redisWaited]: false }, value: 1 }]);
  });

  it("counts a replica's wait for another replica's fetch, and how long it waited", async () => {
    const prefix = 'otel-b:';
    const [first, second] = [replica(server.port, prefix), replica(server.port, prefix)];
    sim.inject({ kind: 'delay', ms: 300 }, { times: 1 });
    const [a, b] = await Promise.all([first.getToken(), second.getToken()]);
    expect(a.accessToken).toBe(b.accessToken);
    const outcome = { [A.redisKeyPrefix]: prefix, [A.redisLockOutcome]: 'token' };
    expect(await telemetry.points(M.redisLockWaits)).toEqual([{ attributes: outcome, value: 1 }]);
    const [wait] = await telemetry.points(M.redisLockWaitDuration);
    expect(wait).toMatchObject({ attributes: outcome, value: 1 });
    expect(wait?.sum).toBeGreaterThan(0);
    expect(await telemetry.points(M.redisHits)).toEqual([{ attributes: { [A.redisKeyPrefix]: prefix, [A.redisWaited]: true }, value: 1 }]);
  });

  it('counts a miss for an unavailable Redis, and the fetch still succeeds', async () => {
    const prefix = 'otel-c:';
    const downPort = await freePort(); // nothing listens there
    const token = await replica(downPort, prefix).getToken();
    expect(token.tokenType).toBe('Bearer');
    expect(await telemetry.points(M.redisMisses)).toEqual([{ attributes: { [A.redisKeyPrefix]: prefix, [A.redisMissReason]: 'unavailable' }, value: 1 }]);
  });
});
