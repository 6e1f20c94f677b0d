// Where the time of a Redis hit goes over a real socket (docs/performance.md, "What is left above
// the floor"): a real redis-server on a loopback port, 250 tokens one client stored, then 40
// rounds in alternating order of each mode, µs per key (the median and the lowest round after 5
// warm-up rounds):
//   floor    a raw GET of each value and one AES-256-GCM open of it, by hand
//   store    createRedisTokenStore().load() of each key, called directly
//   client   a new client's getToken({ scope }) of each scope (what redis.bench.mjs times)
//   wrapped  the same as client, with the time spent inside store.load() summed on the side
//
//   node tools/bench/profiles/redis-hit-split.mjs            # every mode
//   node tools/bench/profiles/redis-hit-split.mjs floor client
import { randomBytes } from 'node:crypto';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { openerByHand, startRedisServer } from '../redis-fixture.mjs';

const { redis, stop } = await startRedisServer();
const KEYS = 250;
const scopes = Array.from({ length: KEYS }, (_, i) => `fleet:s${i}`);
const key = generateClientKey({ kid: 'bench' });
const encryptionKey = randomBytes(32).toString('base64');
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'fleet', orgno: '991825827', scopes: ['fleet:read', ...scopes], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
let inLoad = 0;
const timedLoads = (store) => ({ ...store, load: async (...args) => { const t = performance.now(); try { return await store.load(...args); } finally { inLoad += performance.now() - t; } } });
const replica = (timed = false) => {
  const store = createRedisTokenStore({ redis, encryptionKey });
  return createMaskinportenClient({ clientId: 'fleet', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'fleet:read', cache: { store: timed ? timedLoads(store) : store } });
};
const writer = replica();
for (const scope of scopes) await writer.getToken({ scope });
await writer.close();

const dataKeys = (await redis.keys('portvakt:token:*')).filter((k) => !k.endsWith(':lock'));
const storeKeys = dataKeys.map((k) => k.slice('portvakt:token:{'.length, -1));
const store = createRedisTokenStore({ redis, encryptionKey });
const openByHand = openerByHand(encryptionKey);
const never = () => { throw new Error('a miss: every key was stored'); };
const inLoadPerKey = [];
const modes = {
  floor: async () => { const t0 = performance.now(); for (const k of dataKeys) openByHand(k, await redis.get(k)); return performance.now() - t0; },
  store: async () => { const t0 = performance.now(); for (const k of storeKeys) await store.load(k, never, { minValidUntil: 0 }); return performance.now() - t0; },
  client: async () => { const fresh = replica(); const t0 = performance.now(); for (const scope of scopes) await fresh.getToken({ scope }); const ms = performance.now() - t0; await fresh.close(); return ms; },
  wrapped: async () => { const fresh = replica(true); inLoad = 0; const t0 = performance.now(); for (const scope of scopes) await fresh.getToken({ scope }); const ms = performance.now() - t0; await fresh.close(); inLoadPerKey.push((inLoad * 1000) / KEYS); return ms; },
};
const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(modes);
const perKey = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < 40; round++) for (const n of round % 2 ? [...names].reverse() : names) perKey[n].push((await modes[n]()) * 1000 / KEYS);
const summary = (values) => { const a = values.slice(5).sort((x, y) => x - y); return `median ${a[a.length >> 1].toFixed(1)} µs, lowest ${a[0].toFixed(1)} µs`; };
for (const n of names) console.log(`${n.padEnd(8)} ${summary(perKey[n])} per key`);
if (inLoadPerKey.length > 5) console.log(`wrapped: inside store.load() ${summary(inLoadPerKey)} per key`);
await sim.close();
stop();
