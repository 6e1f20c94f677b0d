// Cold start to the first authorised call, in whole processes: a new Node process that imports
// Axios, @portvakt/core and @portvakt/axios, creates the client from the environment (fromEnv(),
// the variables NAIS injects), and makes one call through withMaskinporten() (subject), against
// the same process written by hand: the grant signed with node:crypto, fetch to the token
// endpoint, Axios with a static header (baseline). Both get their token from the simulator and
// call the same loopback API, which checks the token's signature against the simulator's key.
//
// Each side is a child process (cold-start-portvakt-child.mjs, cold-start-floor-child.mjs); the
// wall time runs from spawn() until the child has exited. Peak RSS is the child's own
// high-water mark (getrusage, the figure wait4 would give), reported as it exits, with the CPU
// time it used (user + system), which load from elsewhere moves far less than the wall time.
// 11 rounds, the order alternating from round to round; goals from issue 28: at most 1.1x the
// floor's time and at most 3 MiB more peak RSS.
import { spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { createBench, median, nowMs } from './harness.mjs';

const bench = createBench('cold-start', 'process start, imports, one token, one authorised call: Portvakt against a hand-written floor');
const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = 11;
const WARMUP = 1;
const CHILD_TIMEOUT_MS = 60_000;

const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const signingKeys = new Map(((await (await fetch(sim.jwksUri)).json()).keys ?? []).map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]));

/** A bearer the API takes: an RS256 token signed by the simulator and issued by it. */
function isSimulatorToken(authorization) {
  const [scheme, token] = (authorization ?? '').split(' ');
  const [header, payload, signature] = (token ?? '').split('.');
  if (scheme !== 'Bearer' || signature === undefined) return false;
  try {
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString());
    const publicKey = signingKeys.get(kid);
    return publicKey !== undefined && verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url')) && JSON.parse(Buffer.from(payload, 'base64url').toString()).iss === sim.issuer;
  } catch {
    return false;
  }
}

let authorised = 0;
const api = http.createServer((req, res) => {
  const ok = isSimulatorToken(req.headers.authorization);
  if (ok) authorised += 1;
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': '2' });
  res.end('{}');
});
await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
const env = {
  ...process.env,
  MASKINPORTEN_CLIENT_ID: 'bench',
  MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk),
  MASKINPORTEN_SCOPES: 'bench:a',
  MASKINPORTEN_ISSUER: sim.issuer,
  MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint,
  API_URL: `http://127.0.0.1:${api.address().port}`,
};
delete env.MASKINPORTEN_WELL_KNOWN_URL;
delete env.MASKINPORTEN_ENVIRONMENT;
delete env.NODE_OPTIONS;

/** Runs one child to its exit; resolves with its wall time, peak RSS and CPU time, after checking it made exactly one authorised call with one new token. */
function runChild(file) {
  const issuedBefore = sim.issuedTokenCount();
  const authorisedBefore = authorised;
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const child = spawn(process.execPath, [path.join(here, file)], { cwd: here, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = nowMs() - t0;
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${file} exited with ${signal ?? code}: ${err.trim().slice(0, 500)}`));
      const { status, maxRssKiB, cpuMicros } = JSON.parse(out);
      const issued = sim.issuedTokenCount() - issuedBefore;
      if (status !== 200 || authorised - authorisedBefore !== 1 || issued !== 1) {
        return reject(new Error(`${file}: status ${status}, ${authorised - authorisedBefore} authorised call(s), ${issued} token(s) issued; expected 200, 1 and 1`));
      }
      resolve({ ms, rssBytes: maxRssKiB * 1024, cpuMs: cpuMicros / 1000 });
    });
  });
}

const rss = { floor: [], portvakt: [] };
const cpu = { floor: [], portvakt: [] };
const side = (name, file) => async () => {
  const { ms, rssBytes, cpuMs } = await runChild(file);
  rss[name].push(rssBytes);
  cpu[name].push(cpuMs);
  return ms;
};
const [time] = await bench.compare({
  baseline: { label: 'by hand: node:crypto grant, fetch, Axios + static header', run: side('floor', 'cold-start-floor-child.mjs') },
  subjects: [{
    label: 'Portvakt: core + axios, fromEnv(), withMaskinporten()',
    run: side('portvakt', 'cold-start-portvakt-child.mjs'),
    figure: 'cold start: Portvakt (core + axios, fromEnv) vs hand-written floor, process wall time',
    goal: { max: 1.1 },
  }],
  ops: 1,
  kind: 'time',
  rounds: ROUNDS,
  warmup: WARMUP,
});
// The CPU time and peak RSS of the same processes, round by round (the warm-up's left out).
await bench.sample({
  figure: 'cold start: process CPU time, Portvakt vs hand-written floor',
  unit: 'x cpu',
  rounds: time.perRound.length,
  run: (r) => cpu.portvakt[WARMUP + r] / cpu.floor[WARMUP + r],
});
const floorRss = rss.floor.slice(WARMUP);
const portvaktRss = rss.portvakt.slice(WARMUP);
const mib = (bytes) => bytes / 2 ** 20;
bench.log(`peak RSS, median of ${floorRss.length} processes per side: floor ${mib(median(floorRss)).toFixed(1)} MiB, Portvakt ${mib(median(portvaktRss)).toFixed(1)} MiB`);
await bench.sample({
  figure: 'cold start: peak RSS, Portvakt vs hand-written floor',
  unit: 'x size',
  rounds: time.perRound.length,
  run: (r) => portvaktRss[r] / floorRss[r],
});
await bench.sample({
  figure: 'cold start: peak RSS Portvakt adds over the floor',
  unit: 'MiB',
  rounds: time.perRound.length,
  run: (r) => mib(portvaktRss[r] - floorRss[r]),
  goal: { max: 3 },
});
bench.log(`${sim.issuedTokenCount()} tokens issued for ${2 * (ROUNDS + WARMUP)} processes; every call authorised by a token the simulator signed`);

api.close();
await sim.close();
bench.finish();
