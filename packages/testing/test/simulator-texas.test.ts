// The simulator's NAIS Texas stand-in, against what nais/texas does (docs/maskinporten-rules.md
// §11.1): the request shapes, the cache (remaining expires_in, eviction 120 s before expiry or at
// half the remaining life, one Maskinporten request per herd, skip_cache), Maskinporten's errors
// passed on, Texas' own errors and retries, and introspection.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock, createTokenFactory, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator, SimulatorTexas } from '@portvakt/testing';
import { createIntrospector } from '../src/simulator/texas-introspect.js';
import { signGrant } from './helpers.js';

const ORG = '889640782';
const CUSTOMER = '910753614';
const clock = createManualClock();
let sim: MaskinportenSimulator;
let texas: SimulatorTexas;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({
    clock,
    tokenLifetimeSeconds: 300,
    texas: { client: { clientId: 'nais-app', orgno: ORG, scopes: ['nav:a', 'nav:b'], systemUsers: [{ orgno: CUSTOMER }] } },
  });
  texas = sim.texas!;
});
afterAll(() => sim.close());
afterEach(() => {
  sim.reset();
  sim.setClockOffset(0);
  texas.setMaskinportenEnabled(true);
});

async function post(url: string, body: unknown, contentType = 'application/json') {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
const token = (body: Record<string, unknown>, contentType?: string) => post(texas.tokenEndpoint, { identity_provider: 'maskinporten', ...body }, contentType);
const form = (fields: Record<string, string>) => post(texas.tokenEndpoint, new URLSearchParams({ identity_provider: 'maskinporten', ...fields }).toString(), 'application/x-www-form-urlencoded');
const introspect = (value: string) => post(texas.introspectionEndpoint, { identity_provider: 'maskinporten', token: value });
const claimsOf = (jwt: unknown) => JSON.parse(Buffer.from(String(jwt).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('the variables and the client', () => {
  it('gives the NAIS_TOKEN_* variables of its three endpoints', () => {
    expect(texas.env()).toEqual({
      NAIS_TOKEN_ENDPOINT: `${sim.url}/api/v1/token`,
      NAIS_TOKEN_INTROSPECTION_ENDPOINT: `${sim.url}/api/v1/introspect`,
      NAIS_TOKEN_EXCHANGE_ENDPOINT: `${sim.url}/api/v1/token/exchange`,
    });
    expect(texas.clientId).toBe('nais-app');
  });

  it('is absent unless asked for, and the paths are then unknown', async () => {
    const plain = await startMaskinportenSimulator();
    try {
      expect(plain.texas).toBeUndefined();
      expect((await fetch(`${plain.url}/api/v1/token`, { method: 'POST' })).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('adds its key to an existing client, which keeps its own', async () => {
    const own = generateClientKey({ kid: 'own' });
    const shared = await startMaskinportenSimulator({ clients: [{ clientId: 'app', orgno: ORG, scopes: ['nav:a'], jwks: [own.publicJwk] }], texas: { client: 'app' } });
    try {
      const res = await post(shared.texas!.tokenEndpoint, { identity_provider: 'maskinporten', target: 'nav:a' });
      expect(res.status).toBe(200);
      expect(claimsOf(res.json.access_token).client_id).toBe('app');
      expect(shared.requests.find((r) => r.path === '/token')?.grant?.header.kid).toBe('nais-texas');
    } finally {
      await shared.close();
    }
    await expect(startMaskinportenSimulator({ texas: { client: 'nobody' } })).rejects.toThrow(/not one of the simulator's clients/);
  });
});

describe('POST /api/v1/token', () => {
  it('answers a JSON and a form request with a Bearer token and its lifetime', async () => {
    const json = await token({ target: 'nav:a' });
    expect(json.status).toBe(200);
    expect(json.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });
    expect(claimsOf(json.json.access_token)).toMatchObject({ scope: 'nav:a', client_id: 'nais-app', consumer: { ID: `0192:${ORG}` } });
    const viaForm = await form({ target: 'nav:b' });
    expect(viaForm.status).toBe(200);
    expect(claimsOf(viaForm.json.access_token).scope).toBe('nav:b');
  });

  it('signs a grant Maskinporten takes: its own client, kid, scope, a 30 s lifetime', async () => {
    await token({ target: 'nav:a', resource: 'https://api.example.no/' });
    const grant = sim.requests.find((r) => r.path === '/token')?.grant;
    expect(grant?.header).toEqual({ alg: 'RS256', kid: 'nais-texas' });
    expect(grant?.claims).toMatchObject({ iss: 'nais-app', aud: sim.issuer, scope: 'nav:a', resource: 'https://api.example.no/' });
    expect((grant?.claims.exp as number) - (grant?.claims.iat as number)).toBe(30);
  });

  it('gives the time LEFT on its cached token as expires_in', async () => {
    const first = await token({ target: 'nav:a' });
    clock.advance(30_500);
    const second = await token({ target: 'nav:a' });
    expect(second.json.access_token).toBe(first.json.access_token);
    expect(second.json.expires_in).toBe(269);
    expect(sim.tokenRequestCount()).toBe(1);
    expect(sim.requests.filter((r) => r.path === '/api/v1/token').map((r) => r.texas?.cache)).toEqual(['miss', 'hit']);
  });

  it('evicts a token 120 s before it expires', async () => {
    const first = await token({ target: 'nav:a' });
    clock.advance(179_000);
    expect((await token({ target: 'nav:a' })).json).toMatchObject({ access_token: first.json.access_token, expires_in: 121 });
    clock.advance(1_000);
    const after = await token({ target: 'nav:a' });
    expect(after.json.access_token).not.toBe(first.json.access_token);
    expect(after.json.expires_in).toBe(300);
  });

  it('evicts a token of 120 s or less at half its life', async () => {
    // Maskinporten answers a 100 s token (the simulator's own are 300 s here).
    sim.inject({ kind: 'status', status: 200, body: { access_token: 'short.lived.token', token_type: 'Bearer', expires_in: 100 } });
    const first = await token({ target: 'nav:a' });
    expect(first.json).toMatchObject({ access_token: 'short.lived.token', expires_in: 100 });
    clock.advance(49_000);
    expect((await token({ target: 'nav:a' })).json).toMatchObject({ access_token: 'short.lived.token', expires_in: 51 });
    clock.advance(1_000);
    expect((await token({ target: 'nav:a' })).json.access_token).not.toBe('short.lived.token');
    expect(sim.tokenRequestCount()).toBe(2);
  });

  it('sends one Maskinporten request for a herd of equal requests', async () => {
    sim.inject({ kind: 'delay', ms: 300 }); // Maskinporten is slow: the herd waits for the one request
    const answers = await Promise.all(Array.from({ length: 50 }, () => token({ target: 'nav:a' })));
    expect(new Set(answers.map((a) => a.json.access_token)).size).toBe(1);
    expect(sim.tokenRequestCount()).toBe(1);
    expect(texas.tokenRequestCount()).toBe(50);
    const sources = sim.requests.filter((r) => r.path === '/api/v1/token').map((r) => r.texas?.cache);
    expect(sources.filter((s) => s === 'miss')).toHaveLength(1);
    // The rest joined the request under way, or (a late one) found the token cached.
    expect(sources.filter((s) => s === 'joined').length).toBeGreaterThan(0);
    expect(sources.filter((s) => s === 'joined' || s === 'hit')).toHaveLength(49);
  });

  it('keys its cache by the whole request: target, resource and authorization_details, member order aside', async () => {
    const details = (externalRef: string) => [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` }, externalRef }];
    await token({ target: 'nav:a' });
    await token({ target: 'nav:a nav:b' });
    await token({ target: 'nav:b nav:a' });
    await token({ target: 'nav:a', resource: 'https://one.example/' });
    await token({ target: 'nav:a', authorization_details: details(CUSTOMER) });
    await token({ target: 'nav:a', authorization_details: [{ externalRef: CUSTOMER, systemuser_org: { ID: `0192:${CUSTOMER}`, authority: 'iso6523-actorid-upis' }, type: 'urn:altinn:systemuser' }] });
    await form({ target: 'nav:a', authorization_details: JSON.stringify(details(CUSTOMER)) });
    expect(sim.tokenRequestCount()).toBe(5);
    expect(texas.cacheSize()).toBe(5);
  });

  it('skip_cache: true fetches a new token, which equal requests then get', async () => {
    const first = await token({ target: 'nav:a' });
    const skipped = await token({ target: 'nav:a', skip_cache: true });
    const later = await form({ target: 'nav:a' });
    expect(skipped.json.access_token).not.toBe(first.json.access_token);
    expect(later.json.access_token).toBe(skipped.json.access_token);
    await form({ target: 'nav:a', skip_cache: 'true' });
    expect(sim.tokenRequestCount()).toBe(3);
    expect(texas.skipCacheCount()).toBe(2);
  });

  it("passes Maskinporten's errors on with their status, and caches none", async () => {
    const refused = await token({ target: 'nav:not-mine' });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining('MP-200') });
    expect((await token({ target: 'nav:not-mine' })).status).toBe(400);
    expect(sim.tokenRequestCount()).toBe(2);
    sim.inject({ kind: 'status', status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed', error_uri: 'https://x' } });
    expect(await token({ target: 'nav:a' })).toEqual({ status: 401, json: { error: 'invalid_client', error_description: 'Client authentication failed' } });
  });

  it("answers its own 400 invalid_request when Maskinporten is not enabled, for any provider it does not serve", async () => {
    texas.setMaskinportenEnabled(false);
    expect(await token({ target: 'nav:a' })).toEqual({ status: 400, json: { error: 'invalid_request', error_description: "identity provider 'maskinporten' is not enabled" } });
    texas.setMaskinportenEnabled(true);
    expect((await post(texas.tokenEndpoint, { identity_provider: 'azuread', target: 'api://x/.default' })).json.error_description).toBe("identity provider 'entra_id' is not enabled");
    expect(sim.tokenRequestCount()).toBe(0);
  });

  it.each([
    ['another content type', 'target=nav:a', 'text/plain', /^unsupported media type: text\/plain: expected one of/],
    ['no content type', '{}', '', /^unsupported media type: : expected one of/],
    ['JSON that does not parse', '{"target":', 'application/json', /^Failed to parse the request body as JSON/],
    ['no target', { identity_provider: 'maskinporten' }, 'application/json', /missing field `target`/],
    ['an unknown provider', { identity_provider: 'digdir', target: 'x' }, 'application/json', /unknown variant `digdir`/],
    ['authorization_details that is not an array of objects', { identity_provider: 'maskinporten', target: 'x', authorization_details: { type: 'x' } }, 'application/json', /authorization_details/],
    ['a form skip_cache that is not a boolean', 'identity_provider=maskinporten&target=x&skip_cache=yes', 'application/x-www-form-urlencoded', /^Failed to deserialize form body: skip_cache/],
  ])('refuses %s with 400 invalid_request', async (_name, body, contentType, description) => {
    const res = await post(texas.tokenEndpoint, body, contentType);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_request');
    expect(res.json.error_description).toMatch(description);
    expect(sim.tokenRequestCount()).toBe(0);
  });

  it('retries a transient Maskinporten failure 3 times, then passes an OAuth error on or answers 500 server_error', async () => {
    sim.inject({ kind: 'status', status: 503, body: { error: 'temporarily_unavailable', error_description: 'down for maintenance' } }, { times: Infinity });
    expect(await token({ target: 'nav:a' })).toEqual({ status: 503, json: { error: 'temporarily_unavailable', error_description: 'down for maintenance' } });
    expect(sim.tokenRequestCount()).toBe(4);
    sim.clearFaults();
    sim.inject({ kind: 'status', status: 502, body: '<html>bad gateway</html>' }, { times: Infinity });
    expect(await token({ target: 'nav:a' })).toEqual({ status: 500, json: { error: 'server_error', error_description: expect.stringMatching(/^Failed to parse JSON/) } });
    sim.clearFaults();
    sim.inject({ kind: 'drop' }, { times: Infinity });
    expect(await token({ target: 'nav:a' })).toEqual({ status: 500, json: { error: 'server_error', error_description: expect.stringMatching(/^Upstream request failed/) } });
    expect(sim.tokenRequestCount()).toBe(12);
    sim.clearFaults();
    sim.inject({ kind: 'status', status: 500 }, { times: 3 });
    expect((await token({ target: 'nav:a' })).status).toBe(200);
  });

  it('gives up on a Maskinporten that never answers after its timeout', async () => {
    const slow = await startMaskinportenSimulator({ texas: { client: { clientId: 'c', orgno: ORG, scopes: ['nav:a'] }, maxRetries: 1, upstreamTimeoutMs: 100 } });
    try {
      slow.inject({ kind: 'hang' }, { times: Infinity });
      const res = await post(slow.texas!.tokenEndpoint, { identity_provider: 'maskinporten', target: 'nav:a' });
      expect(res).toEqual({ status: 500, json: { error: 'server_error', error_description: 'Upstream request failed: operation timed out' } });
      expect(slow.tokenRequestCount()).toBe(2);
    } finally {
      await slow.close();
    }
  });

  it('takes faults of its own, and still records what each faulted request asked for', async () => {
    sim.inject({ kind: 'status', status: 500, body: { error: 'server_error', error_description: 'Failed to sign assertion' } }, { path: '/api/v1/token', times: 2 });
    expect((await token({ target: 'nav:a', skip_cache: true })).status).toBe(500);
    expect((await token({ target: 'nav:a', skip_cache: true })).status).toBe(500);
    expect((await token({ target: 'nav:a' })).status).toBe(200);
    expect(texas.tokenRequestCount()).toBe(3);
    expect(texas.skipCacheCount()).toBe(2);
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('answers 405 to anything but POST', async () => {
    expect((await fetch(texas.tokenEndpoint)).status).toBe(405);
  });

  it('refuses token exchange for Maskinporten, which has no user tokens', async () => {
    const res = await post(texas.exchangeEndpoint, { identity_provider: 'maskinporten', target: 'x', user_token: 'y' });
    expect(res).toEqual({ status: 400, json: { error: 'invalid_request', error_description: "identity provider 'maskinporten' does not support token exchange" } });
    expect((await post(texas.exchangeEndpoint, { identity_provider: 'tokenx', target: 'x', user_token: 'y' })).json.error_description).toBe("identity provider 'tokenx' is not enabled");
  });
});

describe('POST /api/v1/introspect', () => {
  it('answers 200 active with every claim of a valid token, from JSON or a form', async () => {
    const issued = String((await token({ target: 'nav:a' })).json.access_token);
    const res = await introspect(issued);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ active: true, ...claimsOf(issued) });
    const viaForm = await post(texas.introspectionEndpoint, new URLSearchParams({ identity_provider: 'maskinporten', token: issued }).toString(), 'application/x-www-form-urlencoded');
    expect(viaForm.json.active).toBe(true);
    expect(texas.introspectionCount()).toBe(2);
    expect(sim.requests.at(-1)?.texas).toEqual({ request: { identity_provider: 'maskinporten' }, active: true });
  });

  it('answers 200 inactive with a reason for tokens it does not accept', async () => {
    const issued = String((await token({ target: 'nav:a' })).json.access_token);
    const [h, , s] = issued.split('.') as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(issued), scope: 'nav:admin' })).toString('base64url')}.${s}`;
    const foreign = await createTokenFactory().mint({ scope: 'nav:a' });
    expect(await introspect(forged)).toEqual({ status: 200, json: { active: false, error: 'invalid token: InvalidSignature' } });
    expect((await introspect(foreign)).json).toEqual({ active: false, error: 'token can not be validated with this identity provider' });
    expect((await introspect('not-a-token')).json).toEqual({ active: false, error: 'invalid token header: InvalidToken' });
    // Expired, with 60 s of leeway.
    clock.advance(359_000);
    expect((await introspect(issued)).json.active).toBe(true);
    clock.advance(2_000);
    expect((await introspect(issued)).json).toEqual({ active: false, error: 'invalid token: ExpiredSignature' });
  });

  it('accepts a token of a rotated key, refetching the key set on an unknown kid', async () => {
    await sim.rotateSigningKey();
    const issued = String((await token({ target: 'nav:b' })).json.access_token);
    expect((await introspect(issued)).json.active).toBe(true);
  });

  it('answers inactive, still 200, for a provider that is not enabled', async () => {
    texas.setMaskinportenEnabled(false);
    expect(await introspect('x.y.z')).toEqual({ status: 200, json: { active: false, error: "identity provider 'maskinporten' is not enabled" } });
  });

  it('answers 400 invalid_request to a body it cannot read', async () => {
    const res = await post(texas.introspectionEndpoint, { identity_provider: 'maskinporten' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('missing field `token`') });
  });
});

describe("Texas' token checks", () => {
  const key = generateClientKey({ kid: 'issuer-key' });
  const ISSUER = 'https://test.maskinporten.no/';
  const now = 1_800_000_000_000;
  const introspector = createIntrospector({ issuer: () => ISSUER, publishedKeys: () => [key.publicJwk], now: () => now });
  const at = Math.floor(now / 1000);
  const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', kid: 'issuer-key' }) =>
    signGrant(header, { iss: ISSUER, iat: at, exp: at + 120, scope: 'nav:a', ...claims }, key.privateKeyPem);

  it.each([
    ['a valid token', {}, undefined, true],
    ['an nbf within the leeway', { nbf: at + 60 }, undefined, true],
    ['an nbf beyond it', { nbf: at + 61 }, 'invalid token: ImmatureSignature', false],
    ['an iat beyond the leeway', { iat: at + 61 }, 'invalid token: ImmatureSignature', false],
    ['no iat', { iat: undefined }, 'invalid token: Missing required claim: iat', false],
    ['no exp', { exp: undefined }, 'invalid token: Missing required claim: exp', false],
    ['no iss', { iss: undefined }, 'invalid token: Missing required claim: iss', false],
    ['another issuer', { iss: 'https://maskinporten.no/' }, 'invalid token: InvalidIssuer', false],
    ['an exp past the leeway', { exp: at - 61 }, 'invalid token: ExpiredSignature', false],
  ])('%s', (_name, claims, error, active) => {
    const result = introspector.introspect(sign(claims));
    expect(result.active).toBe(active);
    if (error !== undefined) expect(result).toEqual({ active: false, error });
  });

  it('takes RS256 only, and needs a kid', () => {
    expect(introspector.introspect(signGrant({ alg: 'RS384', kid: 'issuer-key' }, { iss: ISSUER, iat: at, exp: at + 60 }, key.privateKeyPem, 'sha384'))).toEqual({ active: false, error: 'invalid token: InvalidAlgorithm' });
    expect(introspector.introspect(sign({}, { alg: 'RS256' }))).toEqual({ active: false, error: 'missing key id from token header' });
  });
});
