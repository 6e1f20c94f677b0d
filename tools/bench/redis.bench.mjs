// @portvakt/redis as users configure it: createRedisTokenStore({ redis, encryptionKey }) (a
// base64 key, as from an environment variable; every other option at its default), behind the
// client as `cache: { store }`. Starts its own redis-server on a free loopback port.
//
// 1. A Redis hit against an in-process hit, both through client.getToken(): a fresh client (an
//    empty in-process cache, like a new replica) gets 250 tokens another replica already put in
//    Redis (GET + AES-256-GCM open each), against a warm client serving the same 250 from memory.
//    In the same rounds, the floor of a Redis hit: a raw GET of each of the same 250 values and
//    one AES-256-GCM open of it, written by hand with ioredis and node:crypto (goal: a hit
//    through getToken() costs at most 1.3x that).
// 2. The fleet: 8 processes x 200 concurrent cold callers -> token requests (goal: 1).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { createBench, nowMs } from './harness.mjs';
import { openerByHand, startRedisServer } from './redis-fixture.mjs';

if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
  console.log('redis-server not installed: skipping the Redis benchmark (apt-get install redis-server)');
  process.exit(0);
}
const bench = createBench('redis', 'the Redis token store behind the client, with encryptionKey');
const { port, redis, stop } = await startRedisServer();

const KEYS = 250;
const scopes = Array.from({ length: KEYS }, (_, i) => `fleet:s${i}`);
const key = generateClientKey({ kid: 'bench' });
const encryptionKey = randomBytes(32).toString('base64');
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'fleet', orgno: '991825827', scopes: ['fleet:read', ...scopes], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const replica = () => createMaskinportenClient({
  clientId: 'fleet',
  environment: sim.environment(),
  key: { jwk: key.privateJwk },
  scope: 'fleet:read',
  cache: { store: createRedisTokenStore({ redis, encryptionKey }) },
});

// One replica fills Redis; a warm one holds the same tokens in memory.
const writer = replica();
for (const scope of scopes) await writer.getToken({ scope });
await writer.close();
const warm = replica();
for (const scope of scopes) await warm.getToken({ scope });
const fetchedBefore = sim.tokenRequestCount();
const stored = (await redis.keys('*')).length;
const sample = await redis.get((await redis.keys('portvakt:token:*'))[0] ?? '');
bench.log(`${KEYS} tokens in Redis (${stored} keys); a stored value ${sample && !sample.includes('eyJ') ? 'is sealed (no JWT text in it)' : 'IS NOT SEALED'}`);

// The floor: what a replica written by hand does for each of those tokens. The value's format is
// the store's (`v1.<iv>.<ciphertext>.<tag>`, base64url, the Redis key as associated data).
const dataKeys = (await redis.keys('portvakt:token:*')).filter((k) => !k.endsWith(':lock'));
if (dataKeys.length !== KEYS) throw new Error(`${dataKeys.length} token keys in Redis, expected ${KEYS}`);
const openByHand = openerByHand(encryptionKey);
let opened = 0;
for (const k of dataKeys) if (JSON.parse(openByHand(k, await redis.get(k))).accessToken) opened += 1;
bench.log(`the floor opens all ${opened} values by hand`);

let redisServed = 0;
const [hit, floor] = await bench.compare({
  baseline: {
    label: 'in-process hit (warm client)',
    // 10 passes over the 250 keys, reported per pass: one pass takes a tenth of a millisecond,
    // too short to time on a busy machine.
    run: async () => {
      const t0 = nowMs();
      for (let pass = 0; pass < 10; pass++) for (const scope of scopes) await warm.getToken({ scope });
      return (nowMs() - t0) / 10;
    },
  },
  subjects: [{
    label: 'Redis hit (new client: GET + AES-256-GCM open)',
    run: async () => {
      const fresh = replica();
      const t0 = nowMs();
      for (const scope of scopes) await fresh.getToken({ scope });
      const ms = nowMs() - t0;
      await fresh.close();
      redisServed += KEYS;
      return ms;
    },
    figure: 'Redis hit vs in-process hit, through getToken()',
  }, {
    label: 'raw GET + one AES-256-GCM open, by hand',
    run: async () => {
      let bytes = 0;
      const t0 = nowMs();
      for (const k of dataKeys) bytes += openByHand(k, await redis.get(k)).length;
      const ms = nowMs() - t0;
      if (bytes === 0) throw new Error('nothing opened');
      return ms;
    },
    figure: 'raw GET + AES-GCM open vs in-process hit',
  }],
  ops: KEYS,
  chunks: 4,
  kind: 'time',
  rounds: 5,
});
if (sim.tokenRequestCount() !== fetchedBefore) throw new Error(`the Redis side fetched ${sim.tokenRequestCount() - fetchedBefore} tokens instead of reading Redis`);
bench.log(`${redisServed.toLocaleString('en')} getToken() calls served from Redis, 0 token requests`);
// The same rounds as the ratio above, as the latency a Redis hit adds to a call.
await bench.sample({
  figure: 'Redis hit: added latency per getToken() over an in-process hit',
  unit: 'µs',
  run: async (r) => ((hit.subject.perRoundMs[r] - hit.baseline.perRoundMs[r]) * 1000) / hit.subject.ops,
});
// The same rounds once more, as the ratio the goal is about: a Redis hit through getToken()
// against the raw GET and open of the same values, round by round.
await bench.sample({
  figure: 'Redis hit through getToken() vs raw GET + AES-GCM open of the same value',
  unit: 'x time',
  run: (r) => hit.subject.perRoundMs[r] / floor.subject.perRoundMs[r],
  goal: { max: 1.3 },
});
await warm.close();

// 2. The fleet.
const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, 'redis-fleet-child.mjs');
const PROCESSES = 8;
const CALLERS = 200;
const runFleet = async () => {
  sim.reset();
  await redis.flushall();
  const results = await Promise.all(Array.from({ length: PROCESSES }, () => new Promise((resolve) => {
    const c = spawn(process.execPath, [child, sim.issuer, sim.tokenEndpoint, String(port), String(CALLERS)], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk), TOKEN_ENCRYPTION_KEY: encryptionKey },
    });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.on('exit', () => resolve(JSON.parse(out || `{"ok":0,"failed":${CALLERS}}`)));
  })));
  const failed = results.reduce((n, r) => n + r.failed, 0);
  return { value: sim.tokenRequestCount(), detail: `${results.reduce((n, r) => n + r.ok, 0)} calls, ${failed} failed, ${sim.tokenRequestCount()} token request(s)` };
};
await bench.sample({ figure: `redis fleet: token requests for ${PROCESSES} processes x ${CALLERS} cold callers`, unit: 'requests', run: runFleet, goal: { max: 1 } });

await sim.close();
stop();
bench.finish();
