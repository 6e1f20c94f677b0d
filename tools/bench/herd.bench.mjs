// Cold-start herd: 10,000 concurrent callers on an empty cache (goal: 1 token request), and what
// the wait costs: the time until all 10,000 have their token against the time one cold caller
// needs (same simulator, same key, a fresh client for every measurement).
import { createMaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { createBench, nowMs } from './harness.mjs';

const bench = createBench('herd', '10,000 concurrent cold callers on one client');
const CALLERS = 10_000;
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }] });
const newClient = () => createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });

let last = { requests: 0, distinct: 0 };
async function cold(callers) {
  const client = newClient();
  sim.reset();
  const t0 = nowMs();
  const tokens = await Promise.all(Array.from({ length: callers }, () => client.getToken()));
  const ms = nowMs() - t0;
  last = { requests: sim.tokenRequestCount(), distinct: new Set(tokens.map((t) => t.accessToken)).size };
  await client.close();
  return { ms, ...last };
}

const requests = [];
await bench.compare({
  baseline: { label: '1 cold caller', run: async () => (await cold(1)).ms },
  subjects: [{
    label: `${CALLERS.toLocaleString('en')} concurrent cold callers`,
    run: async () => {
      const r = await cold(CALLERS);
      requests.push(r.requests);
      if (r.distinct !== 1) throw new Error(`${r.distinct} distinct tokens`);
      return r.ms;
    },
    figure: `herd: ${CALLERS.toLocaleString('en')} cold callers vs 1, time to all served`,
  }],
  ops: 1,
  chunks: 3,
  kind: 'time',
  rounds: 5,
});
// The token requests of the herds above (3 per round after the warm-up's), as a figure of its
// own: the most any herd of the round needed.
await bench.sample({
  figure: `herd: token requests for ${CALLERS.toLocaleString('en')} cold callers`,
  unit: 'requests',
  run: async (r) => ({ value: Math.max(...requests.slice(1 + r * 3, 4 + r * 3)), detail: `${requests.length} herds, requests per herd: ${requests.join(', ')}` }),
  goal: { max: 1 },
  hard: true,
});
await sim.close();
bench.finish();
