// Heap of the token cache under many distinct keys: one key per customer, as a vendor that acts
// for thousands of organisations has (getToken({ consumerOrg }) with a valid 9-digit number per
// entry). Every token fetch signs a real grant with an RSA-2048 key through core's own signer
// (the client's `key: { jwk }`); the token endpoint is a small local server that checks each
// grant carries the consumer_org asked for, and answers with a ~1 KB token. (The simulator
// would need a registered delegation per customer; this figure is about the cache.)
//
// The cache bound is 2,000 entries here (the default is 10,000), so that each round can push a
// whole cache of new customers through the client in a few seconds: 12,000 distinct keys in the
// run (plus 200 by a throwaway warm-up client). The per-entry figures do not depend on the bound.
//
// Figures:
//   - retained heap per cached entry, Portvakt against a hand-written Map holding the same tokens
//     (string key -> { token, expiresAt }), measured the same way, alternating;
//   - Portvakt's retained heap per cached entry, bytes;
//   - bounded: retained heap after each round of 2,000 new customers / after the warm-up's.
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import { createMaskinportenClient } from '@portvakt/core';
import { generateClientKey } from '@portvakt/testing';
import { createBench } from './harness.mjs';

const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc (run.mjs does)');
const bench = createBench('heap', 'retained heap of the token cache with one key per consumerOrg');
const BOUND = 2_000;

let fetched = 0;
const consumers = new Set();
let wrongClaims = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    fetched += 1;
    const assertion = new URLSearchParams(Buffer.concat(chunks).toString()).get('assertion') ?? '';
    const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString() || '{}');
    if (typeof claims.consumer_org !== 'string' || assertion.split('.')[2]?.length !== 342) wrongClaims += 1;
    else consumers.add(claims.consumer_org);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: `tok-${fetched}-${'x'.repeat(1000)}`, token_type: 'Bearer', expires_in: 3600, scope: 'bench:a' }));
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;

// Valid organisation numbers (mod-11 check digit), distinct per i (8 digits of i, then the check
// digit; the i whose check digit would be 10 have no valid number and are skipped).
function orgno(i) {
  const base = String(80_000_000 + i);
  const w = [3, 2, 7, 6, 5, 4, 3, 2];
  const r = 11 - (w.reduce((a, x, j) => a + x * Number(base[j]), 0) % 11);
  const c = r === 11 ? 0 : r;
  return c === 10 ? undefined : base + c;
}
let nextOrg = 0;
function nextConsumers(n) {
  const out = [];
  while (out.length < n) {
    const o = orgno(nextOrg++);
    if (o) out.push(o);
  }
  return out;
}

function heapUsed() {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const key = generateClientKey({ kid: 'bench' });
const newClient = () => createMaskinportenClient({
  clientId: 'bench',
  environment: { issuer: `${url}/`, tokenEndpoint: `${url}/token` },
  key: { jwk: key.privateJwk },
  scope: 'bench:a',
  cache: { maxEntries: BOUND },
});
async function fill(client, n = BOUND) {
  const orgs = nextConsumers(n);
  for (let i = 0; i < orgs.length; i += 50) await Promise.all(orgs.slice(i, i + 50).map((consumerOrg) => client.getToken({ consumerOrg })));
}
// "Before" is taken after a throwaway client has loaded and warmed everything a client uses
// (fetch's undici, the signer, compiled code), so the figures are the cache's entries.
const throwaway = newClient();
await fill(throwaway, 200);
await throwaway.close();
const before = heapUsed();
const client = newClient();
await fill(client); // warm-up: the cache is full from here on
const afterWarmup = heapUsed() - before;

const portvaktBytes = [];
const growth = [];
await bench.compare({
  baseline: {
    label: `Map of ${BOUND.toLocaleString('en')} { token, expiresAt } by key string`,
    run: async () => {
      const h0 = heapUsed();
      const map = new Map();
      for (const o of nextConsumers(BOUND)) {
        // The token as it arrives: parsed from a JSON body like the endpoint's (a flat string).
        const body = JSON.parse(JSON.stringify({ access_token: `tok-${o}-${'x'.repeat(1000)}`, token_type: 'Bearer', expires_in: 3600, scope: 'bench:a' }));
        map.set(`bench:a|consumer_org=${o}`, { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 });
      }
      const bytes = (heapUsed() - h0) / BOUND;
      if (map.size !== BOUND) throw new Error('map');
      return bytes;
    },
  },
  subjects: [{
    label: `client with ${BOUND.toLocaleString('en')} cached tokens (all new customers)`,
    run: async () => {
      await fill(client);
      const retained = heapUsed() - before;
      portvaktBytes.push(retained / BOUND);
      growth.push(retained / afterWarmup);
      return retained / BOUND;
    },
    figure: 'heap per cached entry vs a plain Map',
  }],
  ops: 1,
  kind: 'size',
  rounds: 5,
  warmup: 0,
});
await bench.sample({ figure: 'heap per cached entry (~1 KB token)', unit: 'bytes', run: async (r) => portvaktBytes[r] });
await bench.sample({
  figure: `heap after each ${BOUND.toLocaleString('en')} new customers / after the first ${BOUND.toLocaleString('en')} (bounded)`,
  unit: 'x',
  run: async (r) => ({ value: growth[r], detail: `${fetched.toLocaleString('en')} tokens fetched (200 by a warm-up client) for ${consumers.size.toLocaleString('en')} distinct consumer_org values, ${wrongClaims} grants without consumer_org or an RSA-2048 signature` }),
  goal: { max: 1.1 },
});
await client.close();
const afterClose = heapUsed() - before;
bench.log(`retained after close() and GC: ${(afterClose / 1048576).toFixed(2)} MiB (with a full cache: ${((portvaktBytes.at(-1) * BOUND) / 1048576).toFixed(2)} MiB)`);
if (wrongClaims > 0 || consumers.size !== fetched) process.exitCode = 1;
server.close();
bench.finish();
