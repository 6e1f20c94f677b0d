// The Next.js shape: `next build` with no MASKINPORTEN_* variable set, then `next start` against the
// simulator, and one call each through a route handler, a server component and a server action,
// all with one token request for the process. The API checks every token's RS256 signature
// against the simulator's JWKS.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';

const CLIENT_ID = 'compat-next';
const SCOPE = 'compat:read';
const NEXT = ['node_modules/next/dist/bin/next'];
const key = generateClientKey({ kid: 'compat-next-key' });
const seen = [];
let sim, api, apiUrl, app, appUrl;

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
  if (claims.iss !== sim.issuer || claims.scope !== SCOPE || claims.exp * 1000 <= Date.now()) throw new Error('wrong claims');
  return claims;
}

const listen = (srv, port = 0) => new Promise((resolve) => srv.listen(port, '127.0.0.1', () => resolve(srv.address().port)));
const close = (srv) => new Promise((resolve) => (srv ? (srv.closeAllConnections(), srv.close(() => resolve())) : resolve()));

/** The environment without any MASKINPORTEN_* variable, as in a CI build. */
function withoutSecrets(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MASKINPORTEN_')));
  return { ...env, NEXT_TELEMETRY_DISABLED: '1', ...extra };
}

/** Runs a command to its end (or kills it at the timeout); resolves with its exit code and output. */
function run(args, env, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function freePort() {
  const probe = createServer();
  const port = await listen(probe);
  await close(probe);
  return port;
}

async function waitForHttp(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`next start did not answer within ${timeoutMs / 1000} s`);
}

before(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: CLIENT_ID, orgno: '991825827', scopes: [SCOPE], jwks: [key.publicJwk] }] });
  api = createServer((req, res) => {
    seen.push(req.url);
    verifyBearer(req.headers.authorization).then(
      (claims) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: claims.client_id })),
      (error) => res.writeHead(401).end(error.message),
    );
  });
  apiUrl = `http://127.0.0.1:${await listen(api)}`;
});

after(async () => {
  if (app && app.exitCode === null) {
    const exited = new Promise((resolve) => app.once('exit', resolve));
    app.kill('SIGTERM');
    const timer = setTimeout(() => app.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await close(api);
  await sim?.close();
});

test('next build passes with no MASKINPORTEN_* variable set', async () => {
  const t0 = Date.now();
  const { code, output } = await run([...NEXT, 'build'], withoutSecrets(), 240_000);
  console.log(`next build: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(code, 0, output);
});

test('next start: a route handler, a server component and a server action get a token, with one token request', async () => {
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  const env = withoutSecrets({
    API_URL: apiUrl,
    // What NAIS injects, pointing at the simulator.
    MASKINPORTEN_CLIENT_ID: CLIENT_ID,
    MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk),
    MASKINPORTEN_SCOPES: SCOPE,
    MASKINPORTEN_WELL_KNOWN_URL: sim.metadataUrl,
    MASKINPORTEN_ISSUER: sim.issuer,
    MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint,
  });
  let output = '';
  app = spawn(process.execPath, [...NEXT, 'start', '-p', String(port), '-H', '127.0.0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  app.stdout.on('data', (d) => (output += d));
  app.stderr.on('data', (d) => (output += d));
  await waitForHttp(`${appUrl}/robots.txt`, app, 60_000).catch((error) => assert.fail(`${error.message}\n${output}`));

  const routeHandler = await fetch(`${appUrl}/api/whoami`);
  assert.equal(routeHandler.status, 200, output);
  assert.deepEqual(await routeHandler.json(), { status: 200, body: JSON.stringify({ client_id: CLIENT_ID }) });

  const page = await fetch(appUrl);
  const html = await page.text();
  assert.equal(page.status, 200, output);
  assert.match(html, /server component: (<!-- -->)?API answered (<!-- -->)?200/);

  // The form as a browser without JavaScript submits it: the action's id is in the rendered HTML.
  const actionField = /name="(\$ACTION_ID_[0-9a-f]+)"/.exec(html)?.[1];
  assert.ok(actionField, 'the page renders the server action form');
  const form = new FormData();
  form.set(actionField, '');
  const action = await fetch(appUrl, { method: 'POST', body: form, headers: { origin: appUrl } });
  assert.equal(action.status, 200, output);
  assert.match(output, /server action: API answered 200/);

  // The action re-renders the page, which calls the API once more.
  assert.deepEqual(seen, ['/route-handler', '/server-component', '/server-action', '/server-component']);
  assert.equal(sim.tokenRequestCount(), 1, 'one token request for the whole process, every layer included');
});

test('the edge-light export condition (Next.js edge runtime) stops with what to do', async () => {
  const { code, output } = await run(['--conditions=edge-light', '--input-type=module', '-e', "await import('@portvakt/core')"], withoutSecrets(), 30_000);
  assert.notEqual(code, 0);
  assert.match(output, /@portvakt\/core needs the Node\.js runtime, and this code was bundled for an edge runtime/);
});
