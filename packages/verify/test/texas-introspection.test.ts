// The Texas introspection verifier against the simulator's NAIS Texas (/api/v1/introspect) on
// 127.0.0.1: active tokens accepted and checked against the requirements on the claims Texas
// returns, inactive ones 401, a herd making one introspection, the memory until exp (bounded, only
// active tokens), a Texas that fails, hangs, redirects or answers nonsense as a bounded 503, and
// the options refused before any request.
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { createTokenFactory, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createTexasIntrospectionVerifier, httpStatusOfVerificationFailure, IntrospectionUnavailableError, InvalidTokenError, verifyRequest } from '@portvakt/verify';
import { manualClock, rejectionOf, thrownBy } from './support.js';

const CUSTOMER = '910753614';
const clock = manualClock();
const key = generateClientKey({ kid: 'texas-verify' });
let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let endpoint: string;
const introspections = () => sim.texas!.introspectionCount();
const newToken = async (scope = 'nav:read') => (await client.getToken({ scope, minValidity: 119 })).accessToken;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({
    clock,
    clients: [{ clientId: 'caller', orgno: CUSTOMER, scopes: ['nav:read', 'nav:write'], jwks: [key.publicJwk] }],
    texas: { client: { clientId: 'api', orgno: '991825827', scopes: [] } },
  });
  endpoint = sim.texas!.introspectionEndpoint;
  client = createMaskinportenClient({ clientId: 'caller', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:read', clock, cache: { maxEntries: 1 } });
});
afterAll(async () => {
  await client.close();
  await sim.close();
});
afterEach(() => sim.clearFaults?.());

describe('introspection', () => {
  it('a valid token: Texas says active, the requirements pass on its claims, and the token is remembered', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock, scope: 'nav:read', consumers: [CUSTOMER] });
    const token = await newToken();
    const before = introspections();
    const claims = await verifier.verify(token);
    expect(claims).toMatchObject({ issuer: sim.issuer, consumerOrg: CUSTOMER, scopes: ['nav:read'], clientId: 'caller' });
    expect(Object.isFrozen(claims)).toBe(true);
    expect(await verifier.verify(token)).toBe(claims);
    expect(verifier.recall(token)).toBe(claims);
    expect(introspections()).toBe(before + 1);
    expect(inspect(verifier)).toMatch(/^TexasIntrospectionVerifier \{ endpoint: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/introspect, introspections: 1, remembered tokens: 1 \}$/);
  });

  it('an inactive token (another key, another issuer, expired) is 401 invalid_token, and never remembered', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock });
    const stranger = createTokenFactory({ issuer: sim.issuer });
    const foreign = createTokenFactory();
    for (const token of [await stranger.mint(), await foreign.mint()]) {
      const before = introspections();
      const error = await rejectionOf(verifier.verify(token));
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(error).toMatchObject({ reason: 'inactive', status: 401 });
      expect(httpStatusOfVerificationFailure(error)).toMatchObject({ status: 401, code: 'invalid_token', wwwAuthenticate: 'Bearer error="invalid_token", error_description="The access token is not active"' });
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'inactive' });
      expect(introspections()).toBe(before + 2); // asked twice: an inactive answer is not remembered
      expect(error.message).not.toContain(token.slice(0, 30));
    }
    expect(inspect(verifier)).toContain('remembered tokens: 0');
  });

  it('a wrong scope is 403 insufficient_scope, and the token is not remembered', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock, scope: 'nav:admin' });
    const token = await newToken();
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 403, code: 'ERR_PORTVAKT_INSUFFICIENT_SCOPE' });
    expect(inspect(verifier)).toContain('remembered tokens: 0');
  });

  it('1,000 concurrent verifications of one token make 1 introspection', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock });
    const token = await newToken();
    const before = introspections();
    const all = await Promise.all(Array.from({ length: 1000 }, () => verifyRequest(verifier, { headers: { authorization: `Bearer ${token}` } })));
    expect(new Set(all).size).toBe(1);
    expect(introspections()).toBe(before + 1);
  });

  it('remembers a token until its exp (then Texas is asked, and says inactive), at most maxEntries of them', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock, cache: { maxEntries: 2 } });
    const token = await newToken();
    const claims = await verifier.verify(token);
    const before = introspections();
    clock.set(claims.expiresAt - 1000);
    await expect(verifier.verify(token)).resolves.toBe(claims);
    expect(introspections()).toBe(before);
    clock.set(claims.expiresAt + 61_000); // past exp and Texas' 60 s of leeway
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'inactive' });
    expect(introspections()).toBe(before + 1); // forgotten at exp: Texas asked again
    expect(verifier.recall(token)).toBeUndefined();
    // Bounded: a third token pushes the least recently used out.
    const [a, b, c] = [await newToken('nav:read'), await newToken('nav:write'), await newToken('nav:read nav:write')];
    for (const t of [a, b, c, a]) await verifier.verify(t);
    expect(inspect(verifier)).toContain('remembered tokens: 2');
    const asked = introspections();
    await verifier.verify(c);
    expect(introspections()).toBe(asked);
  });

  it('refuses a padded or otherwise malformed token itself, without asking Texas', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock });
    const token = await newToken();
    const before = introspections();
    for (const bad of [`${token}==`, `${token.slice(0, 100)} ${token.slice(100)}`, 'abc.def', await createTokenFactory().forge({}, { header: { alg: 'none' }, signature: 'none' })]) {
      await expect(verifier.verify(bad)).rejects.toMatchObject({ status: 401 });
    }
    expect(introspections()).toBe(before);
  });
});

describe('a Texas that cannot answer: 503 introspection_unavailable, one request per verification', () => {
  it.each([
    ['500 for ever', { kind: 'status', status: 500, body: { error: 'server_error' } }],
    ['a redirect (not followed)', { kind: 'redirect', status: 307, location: 'http://127.0.0.1:9/elsewhere' }],
    ['a body that is not JSON', { kind: 'malformed', body: '<html>bad gateway</html>', contentType: 'text/html', status: 200 }],
    ['JSON without a boolean active', { kind: 'malformed', body: '{"active":"yes"}', contentType: 'application/json', status: 200 }],
    ['a dropped connection', { kind: 'drop' }],
  ] as const)('%s', async (_case, fault) => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock });
    const token = await newToken();
    sim.inject(fault as never, { path: '/api/v1/introspect', times: Infinity });
    const before = introspections();
    for (let i = 0; i < 5; i++) {
      const error = await rejectionOf(verifier.verify(token));
      expect(error).toBeInstanceOf(IntrospectionUnavailableError);
      expect(httpStatusOfVerificationFailure(error)).toMatchObject({ status: 503, code: 'introspection_unavailable', wwwAuthenticate: undefined });
      expect(error.message).not.toContain(token.slice(0, 30));
    }
    expect(introspections()).toBe(before + 5);
    sim.clearFaults();
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });

  it('a Texas that never answers: 503 after the timeout, for every waiter of the herd', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock, timeout: 300 });
    const token = await newToken();
    sim.inject({ kind: 'hang' }, { path: '/api/v1/introspect', times: Infinity });
    const before = introspections();
    const errors = await Promise.all(Array.from({ length: 20 }, () => rejectionOf(verifier.verify(token))));
    expect(errors.every((e) => e instanceof IntrospectionUnavailableError && (e.cause as Error).name === 'TimeoutError')).toBe(true);
    expect(introspections()).toBe(before + 1);
    expect(inspect(verifier)).not.toContain('in flight');
  });

  it('Maskinporten not enabled in the manifest: 503 naming spec.maskinporten.enabled, not a 401 for every caller', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock });
    const token = await newToken();
    sim.texas!.setMaskinportenEnabled(false);
    try {
      const error = await rejectionOf(verifier.verify(token));
      expect(error).toBeInstanceOf(IntrospectionUnavailableError);
      expect(error.message).toContain('spec.maskinporten.enabled: true');
    } finally {
      sim.texas!.setMaskinportenEnabled(true);
    }
  });

  it('nothing listening: 503', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint: 'http://127.0.0.1:9/api/v1/introspect', clock });
    const error = await rejectionOf(verifier.verify(await newToken()));
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect((error.cause as Error).name).toBe('EndpointUnavailableError');
  });
});

describe('options', () => {
  it('reads NAIS_TOKEN_INTROSPECTION_ENDPOINT, and says what to set when it is missing', async () => {
    const saved = process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    try {
      delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
      const missing = thrownBy(() => createTexasIntrospectionVerifier());
      expect(missing).toBeInstanceOf(ConfigurationError);
      expect(missing).toMatchObject({ field: 'NAIS_TOKEN_INTROSPECTION_ENDPOINT' });
      expect(missing.message).toContain('spec.maskinporten.enabled');
      process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = endpoint;
      const verifier = createTexasIntrospectionVerifier({ clock });
      await expect(verifier.verify(await newToken())).resolves.toBeTruthy();
    } finally {
      if (saved === undefined) delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
      else process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = saved;
    }
  });

  it.each([
    [{ endpoint: 'http://texas.example.com/api/v1/introspect' }, 'endpoint'],
    [{ endpoint: 'http://127.0.0.1:3000/api/v1/token' }, 'endpoint'],
    [{ endpoint: 'http://127.0.0.1:3000/api/v1/TOKEN' }, 'endpoint'],
    [{ endpoint: 'http://127.0.0.1:3000/API/V1/Token/Exchange/' }, 'endpoint'],
    [{ endpoint: 'not a url' }, 'endpoint'],
    [{ endpoint: 'https://x.example/api/v1/introspect', scopes: 'nav:read' }, 'scopes'],
    [{ endpoint: 'https://x.example/api/v1/introspect', timeout: 0 }, 'timeout'],
    [{ endpoint: 'https://x.example/api/v1/introspect', issuer: 'maskinporten' }, 'issuer'],
    [{ endpoint: 'https://x.example/api/v1/introspect', cache: { size: 1 } }, 'cache.size'],
    [{ endpoint: 'https://x.example/api/v1/introspect', consumers: ['0192:910753614'] }, 'consumers'],
  ])('refuses %j naming %s', (options, field) => {
    const error = thrownBy(() => createTexasIntrospectionVerifier(options as never));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ field });
  });

  it('an issuer option refuses a token Texas accepted for another issuer', async () => {
    const verifier = createTexasIntrospectionVerifier({ endpoint, clock, issuer: 'https://maskinporten.no/' });
    expect(verifier.issuer).toBe('https://maskinporten.no/');
    await expect(verifier.verify(await newToken())).rejects.toMatchObject({ reason: 'wrong_issuer' });
    await expect(verifier.ready()).resolves.toBeUndefined();
  });
});
