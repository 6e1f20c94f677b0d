// A store whose ioredis client is still connecting (a process that has just started, or a
// reconnect) waits for it to be ready instead of failing its first command and fetching alone.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskinportenClient } from '@portvakt/core';
import type { StoredToken } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createRedisTokenStore } from '@portvakt/redis';
import { IOREDIS_MAJOR, buildPackages, runFleet } from './fleet.js';
import { freePort, startRedisServer, startSilentServer } from './redis-server.js';
import type { RedisServer } from './redis-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const key = generateClientKey({ kid: 'fleet-key' });
// The README's ioredis settings.
const README_SETTINGS = { maxRetriesPerRequest: 1, enableOfflineQueue: false } as const;
let server: RedisServer;
let sim: MaskinportenSimulator;
const connections: Redis[] = [];
const connect = (port: number, extra: RedisOptions = {}) => {
  const r = new Redis(port, '127.0.0.1', { ...README_SETTINGS, ...extra });
  r.on('error', () => undefined);
  connections.push(r);
  return r;
};
const token = (value: string, ttlMs = 120_000): StoredToken => ({ accessToken: value, tokenType: 'Bearer', expiresAt: Date.now() + ttlMs, issuedAt: Date.now(), scope: 's' });
const never = async (): Promise<StoredToken> => {
  throw new Error('fetch must not be called: the shared token is in Redis');
};

beforeAll(async () => {
  server = await startRedisServer();
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'fleet', orgno: '991825827', scopes: ['fleet:read'], jwks: [key.publicJwk] }] });
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await sim.close();
  await server.stop();
});

describe('freshly started processes on the built packages, with the README settings', () => {
  beforeAll(() => {
    buildPackages();
  }, 120_000);

  it('8 processes with 200 concurrent cold callers each make exactly 1 token request', async () => {
    sim.reset();
    // A generous operation timeout keeps this test about single-flight: on a loaded machine a
    // 200 ms budget can run out and (correctly) make a replica fetch on its own.
    const results = await runFleet(8, { sim, privateJwk: key.privateJwk, redis: server.port, callers: 200, rounds: 1, operationTimeout: 2_000 });
    expect(new Set(results.map((r) => r.ioredis.split('.')[0]))).toEqual(new Set([IOREDIS_MAJOR]));
    // Every replica called while its client was still connecting.
    expect(results.map((r) => r.statusAtFirstCall).filter((s) => s === 'ready')).toEqual([]);
    expect(results.map((r) => r.failed)).toEqual(Array(8).fill(0));
    expect(results.reduce((n, r) => n + r.ok, 0)).toBe(1600);
    expect(sim.tokenRequestCount()).toBe(1);
  }, 120_000);

  // On ioredis 6 the in-process tests below (a Redis that never answers, one stopped mid-run in
  // redis.test.ts) cover a client that never gets ready; these 16 process starts would only add time.
  it.skipIf(IOREDIS_MAJOR === '6')('with nothing listening on the Redis port, every call succeeds: each process fetches for itself, round after round', async () => {
    sim.reset();
    const results = await runFleet(8, { sim, privateJwk: key.privateJwk, redis: await freePort(), callers: 200, rounds: 2, operationTimeout: 'default' });
    expect(results.map((r) => r.failed)).toEqual(Array(8).fill(0));
    expect(results.reduce((n, r) => n + r.ok, 0)).toBe(3200);
    // One fetch per process and round: the store fell back instead of failing or fetching per caller.
    expect(sim.tokenRequestCount()).toBe(16);
  }, 120_000);
  // The example imports 'ioredis', which is 5 outside Vitest's alias: it runs in the 5 project only.
  it.skipIf(IOREDIS_MAJOR === '6')('runs the README example as printed: one token request, the token masked in the output and sealed in Redis', async () => {
    const readme = readFileSync(path.join(here, '../README.md'), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    sim.reset();
    const raw = connect(server.port, { enableOfflineQueue: true });
    await raw.flushall();
    const { status, stdout, stderr } = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', example!], {
        cwd: path.join(here, '..'),
        env: {
          PATH: process.env.PATH,
          REDIS_URL: `redis://127.0.0.1:${server.port}`,
          MASKINPORTEN_CLIENT_ID: 'fleet',
          MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk),
          MASKINPORTEN_SCOPES: 'fleet:read',
          MASKINPORTEN_ISSUER: sim.issuer,
          MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint,
          PORTVAKT_TOKEN_KEY: Buffer.alloc(32, 9).toString('base64'),
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      child.once('exit', (code) => resolve({ status: code, stdout: out, stderr: err }));
    });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^\[AccessToken Bearer /);
    expect(stdout).not.toContain('eyJ');
    expect(sim.tokenRequestCount()).toBe(1);
    const written = (await raw.keys('portvakt:token:*')).filter((k) => !k.endsWith(':lock'));
    expect(written).toHaveLength(1);
    expect(await raw.get(written[0]!)).toMatch(/^v1\./);
  }, 60_000);
});

describe('one store on a client that is not ready yet', () => {
  it('starts a lazyConnect client and reads the shared token once it is ready', async () => {
    const writer = createRedisTokenStore({ redis: connect(server.port, { enableOfflineQueue: true }) });
    await writer.load('lazy', async () => token('eyJlazy'), { minValidUntil: Date.now() });
    const lazy = connect(server.port, { lazyConnect: true });
    expect(lazy.status).toBe('wait');
    const got = await createRedisTokenStore({ redis: lazy, operationTimeout: 5_000 }).load('lazy', never, { minValidUntil: Date.now() });
    expect(got.accessToken).toBe('eyJlazy');
  });

  it('waits for a reconnecting client and reads the token another process wrote meanwhile', async () => {
    const port = await freePort();
    const first = await startRedisServer({ port });
    const redis = connect(port, { retryStrategy: () => 300 });
    await new Promise((resolve) => redis.once('ready', resolve));
    const reconnecting = new Promise((resolve) => redis.once('reconnecting', resolve));
    await first.stop();
    await reconnecting;
    const second = await startRedisServer({ port });
    try {
      const other = connect(port, { enableOfflineQueue: true });
      await createRedisTokenStore({ redis: other }).load('again', async () => token('eyJagain'), { minValidUntil: Date.now() });
      expect(redis.status).not.toBe('ready');
      const got = await createRedisTokenStore({ redis, operationTimeout: 5_000 }).load('again', never, { minValidUntil: Date.now() });
      expect(got.accessToken).toBe('eyJagain');
    } finally {
      await second.stop();
    }
  });

  it('a Redis that never answers: every load gives up after operationTimeout and fetches, call after call', async () => {
    const silent = await startSilentServer();
    try {
      const redis = connect(silent.port);
      const client = createMaskinportenClient({
        clientId: 'fleet', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'fleet:read',
        cache: { store: createRedisTokenStore({ redis, operationTimeout: 50 }) },
      });
      sim.reset();
      let failed = 0;
      for (let round = 0; round < 5; round++) {
        const batch = await Promise.allSettled(Array.from({ length: 20 }, () => client.getToken()));
        failed += batch.filter((r) => r.status === 'rejected').length;
        const got = batch.find((r) => r.status === 'fulfilled');
        if (got) client.invalidate(got.value); // the next round loads through the store again
      }
      expect(failed).toBe(0);
      expect(sim.tokenRequestCount()).toBe(5);
      expect(redis.status).not.toBe('ready');
      await client.close();
    } finally {
      await silent.stop();
    }
  });

  it("stops waiting for a client that is not ready when the caller's signal aborts, and fetches", async () => {
    const silent = await startSilentServer();
    try {
      // Only the abort can end this wait before the test times out.
      const store = createRedisTokenStore({ redis: connect(silent.port), operationTimeout: 600_000 });
      const controller = new AbortController();
      const loading = store.load('aborted', async () => token('eyJown'), { minValidUntil: Date.now(), signal: controller.signal });
      setImmediate(() => controller.abort());
      expect((await loading).accessToken).toBe('eyJown');
    } finally {
      await silent.stop();
    }
  });
});
