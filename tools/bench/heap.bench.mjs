// Heap after 100,000 distinct keys with the default bound (10,000 entries), against the heap of
// the same process before the client existed. Token fetches go to a tiny local endpoint with a
// trivial custom signer, so the figure is the cache's, not RSA's or the simulator's.
import http from 'node:http';
import { createMaskinportenClient } from '@portvakt/core';

const gc = globalThis.gc ?? (() => {});
let n = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    n += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: `tok-${n}-${'x'.repeat(900)}`, token_type: 'Bearer', expires_in: 3600, scope: 's' }));
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;

gc();
const before = process.memoryUsage().heapUsed;
const client = createMaskinportenClient({
  clientId: 'bench',
  environment: { issuer: `${url}/`, tokenEndpoint: `${url}/token` },
  key: { signer: { alg: 'RS256', kid: 'bench', sign: async () => new Uint8Array(256) } },
  scope: 'bench:a',
});
const orgno = (i) => {
  // 9-digit organisation numbers with a valid mod-11 check digit, distinct per i
  const base = String(800000000 + i * 7).slice(0, 8);
  const w = [3, 2, 7, 6, 5, 4, 3, 2];
  const r = 11 - (w.reduce((a, x, j) => a + x * Number(base[j]), 0) % 11);
  const c = r === 11 ? 0 : r;
  return c === 10 ? undefined : base + c;
};
let keys = 0;
for (let i = 0; keys < 100_000; i++) {
  const consumerOrg = orgno(i);
  if (!consumerOrg) continue;
  const batch = [];
  for (let j = 0; j < 100 && keys < 100_000; j++) batch.push(client.getToken({ scope: `bench:${keys++}` }));
  await Promise.all(batch);
}
gc();
const after = process.memoryUsage().heapUsed;
console.log(`tokens fetched: ${n} (distinct keys), cache bound: 10,000 entries`);
console.log(`heap before client: ${(before / 1048576).toFixed(1)} MiB, after 100,000 keys: ${(after / 1048576).toFixed(1)} MiB, growth ${((after - before) / 1048576).toFixed(1)} MiB (~${Math.round((after - before) / 10_000)} bytes per cached entry incl. a ~1 KB token)`);
await client.close();
gc();
console.log(`heap after close(): ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MiB`);
server.close();
