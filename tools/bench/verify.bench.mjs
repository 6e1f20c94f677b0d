// Verifying Maskinporten tokens (the API-provider side).
//
// 1. verify() with a warm key set against jose.jwtVerify with a local key set: the same token (one
//    the simulator issued), the same jose (the verification package's own copy), in the same run. With the verifier's
//    memory of verified tokens off, every call checks the signature (goal: at least 0.9x jose's
//    throughput); with it on (the default), a token presented again is a lookup.
// 2. A route behind requireMaskinportenToken() against the same route without it: 20 000 loopback
//    requests per side a round (goal: at most 1.03x time), with the default verifier; in the same
//    rounds a hand-written guard (a middleware that looks the bearer up in a Map), the least any
//    guard costs over HTTP, and the guard against it (goal: at most 1.03x). The same with
//    the memory off shows what a signature check per request costs, for comparison (no goal). Then
//    the middleware alone, in process, against a hand-written Map guard (goal: at most 1.15x).
// 3. The middleware with NAIS Texas' introspection verifier against the middleware with the local
//    verifier, both on a remembered token, in process (goal: at most 1.1x): on a hot route the
//    Texas verifier answers from the same memory and flow, with no sidecar call.
import { createRequire } from 'node:module';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createMaskinportenClient } from '@portvakt/core';
import { createMaskinportenVerifier, createTexasIntrospectionVerifier } from '@portvakt/verify';
import { requireMaskinportenToken } from '@portvakt/express/verify';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { asyncLoop, concurrentLoop, createBench } from './harness.mjs';

// The jose that @portvakt/verify itself imports, so both sides run the same code for the signature.
const josePath = createRequire(new URL('../../packages/verify/package.json', import.meta.url)).resolve('jose');
const { createLocalJWKSet, jwtVerify } = await import(pathToFileURL(josePath).href);

const bench = createBench('verify', 'verify() against jose.jwtVerify; requireMaskinportenToken() against a route without it');
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({
  clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }],
  tokenLifetimeSeconds: 3600,
  texas: { client: { clientId: 'bench-api', orgno: '889640782', scopes: [] } },
});
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
const token = (await client.getToken()).accessToken;
const environment = { issuer: sim.issuer, jwksUri: sim.jwksUri };

// --- 1. one verification -------------------------------------------------------------------
const localSet = createLocalJWKSet(await (await fetch(sim.jwksUri)).json());
const joseOptions = { issuer: sim.issuer, algorithms: ['RS256'] };
const everyTime = createMaskinportenVerifier({ environment, scope: 'bench:a', cache: false });
const remembering = createMaskinportenVerifier({ environment, scope: 'bench:a' });
for (const v of [everyTime, remembering]) await v.ready();
await jwtVerify(token, localSet, joseOptions);

const N = 400; // verifications per slice; 10 slices a round
await bench.compare({
  baseline: { label: 'jose.jwtVerify(token, createLocalJWKSet(jwks))', run: asyncLoop(() => jwtVerify(token, localSet, joseOptions), N) },
  subjects: [
    { label: 'verifier.verify(token), memory off (cache: false)', run: asyncLoop(() => everyTime.verify(token), N), figure: 'verify() (signature every call) vs jose.jwtVerify', goal: { min: 0.9 } },
    { label: 'verifier.verify(token), default (token remembered)', run: asyncLoop(() => remembering.verify(token), N), figure: 'verify() (remembered token) vs jose.jwtVerify' },
  ],
  ops: N,
  chunks: 10,
  kind: 'throughput',
  rounds: 7,
  warmup: 2,
});

// --- 2. the Express middleware -------------------------------------------------------------
const listen = (app) => new Promise((resolve) => { const s = http.createServer(app); s.listen(0, '127.0.0.1', () => resolve(s)); });
const handler = (req, res) => res.json({ ok: true });
const plainApp = express();
plainApp.get('/x', handler);
const guardedApp = express();
guardedApp.get('/x', requireMaskinportenToken({ verifier: remembering }), handler);
const everyTimeApp = express();
everyTimeApp.get('/x', requireMaskinportenToken({ verifier: everyTime }), handler);
// The least any guard costs over HTTP: a middleware of its own (one more layer for Express to
// run) that takes the bearer from the header, looks it up in a Map of verified tokens and puts
// the claims on the request.
const verifiedOverHttp = new Map([[token, Object.freeze({ scope: 'bench:a' })]]);
const handGuardedApp = express();
handGuardedApp.get('/x', (req, res, next) => {
  const h = req.headers.authorization;
  const claims = typeof h === 'string' && h.startsWith('Bearer ') ? verifiedOverHttp.get(h.slice(7)) : undefined;
  if (!claims) return res.status(401).end();
  req.auth = claims;
  return next();
}, handler);
const plain = await listen(plainApp);
const guarded = await listen(guardedApp);
const checking = await listen(everyTimeApp);
const handGuarded = await listen(handGuardedApp);
const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
const headers = { authorization: `Bearer ${token}` };

function get(server) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.address().port, path: '/x', agent, headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

const SLICE = 500; // requests per slice, 20 in flight; 40 slices a round: 20 000 requests per side
const [overHttp, handOverHttp] = await bench.compare({
  baseline: { label: 'route without the middleware', run: concurrentLoop(() => get(plain), SLICE, 20) },
  subjects: [
    { label: 'requireMaskinportenToken() (default verifier)', run: concurrentLoop(() => get(guarded), SLICE, 20), figure: 'express requireMaskinportenToken() vs no middleware', goal: { max: 1.03 } },
    { label: 'hand-written guard: bearer, Map lookup, req.auth', run: concurrentLoop(() => get(handGuarded), SLICE, 20), figure: 'express hand-written Map guard vs no middleware' },
  ],
  ops: SLICE,
  chunks: 40,
  kind: 'time',
  rounds: 5,
  warmup: 4,
});
// The same rounds, the guard against the hand-written one: what Portvakt adds over the least a
// guard costs over HTTP.
await bench.sample({
  figure: 'express requireMaskinportenToken() vs a hand-written Map guard, over HTTP',
  unit: 'x time',
  run: (r) => overHttp.subject.perRoundMs[r] / handOverHttp.subject.perRoundMs[r],
  goal: { max: 1.03 },
});
await bench.compare({
  baseline: { label: 'route without the middleware', run: concurrentLoop(() => get(plain), SLICE, 20) },
  subjects: [{ label: 'requireMaskinportenToken(), signature every request', run: concurrentLoop(() => get(checking), SLICE, 20), figure: 'express requireMaskinportenToken() (cache: false) vs no middleware' }],
  ops: SLICE,
  chunks: 8,
  kind: 'time',
  rounds: 5,
  warmup: 1,
});

// The middleware alone, in process (no HTTP), against a hand-written middleware that does the
// least a guard can: take the bearer from the header and look it up in a Map of verified tokens.
// A ratio, not microseconds, so load from elsewhere on the machine falls on both sides alike; the
// microseconds per request of each side are printed beside it.
const middleware = requireMaskinportenToken({ verifier: remembering });
const verified = new Map([[token, Object.freeze({ scope: 'bench:a' })]]);
function handWritten(req, _res, next) {
  const h = req.headers.authorization;
  const claims = typeof h === 'string' && h.startsWith('Bearer ') ? verified.get(h.slice(7)) : undefined;
  if (!claims) return next(new Error('unauthorized'));
  req.auth = claims;
  return next();
}
const response = {};
// A new header string per request, as the HTTP parser makes one: its hash is not cached.
const headerFor = (i) => `Bearer ${token}${''.padEnd(i % 2)}`.trimEnd();
const through = (mw) => (i) => new Promise((resolve, reject) => mw({ headers: { authorization: headerFor(i) } }, response, (err) => (err ? reject(err) : resolve())));
const CALLS = 5_000; // per slice; 10 slices a round
await bench.compare({
  baseline: { label: 'hand-written guard: bearer from the header, Map lookup', run: asyncLoop(through(handWritten), CALLS) },
  subjects: [{ label: 'requireMaskinportenToken() (remembered token)', run: asyncLoop(through(middleware), CALLS), figure: 'requireMaskinportenToken() per request in process vs a hand-written Map guard', goal: { max: 1.15 } }],
  ops: CALLS,
  chunks: 10,
  kind: 'time',
  rounds: 7,
  warmup: 2,
});

// --- 3. the Texas introspection verifier on a remembered token -----------------------------
const texasVerifier = createTexasIntrospectionVerifier({ endpoint: sim.texas.introspectionEndpoint, scope: 'bench:a' });
await texasVerifier.verify(token);
const texasMiddleware = requireMaskinportenToken({ verifier: texasVerifier });
await bench.compare({
  baseline: { label: 'requireMaskinportenToken(), local verifier (remembered token)', run: asyncLoop(through(middleware), CALLS) },
  subjects: [{ label: 'requireMaskinportenToken(), Texas introspection verifier (remembered token)', run: asyncLoop(through(texasMiddleware), CALLS), figure: 'requireMaskinportenToken() with the Texas introspection verifier vs the local verifier, remembered token', goal: { max: 1.1 } }],
  ops: CALLS,
  chunks: 10,
  kind: 'time',
  rounds: 7,
  warmup: 2,
});
bench.log(`key-set fetches: ${sim.requests.filter((r) => r.path === '/jwk').length - 1} by the verifiers, 1 by the jose baseline; introspections: ${sim.texas.introspectionCount()}`);

agent.destroy();
for (const s of [plain, guarded, checking, handGuarded]) { s.closeAllConnections(); s.close(); }
await client.close();
await sim.close();
bench.finish();
