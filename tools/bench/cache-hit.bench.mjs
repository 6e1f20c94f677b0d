// Cache-hit getToken() against a hand-written Map lookup with an expiry check (goal: <= 3x).
import { createMaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { measure, report } from './lib.mjs';

const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
await client.getToken();

const map = new Map([['bench:a', { token: 'x', expiresAt: Date.now() + 3_600_000 }]]);
async function baseline() {
  const e = map.get('bench:a');
  if (e && e.expiresAt > Date.now()) return e.token;
  throw new Error('miss');
}
const N = 1_000_000;
const base = await measure('Map.get + expiry check (awaited)', N, baseline);
const ours = await measure('client.getToken() cache hit', N, () => client.getToken());
const scoped = await measure("client.getToken({ scope: 'bench:a' }) cache hit", N, () => client.getToken({ scope: 'bench:a' }));
report([base, ours, scoped], base, { goal: 'at most 3x the baseline time per op' });
await client.close();
await sim.close();
