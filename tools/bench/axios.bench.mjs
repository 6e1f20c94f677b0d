// Cost of withMaskinporten() on Axios requests, against the same requests with a static
// Authorization header (goal: at most 1.03x time, issue 28).
//
// 1. Loopback requests, 50 in flight, keep-alive agent, warm token cache: static header against
//    withMaskinporten() with path-only URLs (the common case) and with absolute URLs (checked
//    against the origin policy). Each round is 10 slices of 300 requests per case, the order
//    alternating from slice to slice.
//    The same slices also give the process's CPU time per side (user + system, this process
//    being client and server alike): on a loaded machine the wall time of 300 requests moves with
//    other processes, the CPU time they cost much less. Its ratio is a figure of its own.
// 2. The in-process part alone: the same calls through an adapter that answers at once, so the
//    network does not hide the cost.
import http from 'node:http';
import axios from 'axios';
import { createMaskinportenClient } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { asyncLoop, concurrentLoop, createBench } from './harness.mjs';

const bench = createBench('axios', 'withMaskinporten() against a static Authorization header');
const IN_FLIGHT = 50;
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
  res.end('{}');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });
const token = await client.getToken();
const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });

const plain = axios.create({ baseURL, httpAgent: agent, headers: { Authorization: token.authorization } });
const portvakt = axios.create({ baseURL, httpAgent: agent });
withMaskinporten(portvakt, { client });

const SLICE = 300;
const CHUNKS = 10;
const WARMUP = 3;
/** CPU milliseconds of each run of a side, in the order the harness ran them. */
const cpu = { static: [], path: [], absolute: [] };
const withCpu = (name, run) => async () => {
  const before = process.cpuUsage();
  const ms = await run();
  const used = process.cpuUsage(before);
  cpu[name].push((used.user + used.system) / 1000);
  return ms;
};
await bench.compare({
  baseline: { label: 'static Authorization header', run: withCpu('static', concurrentLoop(() => plain.get('/x'), SLICE, IN_FLIGHT)) },
  subjects: [
    { label: 'withMaskinporten(), path-only URL', run: withCpu('path', concurrentLoop(() => portvakt.get('/x'), SLICE, IN_FLIGHT)), figure: 'axios: withMaskinporten() path-only URL vs static header', goal: { max: 1.03 } },
    { label: 'withMaskinporten(), absolute URL', run: withCpu('absolute', concurrentLoop(() => portvakt.get(`${baseURL}/x`), SLICE, IN_FLIGHT)), figure: 'axios: withMaskinporten() absolute URL vs static header', goal: { max: 1.03 } },
  ],
  ops: SLICE,
  chunks: CHUNKS,
  kind: 'time',
  rounds: 5,
  warmup: WARMUP,
});
// The CPU time of the same slices, summed per round (the warm-up's left out).
const cpuOfRound = (name, r) => cpu[name].slice(WARMUP + r * CHUNKS, WARMUP + (r + 1) * CHUNKS).reduce((a, b) => a + b, 0);
await bench.sample({
  figure: 'axios: withMaskinporten() path-only URL vs static header, process CPU time',
  unit: 'x cpu',
  run: (r) => cpuOfRound('path', r) / cpuOfRound('static', r),
});

// 2. In-process cost only: an adapter that answers at once.
const instant = async (config) => ({ data: '{}', status: 200, statusText: 'OK', headers: {}, config, request: {} });
const plainLocal = axios.create({ baseURL, adapter: instant, headers: { Authorization: token.authorization } });
const portvaktLocal = axios.create({ baseURL, adapter: instant });
withMaskinporten(portvaktLocal, { client });
const LOCAL = 2_000;
await bench.compare({
  baseline: { label: 'static Authorization header, instant adapter', run: asyncLoop(() => plainLocal.get('/x'), LOCAL) },
  subjects: [{ label: 'withMaskinporten(), instant adapter', run: asyncLoop(() => portvaktLocal.get('/x'), LOCAL), figure: 'axios in-process: withMaskinporten() vs static header (no network)' }],
  ops: LOCAL,
  chunks: 20,
  kind: 'time',
  rounds: 7,
  warmup: 5,
});

agent.destroy();
await client.close();
await sim.close();
server.close();
bench.finish();
