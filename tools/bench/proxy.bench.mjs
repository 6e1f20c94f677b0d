// Proxy throughput: maskinportenProxy (warm token) against http-proxy-middleware with a static
// Authorization header, same upstream, 20 requests in flight (goal: at most 1.05x time). Each
// round is 6 slices of 120 requests per side, the order alternating from slice to slice.
import http from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createMaskinportenClient } from '@portvakt/core';
import { maskinportenProxy } from '@portvakt/express';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { concurrentLoop, createBench } from './harness.mjs';

const bench = createBench('proxy', 'maskinportenProxy() against http-proxy-middleware with a static header');
const listen = (handler) => new Promise((r) => { const s = http.createServer(handler); s.listen(0, '127.0.0.1', () => r(s)); });
let upstreamSawToken = 0;
const upstream = await listen((req, res) => {
  if (req.headers.authorization?.startsWith('Bearer ')) upstreamSawToken += 1;
  req.resume();
  req.on('end', () => res.end('{"ok":true}'));
});
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
    http.get({ host: '127.0.0.1', port, path: '/x?y=1', agent }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}
const SLICE = 120;
await bench.compare({
  baseline: { label: 'http-proxy-middleware + static header', run: concurrentLoop(() => get(plain.address().port), SLICE, 20) },
  subjects: [{ label: 'maskinportenProxy()', run: concurrentLoop(() => get(ours.address().port), SLICE, 20), figure: 'express proxy: maskinportenProxy() vs http-proxy-middleware', goal: { max: 1.05 } }],
  ops: SLICE,
  chunks: 6,
  kind: 'time',
  rounds: 5,
  warmup: 3,
});
bench.log(`upstream saw a bearer token on ${upstreamSawToken.toLocaleString('en')} requests; ${sim.tokenRequestCount()} token request(s)`);
agent.destroy();
for (const s of [plain, ours, upstream]) { s.closeAllConnections(); s.close(); }
await client.close();
await sim.close();
bench.finish();
