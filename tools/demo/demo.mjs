#!/usr/bin/env node
// The main job: start the embedded Maskinporten simulator, get a token through @portvakt/core,
// call a small local API with it (which verifies the token against the simulator's JWKS), show
// that a second call is served from the cache and that another origin never sees the token.
import http from 'node:http';
import { createMaskinportenClient, createAuthorizedFetch } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const SCOPE = 'demo:payments.read';
const log = (step, text) => console.log(`[demo] ${step.padEnd(11)} ${text}`);

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const key = generateClientKey({ kid: 'demo-key-1' });
const simulator = await startMaskinportenSimulator({
  clients: [{ clientId: 'demo-client', orgno: '991825827', scopes: [SCOPE], jwks: [key.publicJwk] }],
});
log('simulator', `issuer ${simulator.issuer}, token endpoint ${simulator.tokenEndpoint}`);

// A Maskinporten-protected API: checks issuer, signature (simulator JWKS) and scope.
const jwks = createRemoteJWKSet(new URL(simulator.jwksUri));
const api = await listen(async (req, res) => {
  const [scheme, token] = (req.headers.authorization ?? '').split(' ');
  try {
    if (scheme !== 'Bearer' || !token) throw new Error('no bearer token');
    const { payload } = await jwtVerify(token, jwks, { issuer: simulator.issuer });
    if (!String(payload.scope).split(' ').includes(SCOPE)) throw new Error('scope missing');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, consumer: payload.consumer, scope: payload.scope }));
  } catch (err) {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: false, reason: err.message }));
  }
});
const apiOrigin = `http://127.0.0.1:${api.address().port}`;
log('api', `listening on ${apiOrigin}`);

// Another origin that must never receive the token.
let foreignSawToken = 0;
const foreign = await listen((req, res) => {
  if (req.headers.authorization) foreignSawToken += 1;
  res.end('foreign');
});
const foreignOrigin = `http://127.0.0.1:${foreign.address().port}`;

const client = createMaskinportenClient({
  clientId: 'demo-client',
  environment: { issuer: simulator.issuer, tokenEndpoint: simulator.tokenEndpoint },
  key: { jwk: key.privateJwk },
  scope: SCOPE,
});

let exitCode = 0;
try {
  const token = await client.getToken();
  log('token', `${token} (printing the token object shows no secret)`);
  const again = await client.getToken({ scope: SCOPE });
  log('cache', `second getToken() served from cache: ${again === token || again.accessToken === token.accessToken}; token requests so far: ${simulator.tokenRequestCount()}`);

  const authorizedFetch = createAuthorizedFetch(client, { scope: SCOPE, origins: [apiOrigin] });
  const response = await authorizedFetch(`${apiOrigin}/payments`);
  const body = await response.json();
  log('api call', `HTTP ${response.status} ${JSON.stringify(body)}`);

  await (await authorizedFetch(`${foreignOrigin}/steal`)).text();
  log('foreign', `requests to ${foreignOrigin} that carried a token: ${foreignSawToken}`);

  if (response.status !== 200 || foreignSawToken !== 0 || simulator.tokenRequestCount() !== 1) {
    exitCode = 1;
    log('result', 'FAILED');
  } else {
    log('result', `OK: 1 token request, API accepted the token, the other origin saw none`);
  }
} catch (err) {
  exitCode = 1;
  console.error('[demo] failed:', err);
} finally {
  await client.close();
  await simulator.close();
  api.close();
  foreign.close();
}
process.exitCode = exitCode;
