// The store on a real 3-node Redis Cluster through ioredis' Cluster client: a fleet of freshly
// started processes makes one token request per key. Each of the store's commands and scripts
// names one key, and a token and its lock share a hash tag, so nothing crosses a slot.
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createRedisTokenStore, valkeyOptions } from '@portvakt/redis';
import { IOREDIS_MAJOR, buildPackages, runFleet } from './fleet.js';
import { startRedisCluster } from './redis-server.js';
import type { RedisCluster } from './redis-server.js';

const key = generateClientKey({ kid: 'cluster-key' });
const SCOPES = ['fleet:read', 'fleet:write', 'fleet:admin'];
let cluster: RedisCluster;
let sim: MaskinportenSimulator;
const nodes: Redis[] = [];

beforeAll(async () => {
  buildPackages();
  cluster = await startRedisCluster(3);
  for (const port of cluster.ports) nodes.push(new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'fleet', orgno: '991825827', scopes: SCOPES, jwks: [key.publicJwk] }] });
}, 120_000);
afterAll(async () => {
  for (const n of nodes) n.disconnect();
  await sim?.close();
  await cluster?.stop();
});

it('is a cluster of 3 masters that share the slots', async () => {
  const info = await nodes[0]!.cluster('INFO');
  expect(info).toMatch(/cluster_state:ok/);
  expect(info).toMatch(/cluster_size:3/);
});

it('4 processes with 150 cold callers each over 3 scopes make exactly 1 token request per scope', async () => {
  sim.reset();
  const results = await runFleet(4, { sim, privateJwk: key.privateJwk, redis: `cluster:${cluster.ports.join(',')}`, callers: 150, rounds: 1, operationTimeout: 2_000, scopes: SCOPES.join(' ') });
  expect(new Set(results.map((r) => r.ioredis.split('.')[0]))).toEqual(new Set([IOREDIS_MAJOR]));
  expect(results.map((r) => r.failed)).toEqual(Array(4).fill(0));
  expect(results.reduce((n, r) => n + r.ok, 0)).toBe(600);
  expect(results.map((r) => r.tokens)).toEqual(Array(4).fill(3));
  expect(sim.tokenRequestCount()).toBe(3);
  // One sealed value per scope in the cluster, no lock left behind.
  const keys = (await Promise.all(nodes.map((n) => n.keys('portvakt:token:*')))).flat();
  expect(keys).toHaveLength(3);
  expect(keys.filter((k) => k.endsWith(':lock'))).toEqual([]);
}, 120_000);

it('a token and its lock hash to one slot, with the default prefix and with one of your own, through a Cluster made as docs/redis.md shows', async () => {
  const { host, port, ...redisOptions } = valkeyOptions(`valkey://127.0.0.1:${cluster.ports[0]}`);
  const cluster3 = new Cluster([{ host, port }], { redisOptions: { ...redisOptions, maxRetriesPerRequest: 1 }, enableOfflineQueue: false });
  try {
    for (const prefix of ['portvakt:token:', 'app:{tenant-7}:', 'odd}{prefix:']) {
      // The first load waits for the Cluster to find its slots (offline queue off, as the guide says).
      const store = createRedisTokenStore({ redis: cluster3, keyPrefix: prefix, operationTimeout: 5_000 });
      const k = 'c0ffee'.repeat(10);
      let fetched = 0;
      const got = await store.load(k, async () => (fetched++, { accessToken: 'eyJslot', tokenType: 'Bearer', expiresAt: Date.now() + 60_000, issuedAt: Date.now(), scope: 's' }), { minValidUntil: Date.now() });
      expect(got.accessToken).toBe('eyJslot');
      expect(fetched).toBe(1);
      const [dataSlot, lockSlot] = await Promise.all([`${prefix}{${k}}`, `${prefix}{${k}}:lock`].map((name) => nodes[0]!.cluster('KEYSLOT', name)));
      expect(lockSlot).toBe(dataSlot);
      // The value was written where the cluster keeps that slot, and the store reads it back.
      expect(await cluster3.exists(`${prefix}{${k}}`)).toBe(1);
      expect((await store.load(k, async () => { throw new Error('must come from Redis'); }, { minValidUntil: Date.now() })).accessToken).toBe('eyJslot');
    }
  } finally {
    cluster3.disconnect();
  }
});
