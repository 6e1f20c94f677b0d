// Added latency of a Redis hit against an in-process hit, and the fleet figure (processes x
// callers -> token requests). Starts its own redis-server on a free loopback port.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';

if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
  console.log('redis-server not installed: skipping the Redis benchmark (apt-get install redis-server)');
  process.exit(0);
}
const port = await new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', mkdtempSync(path.join(tmpdir(), 'pv-bench-'))], { stdio: 'ignore' });
const redis = new Redis(port, '127.0.0.1');
redis.on('error', () => {});
for (let i = 0; i < 100; i++) { try { await redis.ping(); break; } catch { await new Promise((r) => setTimeout(r, 50)); } }

const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'fleet', orgno: '991825827', scopes: ['fleet:read'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const store = createRedisTokenStore({ redis, encryptionKey: Buffer.alloc(32, 1) });
const client = createMaskinportenClient({ clientId: 'fleet', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'fleet:read', cache: { store } });
await client.getToken();

const N = 20_000;
let t = performance.now();
for (let i = 0; i < N; i++) await client.getToken();
const local = ((performance.now() - t) * 1000) / N;
const k = 'bench-key';
await store.load(k, async () => ({ accessToken: 'x'.repeat(800), tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000, issuedAt: Date.now(), scope: 's' }), { minValidUntil: 0 });
t = performance.now();
for (let i = 0; i < N / 4; i++) await store.load(k, async () => { throw new Error('should hit'); }, { minValidUntil: 0 });
const remote = ((performance.now() - t) * 1000) / (N / 4);
console.log(`in-process cache hit:              ${local.toFixed(2)} µs/op`);
console.log(`Redis hit (GET + AES-GCM open):    ${remote.toFixed(2)} µs/op   added latency ${(remote - local).toFixed(2)} µs (paid only on an in-process miss)`);

// The fleet: 8 processes x 200 concurrent cold callers.
sim.reset();
await redis.flushall();
const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.resolve(here, '../../packages/redis/test/fleet-child.mjs');
const start = performance.now();
const results = await Promise.all(Array.from({ length: 8 }, () => new Promise((resolve) => {
  const c = spawn(process.execPath, [child, sim.issuer, sim.tokenEndpoint, JSON.stringify(key.privateJwk), String(port), '200'], { cwd: path.dirname(child), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  c.on('exit', () => resolve(JSON.parse(out || '{"ok":0,"failed":200}')));
})));
console.log(`fleet: 8 processes x 200 cold callers = ${results.reduce((n, r) => n + r.ok, 0)} calls, ${results.reduce((n, r) => n + r.failed, 0)} failed, ${sim.tokenRequestCount()} token request(s), ${(performance.now() - start).toFixed(0)} ms incl. process start   goal: 1 request`);
await client.close();
await sim.close();
redis.disconnect();
server.kill();
