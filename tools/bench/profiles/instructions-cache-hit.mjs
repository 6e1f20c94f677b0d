// Instructions per awaited cache hit, counted with callgrind (docs/performance.md, "What the
// figures above their goals are made of"). Run one process per mode, each the same set-up: a fixed
// key (written to the temp folder by the first process), a local token endpoint with a fixed
// answer, 20,000 warm-up calls of each kind; then N calls of the mode's kind only.
//
//   for m in setup map scope plain; do
//     valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$m node --single-threaded tools/bench/profiles/instructions-cache-hit.mjs $m 400000
//   done
//
// Instructions per call of a mode = (its "Collected" total - the setup's) / N.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMaskinportenClient } from '@portvakt/core';
import { generateClientKey } from '@portvakt/testing';

const [mode = 'setup', count = '400000'] = process.argv.slice(2);
const N = Number(count);
const keyFile = path.join(tmpdir(), 'portvakt-instructions-key.json');
if (!existsSync(keyFile)) writeFileSync(keyFile, JSON.stringify(generateClientKey({ kid: 'bench' }).privateJwk));
const jwk = JSON.parse(readFileSync(keyFile, 'utf8'));

const payload = Buffer.from(JSON.stringify({ scope: 'bench:a' })).toString('base64url');
const answer = JSON.stringify({ access_token: `eyJhbGciOiJSUzI1NiJ9.${payload}.c2ln`, token_type: 'Bearer', expires_in: 3600, scope: 'bench:a' });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.setHeader('content-type', 'application/json').end(answer));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const client = createMaskinportenClient({ clientId: 'bench', environment: { issuer: `${base}/`, tokenEndpoint: `${base}/token` }, key: { jwk }, scope: 'bench:b' });
const scoped = { scope: 'bench:a' };
await client.getToken();
await client.getToken(scoped);

const map = new Map([['bench:a', { token: 'x', expiresAt: Date.now() + 3_600_000 }]]);
async function handWritten() {
  const entry = map.get('bench:a');
  if (entry && entry.expiresAt > Date.now()) return entry.token;
  throw new Error('miss');
}
for (let i = 0; i < 20_000; i++) {
  await handWritten();
  await client.getToken(scoped);
  await client.getToken();
}
if (mode === 'map') for (let i = 0; i < N; i++) await handWritten();
if (mode === 'scope') for (let i = 0; i < N; i++) await client.getToken(scoped);
if (mode === 'plain') for (let i = 0; i < N; i++) await client.getToken();
await client.close();
server.close();
