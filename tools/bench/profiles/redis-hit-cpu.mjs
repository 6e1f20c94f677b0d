// The CPU of a Redis hit without the round trip (docs/performance.md, "What the figures above
// their goals are made of"): createRedisTokenStore() on a Redis stand-in that answers from memory
// at once. "hit": a new client reads 250 tokens another client stored (as redis.bench.mjs does);
// "floor": the AES-256-GCM open and JSON.parse of the same values, by hand. Prints µs per call
// for 6 rounds of 1.5 s. Add --cpu-prof --cpu-prof-dir=prof to node's flags for a profile.
//
//   node tools/bench/profiles/redis-hit-cpu.mjs hit
//   node tools/bench/profiles/redis-hit-cpu.mjs floor
import { randomBytes } from 'node:crypto';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { openerByHand } from '../redis-fixture.mjs';

const mode = process.argv[2] ?? 'hit';
const data = new Map();
const standIn = {
  status: 'ready',
  on() {},
  listenerCount: () => 1,
  get: async (k) => data.get(k) ?? null,
  set: async (k, v) => {
    data.set(k, v);
    return 'OK';
  },
  eval: async () => 0,
};
const KEYS = 250;
const scopes = Array.from({ length: KEYS }, (_, i) => `fleet:s${i}`);
const key = generateClientKey({ kid: 'bench' });
const encryptionKey = randomBytes(32).toString('base64');
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'fleet', orgno: '991825827', scopes: ['fleet:read', ...scopes], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const replica = () => createMaskinportenClient({ clientId: 'fleet', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'fleet:read', cache: { store: createRedisTokenStore({ redis: standIn, encryptionKey }) } });
const writer = replica();
for (const scope of scopes) await writer.getToken({ scope });
await writer.close();

const keys = [...data.keys()].filter((k) => !k.endsWith(':lock'));
const openByHand = openerByHand(encryptionKey);
for (let round = 0; round < 6; round++) {
  let ms = 0;
  let calls = 0;
  const end = performance.now() + 1500;
  while (performance.now() < end) {
    if (mode === 'hit') {
      const fresh = replica();
      const t0 = performance.now();
      for (const scope of scopes) await fresh.getToken({ scope });
      ms += performance.now() - t0;
      await fresh.close();
    } else {
      const t0 = performance.now();
      for (const k of keys) JSON.parse(openByHand(k, await standIn.get(k)));
      ms += performance.now() - t0;
    }
    calls += KEYS;
  }
  console.log(`${mode}: ${((ms * 1000) / calls).toFixed(2)} µs per call (${calls} calls)`);
}
await sim.close();
