// Proxy throughput: maskinportenProxy (warm token) against http-proxy-middleware with a static
// Authorization header, same upstream, same run (goal: at most 1.05x time).
import http from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createMaskinportenClient } from '@portvakt/core';
import { maskinportenProxy } from '@portvakt/express';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';

const listen = (handler) => new Promise((r) => { const s = http.createServer(handler); s.listen(0, '127.0.0.1', () => r(s)); });
const upstream = await listen((req, res) => { req.resume(); req.on('end', () => res.end('{"ok":true}')); });
const target = `http://127.0.0.1:${upstream.address().port}`;
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
const token = await client.getToken();

const plainApp = express();
plainApp.use(createProxyMiddleware({ target, changeOrigin: true, on: { proxyReq: (p) => p.setHeader('authorization', token.authorization) } }));
const oursApp = express();
oursApp.use(maskinportenProxy({ target, client }));
const plain = await listen(plainApp);
const ours = await listen(oursApp);
const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });

function get(port) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/x?y=1', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
}
async function run(server, total, concurrency = 20) {
  const port = server.address().port;
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next++ < total) await get(port); }));
  return performance.now() - start;
}
await run(plain, 1000);
await run(ours, 1000);
const t = { plain: [], ours: [] };
for (let i = 0; i < 3; i++) {
  t.plain.push(await run(plain, 5000));
  t.ours.push(await run(ours, 5000));
}
const best = (xs) => Math.min(...xs);
console.log(`http-proxy-middleware + static header: ${best(t.plain).toFixed(0)} ms for 5,000 requests (${(5000 / best(t.plain) * 1000).toFixed(0)} req/s)`);
console.log(`maskinportenProxy():                   ${best(t.ours).toFixed(0)} ms for 5,000 requests (${(5000 / best(t.ours) * 1000).toFixed(0)} req/s)`);
console.log(`time ratio: ${(best(t.ours) / best(t.plain)).toFixed(3)}x   goal: at most 1.05x (best of 3 interleaved rounds)`);
agent.destroy();
for (const s of [plain, ours, upstream]) { s.closeAllConnections(); s.close(); }
await client.close();
await sim.close();
