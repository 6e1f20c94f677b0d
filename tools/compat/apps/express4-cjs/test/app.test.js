'use strict';
const assert = require('node:assert/strict');
const { createPublicKey, verify } = require('node:crypto');
const { createServer } = require('node:http');
const { after, before, test } = require('node:test');
const { createMaskinportenClient } = require('@portvakt/core');
const { generateClientKey, startMaskinportenSimulator } = require('@portvakt/testing');
const { createApp } = require('../app.js');

const CLIENT_ID = 'compat-express';
const SCOPE = 'compat:read';
const key = generateClientKey({ kid: 'compat-key' });
const seen = [];
let sim, api, apiUrl, client, server, appUrl;

// Checks a bearer token the way an API would: RS256 signature against the simulator's JWKS,
// issuer, expiry and scope.
async function verifyBearer(header) {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
  if (!m) throw new Error('no bearer token');
  const [, h, p, s] = m;
  const head = JSON.parse(Buffer.from(h, 'base64url').toString());
  const { keys } = await (await fetch(sim.jwksUri)).json();
  const jwk = keys.find((k) => k.kid === head.kid);
  if (head.alg !== 'RS256' || !jwk) throw new Error(`unknown key ${head.kid}`);
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'))) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (claims.iss !== sim.issuer) throw new Error(`issuer ${claims.iss}`);
  if (claims.exp * 1000 <= Date.now()) throw new Error('expired');
  if (!String(claims.scope).split(' ').includes(SCOPE)) throw new Error(`scope ${claims.scope}`);
  return claims;
}

const listen = (srv) => new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${srv.address().port}`)));
const close = (srv) => new Promise((resolve) => (srv ? (srv.closeAllConnections(), srv.close(resolve)) : resolve()));

before(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: CLIENT_ID, orgno: '991825827', scopes: [SCOPE], jwks: [key.publicJwk] }] });
  api = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    verifyBearer(req.headers.authorization).then(
      (claims) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path: req.url, client_id: claims.client_id, scope: claims.scope }));
      },
      (error) => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error.message }));
      },
    );
  });
  apiUrl = await listen(api);
  client = createMaskinportenClient({ clientId: CLIENT_ID, environment: sim.environment(), key: { jwk: key.privateJwk } });
  server = createServer(createApp({ client, apiUrl, scope: SCOPE }));
  appUrl = await listen(server);
});

after(async () => {
  await client?.close();
  await close(server);
  await close(api);
  await sim?.close();
});

test('maskinportenProxy() puts our token on the proxied request instead of the caller\'s', async () => {
  seen.length = 0;
  const res = await fetch(`${appUrl}/api/whoami?x=1`, { headers: { authorization: 'Bearer caller-token' } });
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { path: '/whoami?x=1', client_id: CLIENT_ID, scope: SCOPE });
  assert.equal(seen.length, 1);
  assert.notEqual(seen[0], 'Bearer caller-token');
  await verifyBearer(seen[0]);
});

test('maskinporten() gives the handler a fetch that carries the token', async () => {
  seen.length = 0;
  const res = await fetch(`${appUrl}/report`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { via: 'middleware', upstream: { path: '/whoami', client_id: CLIENT_ID, scope: SCOPE } });
  assert.equal(seen.length, 1);
  await verifyBearer(seen[0]);
  assert.ok(sim.issuedTokenCount() >= 1);
});
