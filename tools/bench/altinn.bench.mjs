// A cache hit of the Altinn token source against a cache hit of the Maskinporten client it is
// built on, in the same run (goal: at most 1.1x the client's time per call). Both sources use the
// same cache; the Altinn source adds a claims key per call.
import { createAltinnTokenSource, createMaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { asyncLoop, createBench } from './harness.mjs';

const bench = createBench('altinn', 'an Altinn token cache hit against a Maskinporten token cache hit');
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600, altinnTokenLifetimeSeconds: 3600 });
const maskinporten = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
const altinn = createAltinnTokenSource({ maskinporten, environment: { exchangeUrl: sim.altinnExchangeUrl } });
await maskinporten.getToken();
await altinn.getToken();

const N = 10_000; // per slice; 20 slices a round
await bench.compare({
  baseline: { label: 'Maskinporten client getToken() cache hit', run: asyncLoop(() => maskinporten.getToken(), N) },
  subjects: [{ label: 'Altinn token source getToken() cache hit', run: asyncLoop(() => altinn.getToken(), N), figure: 'Altinn cache hit vs core cache hit', goal: { max: 1.1 } }],
  ops: N,
  chunks: 20,
  kind: 'time',
  rounds: 9,
  warmup: 2,
});
if (sim.altinnExchangeCount() !== 1) throw new Error(`expected 1 exchange, saw ${sim.altinnExchangeCount()}`);
await altinn.close();
await maskinporten.close();
await sim.close();
bench.finish();
