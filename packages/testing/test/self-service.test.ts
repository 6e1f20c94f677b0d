import { afterEach, describe, expect, it } from 'vitest';
import { generateClientKey } from '../src/fixtures/keys.js';
import { startMaskinportenSimulator } from '../src/simulator/server.js';
import type { MaskinportenSimulator } from '../src/simulator/server.js';
import { baseClaims, postToken, signGrant } from './helpers.js';

const ORG = '991825827';
const OTHER_ORG = '910753614';
const admin = generateClientKey({ kid: 'admin-key' });
const app = generateClientKey({ kid: 'app-key-1' });
const next = generateClientKey({ kid: 'app-key-2' });
let sim: MaskinportenSimulator | undefined;
let t = Date.UTC(2026, 10, 30, 12, 0, 0);

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(propagationMs = 0): Promise<MaskinportenSimulator> {
  sim = await startMaskinportenSimulator({
    clock: { now: () => t },
    selfServicePropagationMs: propagationMs,
    clients: [
      { clientId: 'admin', orgno: ORG, scopes: ['idporten:dcr.modify', 'idporten:dcr.read', 'demo:x'], jwks: [admin.publicJwk] },
      { clientId: 'reader', orgno: ORG, scopes: ['idporten:dcr.read'], jwks: [admin.publicJwk] },
      { clientId: 'app', orgno: ORG, scopes: ['demo:x'], jwks: [app.publicJwk] },
      { clientId: 'foreign-admin', orgno: OTHER_ORG, scopes: ['idporten:dcr.modify'], jwks: [admin.publicJwk] },
    ],
  });
  return sim;
}

async function tokenFor(s: MaskinportenSimulator, clientId: string, scope: string, key = admin): Promise<{ status: number; json: Record<string, string> }> {
  return postToken(s.tokenEndpoint, signGrant({ alg: 'RS256', kid: key.kid }, baseClaims(s.issuer, clientId, scope, t), key.privateKeyPem));
}

async function jwks(s: MaskinportenSimulator, clientId: string, init: { method?: string; token?: string; body?: unknown } = {}) {
  const res = await fetch(`${s.selfServiceUrl}/clients/${clientId}/jwks`, {
    method: init.method ?? 'GET',
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  return { status: res.status, json: (await res.json()) as { keys?: Record<string, unknown>[]; error?: string; error_description?: string } };
}

async function adminToken(s: MaskinportenSimulator, scope = 'idporten:dcr.modify'): Promise<string> {
  const res = await tokenFor(s, 'admin', scope);
  expect(res.status).toBe(200);
  return res.json.access_token as string;
}

describe('self-service key set API', () => {
  it('reads a client\'s key set with a dcr token and replaces it by POST and by PUT', async () => {
    const s = await start();
    const token = await adminToken(s);
    const read = await jwks(s, 'app', { token });
    expect(read.status).toBe(200);
    expect(read.json.keys?.map((k) => k.kid)).toEqual(['app-key-1']);

    const posted = await jwks(s, 'app', { method: 'POST', token, body: { keys: [app.publicJwk, next.publicJwk] } });
    expect(posted.status).toBe(200);
    expect((await jwks(s, 'app', { token })).json.keys?.map((k) => k.kid)).toEqual(['app-key-1', 'app-key-2']);

    const put = await jwks(s, 'app', { method: 'PUT', token, body: { keys: [next.publicJwk] } });
    expect(put.status).toBe(200);
    expect((await jwks(s, 'app', { token })).json.keys?.map((k) => k.kid)).toEqual(['app-key-2']);
    // The dropped key no longer signs grants.
    expect((await tokenFor(s, 'app', 'demo:x', app)).json.error_description).toMatch(/^MP-124 /);
    expect((await tokenFor(s, 'app', 'demo:x', next)).status).toBe(200);
  });

  it('refuses a missing token, a token without the admin scope, a read-only token for writes, and another organisation\'s client', async () => {
    const s = await start();
    expect((await jwks(s, 'app')).status).toBe(401);
    expect((await jwks(s, 'app', { token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' })).status).toBe(401);
    const plain = (await tokenFor(s, 'admin', 'demo:x')).json.access_token as string;
    expect((await jwks(s, 'app', { token: plain })).status).toBe(403);
    const reader = (await tokenFor(s, 'reader', 'idporten:dcr.read')).json.access_token as string;
    expect((await jwks(s, 'app', { token: reader })).status).toBe(200);
    expect((await jwks(s, 'app', { method: 'PUT', token: reader, body: { keys: [next.publicJwk] } })).status).toBe(403);
    const foreign = (await tokenFor(s, 'foreign-admin', 'idporten:dcr.modify')).json.access_token as string;
    expect((await jwks(s, 'app', { token: foreign })).status).toBe(404);
  });

  it('enforces Digdir\'s limits on the set: at most 5 keys, RSA only, 2048 bits, RS256, kid present and unique, public keys only', async () => {
    const s = await start();
    const token = await adminToken(s);
    const write = (body: unknown) => jwks(s, 'app', { method: 'PUT', token, body });
    const keys = [1, 2, 3, 4, 5, 6].map((i) => ({ ...app.publicJwk, kid: `k${i}` }));
    expect((await write({ keys: keys.slice(0, 5) })).status).toBe(200);
    const cases: [unknown, RegExp][] = [
      [{ keys }, /at most 5 keys/],
      [{ keys: [] }, /at least one key/],
      [[app.publicJwk], /JWK set/],
      ['{not json', /JWK set/],
      [{ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', kid: 'ec', alg: 'ES256' }] }, /only RSA/],
      [{ keys: [{ ...app.publicJwk, kid: undefined }] }, /kid is required/],
      [{ keys: [{ ...app.publicJwk, kid: 'bad kid!' }] }, /kid is required/],
      [{ keys: [{ ...app.publicJwk, alg: 'RS512' }] }, /alg must be RS256/],
      [{ keys: [app.privateJwk] }, /private key members/],
      [{ keys: [app.publicJwk, app.publicJwk] }, /more than once/],
      [{ keys: [generateClientKey({ kid: 'small', modulusLength: 1024 }).publicJwk] }, /1024 bits/],
    ];
    for (const [body, message] of cases) {
      const res = await write(body);
      expect(res.status).toBe(400);
      expect(res.json.error_description).toMatch(message);
    }
    // A refused write leaves the set as it was.
    expect((await jwks(s, 'app', { token })).json.keys?.map((k) => k.kid)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it('accepts a newly added key at /token only after the propagation delay on the simulator clock', async () => {
    const s = await start(120_000);
    const token = await adminToken(s);
    expect((await jwks(s, 'app', { method: 'POST', token, body: { keys: [app.publicJwk, next.publicJwk] } })).status).toBe(200);
    const early = await tokenFor(s, 'app', 'demo:x', next);
    expect(early.status).toBe(400);
    expect(early.json.error_description).toMatch(/^MP-124 .*Unknown key id/);
    // The key already registered keeps working meanwhile.
    expect((await tokenFor(s, 'app', 'demo:x', app)).status).toBe(200);
    t += 119_000;
    expect((await tokenFor(s, 'app', 'demo:x', next)).status).toBe(400);
    t += 1_000;
    expect((await tokenFor(s, 'app', 'demo:x', next)).status).toBe(200);
    // Writing the same set again does not start the wait over for keys already there.
    expect((await jwks(s, 'app', { method: 'PUT', token: await adminToken(s), body: { keys: [next.publicJwk] } })).status).toBe(200);
    expect((await tokenFor(s, 'app', 'demo:x', next)).status).toBe(200);
  });
});
