// Cache-hit getToken() against a hand-written Map lookup with an expiry check, awaited like
// getToken (goals: at most 3x the baseline's time per call; with an explicit scope, at most 1.2x).
import { createMaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { asyncLoop, createBench } from './harness.mjs';

const bench = createBench('cache-hit', 'a warm getToken() against Map.get + expiry check');
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
await client.getToken();

const map = new Map([['bench:a', { token: 'x', expiresAt: Date.now() + 3_600_000 }]]);
async function handWritten() {
  const e = map.get('bench:a');
  if (e && e.expiresAt > Date.now()) return e.token;
  throw new Error('miss');
}
const N = 10_000; // per slice; 20 slices a round
const scoped = { scope: 'bench:a' };
await bench.compare({
  baseline: { label: 'Map.get + expiry check (awaited)', run: asyncLoop(handWritten, N) },
  subjects: [
    { label: 'client.getToken() cache hit', run: asyncLoop(() => client.getToken(), N), figure: 'cache-hit getToken() vs Map.get', goal: { max: 3 } },
    { label: "client.getToken({ scope: 'bench:a' }) cache hit", run: asyncLoop(() => client.getToken(scoped), N), figure: 'cache-hit getToken({ scope }) vs Map.get', goal: { max: 1.2 } },
  ],
  ops: N,
  chunks: 20,
  kind: 'time',
  rounds: 9,
  warmup: 2,
});
if (sim.tokenRequestCount() !== 1) throw new Error(`expected 1 token request, saw ${sim.tokenRequestCount()}`);
await client.close();
await sim.close();
bench.finish();
