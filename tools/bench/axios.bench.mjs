// 20,000 loopback requests through Axios with the Portvakt interceptor (warm token) against the
// same requests with a static Authorization header, in the same run (goal: at most 1.05x time).
import http from 'node:http';
import axios from 'axios';
import { createMaskinportenClient } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';

const server = http.createServer((req, res) => res.end('ok'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const baseURL = `http://127.0.0.1:${server.address().port}`;
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
const token = await client.getToken();
const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });

const plain = axios.create({ baseURL, httpAgent: agent, headers: { Authorization: token.authorization } });
const withToken = axios.create({ baseURL, httpAgent: agent });
withMaskinporten(withToken, { client });

async function run(instance, total, concurrency = 50) {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < total) await instance.get('/x');
  }));
  return performance.now() - start;
}
await run(plain, 2000);
await run(withToken, 2000);
const results = { plain: [], portvakt: [] };
for (let round = 0; round < 3; round++) {
  results.plain.push(await run(plain, 20_000));
  results.portvakt.push(await run(withToken, 20_000));
}
const best = (xs) => Math.min(...xs);
console.log(`static header:        ${best(results.plain).toFixed(0)} ms for 20,000 requests (${(20_000 / best(results.plain) * 1000).toFixed(0)} req/s)`);
console.log(`withMaskinporten():   ${best(results.portvakt).toFixed(0)} ms for 20,000 requests (${(20_000 / best(results.portvakt) * 1000).toFixed(0)} req/s)`);
console.log(`time ratio: ${(best(results.portvakt) / best(results.plain)).toFixed(3)}x   goal: at most 1.05x (best of 3 rounds each, interleaved)`);
agent.destroy();
await client.close();
await sim.close();
server.close();
