// Overhead of Portvakt's authorising fetch wrapper and origin policy.
//
// 1. Origin check: `createOriginPolicy(...).allows(url)` against the obvious hand-written check
//    `new URL(url).origin === allowed` (which misses trailing dots and default-port spellings).
// 2. Request overhead: `createAuthorizedFetch` (token from an in-memory source, origin check, manual
//    redirect handling) against plain `fetch` with a prebuilt Authorization header, both to the same
//    local HTTP server with keep-alive, 16 requests in flight.
//
// Build first: pnpm --filter @portvakt/core build
import { createServer } from 'node:http';
import { createAuthorizedFetch, createOriginPolicy } from '@portvakt/core';

function rate(label, ops, ms) {
  const perSecond = (ops / ms) * 1000;
  console.log(`${label.padEnd(46)} ${perSecond.toFixed(0).padStart(12)} ops/s`);
  return perSecond;
}

function timeSync(fn, iterations) {
  for (let i = 0; i < Math.min(iterations, 50_000); i++) fn(i);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  return performance.now() - start;
}

async function timeAsync(fn, total, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      await fn();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - start;
}

// 1. Origin check
const allowed = 'https://api.example.no';
const policy = createOriginPolicy([allowed, 'https://other.example.no']);
const urls = ['https://api.example.no/v1/items?page=2', 'https://evil.example/x', 'https://API.example.no:443/v1', 'https://other.example.no/a/b'];
const iterations = 1_000_000;
let sink = 0;
const baselineCheck = timeSync((i) => {
  if (new URL(urls[i & 3]).origin === allowed) sink++;
}, iterations);
const portvaktCheck = timeSync((i) => {
  if (policy.allows(urls[i & 3])) sink++;
}, iterations);
console.log('origin check (string URLs)');
const a = rate('  baseline: new URL(u).origin === allowed', iterations, baselineCheck);
const b = rate('  portvakt: policy.allows(u)', iterations, portvaktCheck);
console.log(`  ratio portvakt/baseline: ${(b / a).toFixed(2)}x throughput`);

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

const plain = async () => {
  const response = await fetch(url, { headers: { authorization: header } });
  await response.arrayBuffer();
};
const wrapped = async () => {
  const response = await authorizedFetch(url);
  await response.arrayBuffer();
};
const requests = 20_000;
await timeAsync(plain, 2_000, 16);
await timeAsync(wrapped, 2_000, 16);
const plainMs = await timeAsync(plain, requests, 16);
const wrappedMs = await timeAsync(wrapped, requests, 16);
console.log('\nrequests to a local server (16 in flight)');
const c = rate('  baseline: fetch + prebuilt Authorization', requests, plainMs);
const d = rate('  portvakt: createAuthorizedFetch', requests, wrappedMs);
console.log(`  ratio portvakt/baseline: ${(d / c).toFixed(2)}x throughput`);
console.log(`  per-request overhead: ${((wrappedMs - plainMs) / requests * 1000).toFixed(1)} µs`);
server.close();
if (sink < 0) console.log(sink);
