// A cache hit of the NAIS Texas token source against a cache hit of the Maskinporten client, in
// the same run (goal: at most 1.1x the client's time per call). Both use core's one cache and
// slot table; the Texas source gets its tokens from the simulator's Texas, the client signs its own.
import { createMaskinportenClient, createTexasTokenSource } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { asyncLoop, createBench } from './harness.mjs';

const bench = createBench('texas', 'a Texas token source cache hit against a Maskinporten client cache hit');
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({
  clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }],
  texas: { client: 'bench' },
  tokenLifetimeSeconds: 3600,
});
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
const texas = createTexasTokenSource({ endpoint: sim.texas.tokenEndpoint, scope: 'bench:a' });
await client.getToken();
await texas.getToken();

const N = 10_000; // per slice; 20 slices a round
await bench.compare({
  baseline: { label: 'Maskinporten client getToken() cache hit', run: asyncLoop(() => client.getToken(), N) },
  subjects: [{ label: 'Texas token source getToken() cache hit', run: asyncLoop(() => texas.getToken(), N), figure: 'Texas cache hit vs core cache hit', goal: { max: 1.1 } }],
  ops: N,
  chunks: 20,
  kind: 'time',
  rounds: 9,
  warmup: 2,
});
if (sim.texas.tokenRequestCount() !== 1) throw new Error(`expected 1 Texas request, saw ${sim.texas.tokenRequestCount()}`);
await texas.close();
await client.close();
await sim.close();
bench.finish();
