// Heap of the token cache under many distinct keys: one key per customer, as a vendor that acts
// for thousands of organisations has (getToken({ consumerOrg }) with a valid 9-digit number per
// entry). Every token fetch signs a real grant with an RSA-2048 key through core's own signer
// (the client's `key: { jwk }`); the token endpoint is a small local server that checks each
// grant carries the consumer_org asked for, and answers with a ~1 KB token. (The simulator
// would need a registered delegation per customer; this figure is about the cache.)
//
// The cache bound is 2,000 entries here (the default is 10,000), so that each round can push a
// whole cache of new customers through a client in a few seconds: 24,000 distinct keys in the run
// (plus 200 by a throwaway warm-up client). The per-entry figures do not depend on the bound.
//
// Figures:
//   - retained heap per cached entry (goal: at most 1.5x), Portvakt against a hand-written Map
//     holding the same tokens (string key -> { token, expiresAt }), measured the same way,
//     alternating: each round makes a new Map, and a new client that it fills from empty, each
//     against the heap just before it was made;
//   - Portvakt's retained heap per cached entry, bytes;
//   - bounded: the retained heap of one long-lived client after each round of 2,000 new
//     customers / after its first 2,000.
//
// What "retained" leaves out, on both sides: garbage that only waits for a finalizer. fetch()
// (undici) keeps each request's signal in a FinalizationRegistry until the request is collected
// and the registry's cleanup has run, which a synchronous gc() does not wait for; those
// signals are per fetch, not per cache entry, and are gone after the next turn of the event loop.
// heapUsed() lets the cleanup run between two collections.
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
// The distinct consumer_org values seen, one byte per organisation number this benchmark makes
// (see orgno()), allocated up front: a Set of the numbers would grow during the rounds and be
// counted as the client's heap.
const seenConsumer = new Uint8Array(40_000);
let distinctConsumers = 0;
let wrongClaims = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    fetched += 1;
    const assertion = new URLSearchParams(Buffer.concat(chunks).toString()).get('assertion') ?? '';
    const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString() || '{}');
    if (typeof claims.consumer_org !== 'string' || assertion.split('.')[2]?.length !== 342) wrongClaims += 1;
    else {
      const i = Number(claims.consumer_org.slice(0, 8)) - 80_000_000;
      if (!(i >= 0 && i < seenConsumer.length)) wrongClaims += 1;
      else if (seenConsumer[i] === 0) {
        seenConsumer[i] = 1;
        distinctConsumers += 1;
      }
    }
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

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));
async function heapUsed() {
  gc();
  await tick(); // finalizers run (see the top of this file)
  gc();
  await tick();
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
const before = await heapUsed();
const client = newClient(); // the long-lived one, for the bound
await fill(client); // warm-up: its cache is full from here on
const afterWarmup = (await heapUsed()) - before;

const portvaktBytes = [];
const growth = [];
await bench.compare({
  baseline: {
    label: `Map of ${BOUND.toLocaleString('en')} { token, expiresAt } by key string`,
    run: async () => {
      const h0 = await heapUsed();
      const map = new Map();
      for (const o of nextConsumers(BOUND)) {
        // The token as it arrives: parsed from a JSON body like the endpoint's (a flat string).
        const body = JSON.parse(JSON.stringify({ access_token: `tok-${o}-${'x'.repeat(1000)}`, token_type: 'Bearer', expires_in: 3600, scope: 'bench:a' }));
        map.set(`bench:a|consumer_org=${o}`, { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 });
      }
      const bytes = ((await heapUsed()) - h0) / BOUND;
      if (map.size !== BOUND) throw new Error('map');
      return bytes;
    },
  },
  subjects: [{
    label: `client with ${BOUND.toLocaleString('en')} cached tokens (all new customers)`,
    run: async () => {
      await fill(client);
      growth.push(((await heapUsed()) - before) / afterWarmup);
      const h0 = await heapUsed();
      const fresh = newClient();
      await fill(fresh);
      const bytes = ((await heapUsed()) - h0) / BOUND;
      await fresh.close();
      portvaktBytes.push(bytes);
      return bytes;
    },
    figure: 'heap per cached entry vs a plain Map',
    goal: { max: 1.5 },
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
  run: async (r) => ({ value: growth[r], detail: `${fetched.toLocaleString('en')} tokens fetched (200 by a warm-up client) for ${distinctConsumers.toLocaleString('en')} distinct consumer_org values, ${wrongClaims} grants without consumer_org or an RSA-2048 signature` }),
  goal: { max: 1.1 },
});
await client.close();
const afterClose = (await heapUsed()) - before;
bench.log(`the long-lived client: ${((afterWarmup * growth.at(-1)) / 1048576).toFixed(2)} MiB over the heap before it with a full cache, ${(afterClose / 1048576).toFixed(2)} MiB after close() and GC`);
if (wrongClaims > 0 || distinctConsumers !== fetched) process.exitCode = 1;
server.close();
bench.finish();
