// A plain CommonJS consumer: require() every entry point, then get a token from the simulator
// with @portvakt/core and put it on Axios requests with @portvakt/axios.
'use strict';
const assert = require('node:assert/strict');
const { createPublicKey, verify } = require('node:crypto');
const http = require('node:http');

const expected = {
  '@portvakt/core': ['createMaskinportenClient', 'PortvaktError', 'fromEnv'],
  '@portvakt/verify': ['createMaskinportenVerifier', 'verifyRequest', 'readBearerToken'],
  '@portvakt/axios': ['withMaskinporten'],
  '@portvakt/express': ['maskinporten', 'maskinportenProxy'],
  '@portvakt/express/verify': ['requireMaskinportenToken'],
  '@portvakt/nestjs': ['MaskinportenModule', 'MaskinportenHttpModule', 'InjectMaskinportenClient'],
  '@portvakt/nestjs/health': ['MaskinportenHealthIndicator'],
  '@portvakt/nestjs/verify': ['MaskinportenVerifierModule', 'MaskinportenTokenGuard'],
  '@portvakt/redis': ['createRedisTokenStore'],
  '@portvakt/testing': ['startMaskinportenSimulator', 'generateClientKey'],
};
const mods = {};
for (const [id, names] of Object.entries(expected)) {
  const mod = require(id);
  for (const name of names) assert.equal(typeof mod[name], 'function', `${id} has no function ${name}`);
  // How CommonJS got it: a CommonJS build, or an ES module through require(esm).
  const how = mod[Symbol.toStringTag] === 'Module' ? 'ES module via require(esm)' : 'CommonJS';
  console.log(`require('${id}') -> ${require.resolve(id).replace(/.*node_modules[\\/]/, '')} (${how}, ${Object.keys(mod).length} exports)`);
  mods[id] = mod;
}

const axios = require('axios');
const { createMaskinportenClient, PortvaktError } = mods['@portvakt/core'];
const { withMaskinporten } = mods['@portvakt/axios'];
const { generateClientKey, startMaskinportenSimulator } = mods['@portvakt/testing'];

async function main() {
  const key = generateClientKey({ kid: 'compat-key' });
  const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'compat-cjs', orgno: '991825827', scopes: ['compat:read'], jwks: [key.publicJwk] }] });
  const { keys } = await (await fetch(sim.jwksUri)).json();
  const seen = [];
  // The API checks the token's signature against the simulator's JWKS, and its issuer and scope.
  const api = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(req.headers.authorization ?? '');
    const head = m && JSON.parse(Buffer.from(m[1], 'base64url').toString());
    const jwk = head && keys.find((k) => k.kid === head.kid);
    const claims = m && JSON.parse(Buffer.from(m[2], 'base64url').toString());
    const ok = jwk && verify('RSA-SHA256', Buffer.from(`${m[1]}.${m[2]}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(m[3], 'base64url'));
    if (!ok || claims.iss !== sim.issuer || claims.scope !== 'compat:read') {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: claims.client_id, path: req.url }));
  });
  await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${api.address().port}`;
  const client = createMaskinportenClient({ clientId: 'compat-cjs', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'compat:read' });
  try {
    const token = await client.getToken();
    assert.equal(token.scope, 'compat:read');
    const instance = axios.create({ baseURL: apiUrl });
    withMaskinporten(instance, { client });
    const { data } = await instance.get('/whoami');
    assert.deepEqual(data, { client_id: 'compat-cjs', path: '/whoami' });
    assert.equal(seen.length, 1);
    assert.equal(seen[0], token.authorization);
    // A scope the client does not have: the simulator refuses it, and the error is core's class.
    await assert.rejects(client.getToken({ scope: 'compat:other' }), (err) => err instanceof PortvaktError);
    console.log('plain-cjs: got a token from the simulator and it reached the API through Axios');
  } finally {
    await client.close();
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
    await sim.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
