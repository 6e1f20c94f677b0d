#!/usr/bin/env node
// Portvakt against the npm peer, @vtfk/maskinporten-auth, on the same local Maskinporten (the
// @portvakt/testing simulator) and the same enterprise certificate. Run on demand, not by
// tools/bench/run.mjs or CI, because it installs the peer from the npm registry:
//
//   node tools/bench/peers/run.mjs [--json] [--calls 2000] [--concurrency 50] [--outage 30]
//
// (after a build: pnpm --filter @portvakt/core --filter @portvakt/testing build). The peer is
// installed with `npm install --prefix tools/bench/peers/.deps` (git-ignored) at a pinned version
// (PEER_VERSION overrides it).
//
// How the peer is called, from its README and lib/maskinporten-auth.js (v2.0.5): one exported
// async function, `maskinportenToken({ url, pemcert, pemprivateKey, audience, issuer, scope })`
// with the certificate and key as base64 of their PEM text. Each call signs a new grant with
// jsonwebtoken (RS256, `x5c` = the leaf certificate, exp = iat + 120, a nanoid jti) and POSTs it
// with Axios; it caches nothing, so every call is a token request. It resolves with Maskinporten's
// JSON body ({ access_token, ... }).
//
// Figures, per client (Portvakt; the peer when the simulator accepts its grants):
//   - calls of `--calls` (token, then a GET with the bearer to a loopback API; `--concurrency` in
//     flight) against the same calls with a static token: median time ratio over 5 alternating
//     rounds, with spread;
//   - token requests per `--calls` calls (a new, cold Portvakt client every round);
//   - calls failed during a `--outage`-second Maskinporten outage (a second simulator, same
//     registration, answers every token request with 503), calls made at a steady 20 a second by
//     each client in the same window. That simulator issues 50-second tokens, so the background
//     refresh of Portvakt's client (warm when the outage starts; refresh due at 25 s +- 10 %)
//     falls inside a 30-second outage and has to fail there.
// When the simulator rejects what the peer sends, the benchmark prints the rejection (and what a
// grant with only that problem fixed gets) instead of the peer's figures.
import { execFileSync } from 'node:child_process';
import { randomUUID, sign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { URLSearchParams, fileURLToPath } from 'node:url';
import { createMaskinportenClient } from '@portvakt/core';
import { createTestPki, startMaskinportenSimulator } from '@portvakt/testing';
import { concurrentLoop, createBench } from '../harness.mjs';

const PEER = '@vtfk/maskinporten-auth';
const PEER_VERSION = process.env.PEER_VERSION ?? '2.0.5';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CALLS = arg('calls', 2_000);
const CONCURRENCY = arg('concurrency', 50);
const OUTAGE_S = arg('outage', 30);
const PACE_MS = 50; // 20 calls a second per client during the outage
const here = path.dirname(fileURLToPath(import.meta.url));
const deps = path.join(here, '.deps');

// 1. The peer, installed at run time into the git-ignored .deps folder.
const peerDir = path.join(deps, 'node_modules', ...PEER.split('/'));
const installed = existsSync(path.join(peerDir, 'package.json')) ? JSON.parse(readFileSync(path.join(peerDir, 'package.json'), 'utf8')).version : undefined;
if (installed !== PEER_VERSION) {
  process.stderr.write(`installing ${PEER}@${PEER_VERSION} into ${path.relative(process.cwd(), deps)}\n`);
  execFileSync('npm', ['install', '--prefix', deps, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `${PEER}@${PEER_VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] });
}
const peerSource = readFileSync(path.join(peerDir, 'lib', 'maskinporten-auth.js'), 'utf8');
for (const option of ['pemcert', 'pemprivateKey', 'audience', 'issuer', 'scope', 'url']) {
  if (!peerSource.includes(`options.${option}`)) throw new Error(`${PEER}@${PEER_VERSION} no longer reads options.${option}: read its README again and update this benchmark`);
}
const maskinportenToken = createRequire(path.join(deps, 'index.cjs'))(PEER);

const bench = createBench('peers', `Portvakt and ${PEER}@${PEER_VERSION} against the same simulator`);

// 2. One organisation, one enterprise certificate, one client registration for both.
const ORGNO = '991825827';
const CLIENT_ID = 'peer-bench';
const SCOPE = 'bench:read';
const pki = createTestPki();
const cert = pki.issueEnterpriseCertificate({ orgno: ORGNO });
// Trusting the intermediate as well as the root is what the real service does: it knows the CAs'
// intermediates, so a grant whose x5c holds only the leaf (as the peer's does) still chains.
const registration = {
  trustedCaPems: [...pki.trustedCaPems, pki.intermediateCertificatePem],
  clients: [{ clientId: CLIENT_ID, orgno: ORGNO, scopes: [SCOPE], acceptCertificates: true }],
};
const sim = await startMaskinportenSimulator(registration);
// The peer's README has users make cert.pem and private.key with openssl, which writes LF line
// endings; the fixture's certificate PEM (node-forge) has CRLF, which the peer's x5c clean-up
// would leave in the base64. So both clients get the PEM text openssl would have written.
const lf = (pem) => pem.replace(/\r\n/g, '\n');
const portvaktClient = (on = sim) => createMaskinportenClient({
  clientId: CLIENT_ID,
  environment: on.environment(),
  key: { certificateChainPem: lf(cert.chainPem), privateKeyPem: lf(cert.privateKeyPem) },
  scope: SCOPE,
});
const peerOptionsFor = (on) => ({
  url: on.tokenEndpoint,
  pemcert: Buffer.from(lf(cert.certificatePem)).toString('base64'),
  pemprivateKey: Buffer.from(lf(cert.privateKeyPem)).toString('base64'),
  audience: on.issuer,
  issuer: CLIENT_ID,
  scope: SCOPE,
});
const peerOptions = peerOptionsFor(sim);

// The API both call: a loopback server that wants a bearer token.
let apiRejected = 0;
const api = http.createServer((req, res) => {
  const ok = /^Bearer \S+$/.test(req.headers.authorization ?? '');
  if (!ok) apiRejected += 1;
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': '2' });
  res.end('{}');
});
await new Promise((r) => api.listen(0, '127.0.0.1', r));
const apiUrl = `http://127.0.0.1:${api.address().port}/v1/x`;
async function callApi(authorization) {
  const response = await fetch(apiUrl, { headers: { authorization } });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`API answered ${response.status}`);
}

// 3. Does the simulator accept what the peer sends?
function describeFailure(err) {
  const body = err?.response?.data;
  const record = sim.requests.filter((r) => r.path === '/token').at(-1);
  const code = record?.error?.code && !String(body?.error_description).includes(record.error.code) ? ` ${record.error.code}` : '';
  const status = err?.response?.status ?? record?.status;
  const detail = typeof body === 'object' && body ? `${body.error}${code}: ${body.error_description}` : String(err?.message ?? err);
  return { text: `HTTP ${status} ${detail}`, grant: record?.grant };
}
let peerRejection;
try {
  const token = await maskinportenToken(peerOptions);
  if (typeof token?.access_token !== 'string') throw new Error(`unexpected response shape: ${Object.keys(token ?? {}).join(', ')}`);
} catch (err) {
  peerRejection = describeFailure(err);
}
if (peerRejection) {
  const { header, claims } = peerRejection.grant ?? {};
  bench.log(`${PEER}@${PEER_VERSION}: the simulator rejects its grant, so there are no figures for it:`);
  bench.log(`  ${peerRejection.text}`);
  if (header) {
    bench.log(`  its grant header: ${JSON.stringify({ ...header, x5c: Array.isArray(header.x5c) ? `[${header.x5c.length} certificate(s)]` : header.x5c })}`);
    bench.log(`  its grant claims: ${Object.keys(claims).join(', ')} (exp - iat = ${claims.exp - claims.iat} s)`);
    // Diagnosis, not a figure: the same grant with only the named header parameter(s) removed,
    // re-signed with the same key, to tell whether that is the only thing the simulator objects to.
    const named = /Undocumented header parameter: ([\w, ]+)\./.exec(peerRejection.text)?.[1]?.split(', ') ?? [];
    if (named.length > 0) {
      const fixedHeader = Object.fromEntries(Object.entries(header).filter(([k]) => !named.includes(k)));
      const now = Math.floor(Date.now() / 1000);
      const fixedClaims = { ...claims, iat: now, exp: now + (claims.exp - claims.iat), jti: randomUUID() };
      const input = `${Buffer.from(JSON.stringify(fixedHeader)).toString('base64url')}.${Buffer.from(JSON.stringify(fixedClaims)).toString('base64url')}`;
      const assertion = `${input}.${sign('sha256', Buffer.from(input), cert.privateKeyPem).toString('base64url')}`;
      const response = await fetch(sim.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }) });
      const body = await response.json();
      bench.log(`  diagnosis: the same grant without ${named.join(', ')}, re-signed with the same key: ${response.ok ? `accepted (HTTP 200, token for "${body.scope}")` : `HTTP ${response.status} ${body.error}: ${body.error_description}`}`);
    }
  }
  bench.log(`  (the protocol notes list typ as undocumented, open question Q8; the simulator accepts alg, kid or x5c, and typ only as JWT)`);
}

// 4. Calls against a static token.
const staticToken = (await portvaktClient().getToken()).authorization;
const requestsOf = { portvakt: [], peer: [] };
const counted = (side, run) => async () => {
  const before = sim.tokenRequestCount();
  const ms = await run();
  requestsOf[side].push(sim.tokenRequestCount() - before);
  return ms;
};
const portvaktRun = async () => {
  const client = portvaktClient(); // cold: its first calls share one token request
  const ms = await concurrentLoop(async () => callApi((await client.getToken()).authorization), CALLS, CONCURRENCY)();
  await client.close();
  return ms;
};
const peerRun = concurrentLoop(async () => callApi(`Bearer ${(await maskinportenToken(peerOptions)).access_token}`), CALLS, CONCURRENCY);
const subjects = [{ label: `Portvakt: client.getToken() per call (cold client each round)`, run: counted('portvakt', portvaktRun), figure: `peers: Portvakt, ${CALLS} calls vs static token` }];
if (!peerRejection) subjects.push({ label: `${PEER}: maskinportenToken() per call`, run: counted('peer', peerRun), figure: `peers: ${PEER}, ${CALLS} calls vs static token` });
bench.log(`${CALLS.toLocaleString('en')} calls per side and round, ${CONCURRENCY} in flight; a call = token + GET to a loopback API with the bearer`);
await bench.compare({
  baseline: { label: 'static token (fetched once, before the rounds)', run: concurrentLoop(() => callApi(staticToken), CALLS, CONCURRENCY) },
  subjects,
  ops: CALLS,
  kind: 'time',
  rounds: 5,
});
for (const side of Object.keys(requestsOf)) {
  if (side === 'peer' && peerRejection) continue;
  const name = side === 'peer' ? PEER : 'Portvakt';
  // The warm-up's count is the first entry; the rounds follow.
  await bench.sample({ figure: `peers: ${name}, token requests per ${CALLS} calls`, unit: 'requests', run: async (r) => requestsOf[side][r + 1] });
}

// 5. The outage: every token request answered with 503 for OUTAGE_S seconds.
async function paced(call, until) {
  let ok = 0;
  let failed = 0;
  const inFlight = [];
  for (let next = Date.now(); Date.now() < until; next += PACE_MS) {
    inFlight.push(call().then(() => { ok += 1; }, () => { failed += 1; }));
    await new Promise((r) => setTimeout(r, Math.max(0, next + PACE_MS - Date.now())));
  }
  await Promise.all(inFlight);
  return { ok, failed };
}
const outageSim = await startMaskinportenSimulator({ ...registration, tokenLifetimeSeconds: 50 });
const warm = portvaktClient(outageSim);
await warm.getToken();
outageSim.reset();
outageSim.inject({ kind: 'status', status: 503, body: { error: 'server_error', error_description: 'Maskinporten is down (injected)' } }, { times: Infinity });
const until = Date.now() + OUTAGE_S * 1000;
const [ours, theirs] = await Promise.all([
  paced(async () => callApi((await warm.getToken()).authorization), until),
  peerRejection ? undefined : paced(async () => callApi(`Bearer ${(await maskinportenToken(peerOptionsFor(outageSim))).access_token}`), until),
]);
outageSim.clearFaults();
// Whose requests they were: the peer's grants carry jsonwebtoken's `typ`, Portvakt's never do.
const outageTokenPosts = outageSim.requests.filter((r) => r.path === '/token');
const outageRequests = { portvakt: outageTokenPosts.filter((r) => r.grant && !('typ' in r.grant.header)).length, peer: outageTokenPosts.filter((r) => r.grant && 'typ' in r.grant.header).length, unread: outageTokenPosts.filter((r) => !r.grant).length };
await outageSim.close();
await warm.close();
const outageFigure = (name, r) => bench.once({
  figure: `peers: ${name}, calls failed during a ${OUTAGE_S} s outage`,
  unit: 'failed calls',
  value: r.failed,
  detail: `${r.ok + r.failed} calls at ${1000 / PACE_MS}/s in the outage, ${r.failed} failed`,
});
await outageFigure('Portvakt', ours);
if (theirs) await outageFigure(PEER, theirs);
else bench.log(`${PEER}: outage not measured (its grants are rejected before the outage; see above)`);
bench.log(`token requests that reached the simulator during the outage, all answered 503: ${outageRequests.portvakt} from Portvakt (its background refresh and retries, while it served the still-valid token)${theirs ? `, ${outageRequests.peer} from ${PEER}` : ''}${outageRequests.unread ? `, ${outageRequests.unread} without a readable grant` : ''}; API rejections: ${apiRejected}`);

api.close();
await sim.close();
bench.finish();
