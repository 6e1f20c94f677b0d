// Cost of withMaskinporten() on Axios requests, against the same requests with a static
// Authorization header, measured in the same run (goal: at most 1.05x time).
//
// 1. 20,000 loopback requests, 50 in flight, keep-alive agent, warm token cache: static header vs
//    withMaskinporten() (path-only URLs, the common case) vs withMaskinporten() with absolute URLs
//    (checked against the origin policy). The cases take turns in chunks of 1,000 requests; the
//    median of three rounds is reported.
// 2. The in-process part alone: the same calls through an adapter that answers at once, so the
//    network does not hide the cost (ns per request).
//
// Build first: pnpm --filter @portvakt/core --filter @portvakt/testing --filter @portvakt/axios build
import http from 'node:http';
import axios from 'axios';
import { createMaskinportenClient } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';

const TOTAL = 20_000;
const IN_FLIGHT = 50;
const ROUNDS = 3;

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
  res.end('{}');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
const token = await client.getToken();
const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });

const plain = axios.create({ baseURL, httpAgent: agent, headers: { Authorization: token.authorization } });
const portvakt = axios.create({ baseURL, httpAgent: agent });
withMaskinporten(portvakt, { client });

async function run(send, total) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < total) await send();
    }),
  );
  return performance.now() - start;
}

const cases = [
  ['static Authorization header', () => plain.get('/x')],
  ['withMaskinporten(), path-only URL', () => portvakt.get('/x')],
  ['withMaskinporten(), absolute URL', () => portvakt.get(`${baseURL}/x`)],
];
for (const [, send] of cases) await run(send, 2_000); // warm-up
// Load on a shared machine drifts by more than the difference we measure, so the cases take turns
// in chunks of 1,000 requests (rotating who goes first) until each has sent 20,000; a round's
// figure is the sum of its chunks.
const CHUNK = 1_000;
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  const sums = cases.map(() => 0);
  for (let chunk = 0; chunk < TOTAL / CHUNK; chunk++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (chunk + k) % cases.length;
      sums[i] += await run(cases[i][1], CHUNK);
    }
  }
  rounds.push(sums);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${TOTAL.toLocaleString('en')} loopback requests per case, ${IN_FLIGHT} in flight, interleaved in chunks of ${CHUNK}; median of ${ROUNDS} rounds`);
for (let i = 0; i < cases.length; i++) {
  const ms = median(rounds.map((r) => r[i]));
  const ratio = median(rounds.map((r) => r[i] / r[0]));
  const perRound = rounds.map((r) => (r[i] / r[0]).toFixed(3)).join(' ');
  console.log(`  ${cases[i][0].padEnd(36)} ${ms.toFixed(0).padStart(6)} ms  ${Math.round((TOTAL / ms) * 1000).toLocaleString('en').padStart(7)} req/s   ${ratio.toFixed(3)}x time  (rounds: ${perRound})`);
}
console.log('  goal: at most 1.05x time');

// 2. In-process cost only: an adapter that answers at once.
const instant = async (config) => ({ data: '{}', status: 200, statusText: 'OK', headers: {}, config, request: {} });
const plainLocal = axios.create({ baseURL, adapter: instant, headers: { Authorization: token.authorization } });
const portvaktLocal = axios.create({ baseURL, adapter: instant });
withMaskinporten(portvaktLocal, { client });
async function perRequest(instance, n) {
  for (let i = 0; i < 20_000; i++) await instance.get('/x');
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await instance.get('/x');
  return Number(process.hrtime.bigint() - start) / n;
}
const localPlain = [];
const localPortvakt = [];
for (let round = 0; round < ROUNDS; round++) {
  localPlain.push(await perRequest(plainLocal, 100_000));
  localPortvakt.push(await perRequest(portvaktLocal, 100_000));
}
const lp = median(localPlain);
const lv = median(localPortvakt);
console.log('in-process cost per request (adapter that answers at once)');
console.log(`  static Authorization header          ${lp.toFixed(0).padStart(6)} ns`);
console.log(`  withMaskinporten()                   ${lv.toFixed(0).padStart(6)} ns   +${(lv - lp).toFixed(0)} ns`);

agent.destroy();
await client.close();
await sim.close();
server.close();
