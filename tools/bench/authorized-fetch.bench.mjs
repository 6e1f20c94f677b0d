// Overhead of Portvakt's authorising fetch wrapper and origin policy.
//
// 1. Origin check: `createOriginPolicy(...).allows(url)` against the obvious hand-written check
//    `new URL(url).origin === allowed` (which misses trailing dots and default-port spellings).
// 2. Request overhead: `createAuthorizedFetch` (token from an in-memory source, origin check, manual
//    redirect handling) against plain `fetch` with a prebuilt Authorization header, both to the same
//    local HTTP server with keep-alive, 16 requests in flight.
import { createServer } from 'node:http';
import { createAuthorizedFetch, createOriginPolicy } from '@portvakt/core';
import { concurrentLoop, createBench, syncLoop } from './harness.mjs';

const bench = createBench('authorized-fetch', 'createAuthorizedFetch and the origin policy against plain fetch and URL parsing');

// 1. Origin check
const allowed = 'https://api.example.no';
const policy = createOriginPolicy([allowed, 'https://other.example.no']);
const urls = ['https://api.example.no/v1/items?page=2', 'https://evil.example/x', 'https://API.example.no:443/v1', 'https://other.example.no/a/b'];
const CHECKS = 20_000;
await bench.compare({
  baseline: { label: 'new URL(u).origin === allowed', run: syncLoop((i) => new URL(urls[i & 3]).origin === allowed, CHECKS) },
  subjects: [{ label: 'policy.allows(u)', run: syncLoop((i) => policy.allows(urls[i & 3]), CHECKS), figure: 'origin check: policy.allows() vs new URL().origin' }],
  ops: CHECKS,
  chunks: 20,
  kind: 'throughput',
  rounds: 7,
  warmup: 3,
});

// 2. Request overhead
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
  res.end('{}');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const url = `${origin}/v1/items`;
const token = { tokenType: 'Bearer', accessToken: 'x'.repeat(900) };
const source = { getToken: async () => token, invalidate: () => false };
const authorizedFetch = createAuthorizedFetch(source, { scope: 'bench:scope', origins: [origin] });
const header = `${token.tokenType} ${token.accessToken}`;

const SLICE = 200;
await bench.compare({
  baseline: { label: 'fetch + prebuilt Authorization', run: concurrentLoop(async () => (await fetch(url, { headers: { authorization: header } })).arrayBuffer(), SLICE, 16) },
  subjects: [{ label: 'createAuthorizedFetch', run: concurrentLoop(async () => (await authorizedFetch(url)).arrayBuffer(), SLICE, 16), figure: 'createAuthorizedFetch vs fetch + prebuilt header', goal: undefined }],
  ops: SLICE,
  chunks: 10,
  kind: 'throughput',
  rounds: 5,
  warmup: 3,
});
server.close();
bench.finish();
