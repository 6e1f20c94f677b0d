// The environment module as the verifier uses it (through @portvakt/core/internal): the same
// option rules with the key set in the token endpoint's place, the metadata cache asked for
// jwks_uri, the document fetcher, and the back-off rules of the cache, over real HTTP on 127.0.0.1.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, EndpointUnavailableError, MalformedResponseError } from '@portvakt/core';
import { fetchJsonDocument, MAX_CONFIGURATION_DOCUMENT_BYTES, MetadataCache, planVerifierEnvironment } from '@portvakt/core/internal';
import { MASKINPORTEN_HOSTS, planClientEnvironment } from '../../src/environments/index.js';
import { manualClock, sendJson, startServer } from '../transport/http-server.js';
import type { TestServer } from '../transport/http-server.js';

function thrownBy(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a throw');
}

describe('presets', () => {
  it('carry the JWKS URLs of docs/maskinporten-rules.md §1.1, and the issuer hosts come from them', () => {
    expect(planVerifierEnvironment('test')).toEqual({ form: 'fixed', issuer: 'https://test.maskinporten.no/', kind: 'test', jwksUri: 'https://test.maskinporten.no/jwk' });
    expect(planVerifierEnvironment('prod')).toEqual({ form: 'fixed', issuer: 'https://maskinporten.no/', kind: 'prod', jwksUri: 'https://maskinporten.no/jwk' });
    expect(planClientEnvironment('prod')).toEqual({ form: 'fixed', issuer: 'https://maskinporten.no/', kind: 'prod', tokenEndpoint: 'https://maskinporten.no/token' });
    expect([...MASKINPORTEN_HOSTS].sort()).toEqual(['maskinporten.no', 'test.maskinporten.no']);
  });
});

describe("the verifier's option", () => {
  const fixedKeys = { keys: [{ kty: 'RSA', kid: 'k1', n: 'n', e: 'AQAB' }] };

  it('reads the explicit forms, keeping the issuer verbatim and copying a fixed key set', () => {
    expect(planVerifierEnvironment({ issuer: 'https://test.sky.maskinporten.no', jwksUri: 'https://test.sky.maskinporten.no/jwk', tokenEndpoint: 'https://test.sky.maskinporten.no/token' })).toEqual({
      form: 'fixed',
      issuer: 'https://test.sky.maskinporten.no',
      kind: 'custom',
      jwksUri: 'https://test.sky.maskinporten.no/jwk',
    });
    const plan = planVerifierEnvironment({ issuer: 'https://maskinporten.no/', jwks: fixedKeys });
    expect(plan).toEqual({ form: 'keys', issuer: 'https://maskinporten.no/', kind: 'prod', jwks: fixedKeys });
    expect(plan.form === 'keys' && plan.jwks).not.toBe(fixedKeys);
    expect(planVerifierEnvironment({ metadataUrl: 'http://127.0.0.1:9/m', metadataTtl: 60 })).toEqual({ form: 'discovered', metadataUrl: 'http://127.0.0.1:9/m', ttlMs: 60_000 });
  });

  it.each([
    ['a string in capitals', 'PROD', 'environment', /must be 'prod' in lower case/],
    ['a retired environment', 'ver2', 'environment', /retired/],
    ['a bare URL', 'https://idp.example/.well-known/oauth-authorization-server', 'environment', /\{ metadataUrl: .* \}.*\{ issuer, jwksUri \}/],
    ['another type', 42, 'environment', /\{ issuer, jwks \}/],
    ['an empty object', {}, 'environment', /is empty/],
    ['a typo', { issuer: 'https://idp.example/', jwksUrl: 'https://idp.example/jwk' }, 'environment.jwksUrl', /did you mean "jwksUri"/],
    ['metadataUrl with a token endpoint', { metadataUrl: 'https://idp.example/m', tokenEndpoint: 'https://idp.example/token' }, 'environment', /the metadata document names the issuer and the key set/],
    ['metadataTtl without metadataUrl', { issuer: 'https://idp.example/', jwksUri: 'https://idp.example/jwk', metadataTtl: 60 }, 'environment.metadataTtl', /only with metadataUrl/],
    ['a metadataTtl over a year', { metadataUrl: 'https://idp.example/m', metadataTtl: 400 * 86_400 }, 'environment.metadataTtl', /at most 31622400/],
    ['no issuer', { jwksUri: 'https://idp.example/jwk' }, 'environment.issuer', /is required: give the issuer/],
    ["Maskinporten's issuer without its slash", { issuer: 'https://maskinporten.no', jwksUri: 'https://maskinporten.no/jwk' }, 'environment.issuer', /exactly "https:\/\/maskinporten.no\/".*tokens never carry/],
    ['a bad token endpoint', { issuer: 'https://idp.example/', jwksUri: 'https://idp.example/jwk', tokenEndpoint: 'ftp://idp.example/token' }, 'environment.tokenEndpoint', /scheme "ftp:"/],
    ['both jwks and jwksUri', { issuer: 'https://idp.example/', jwksUri: 'https://idp.example/jwk', jwks: fixedKeys }, 'environment', /not both/],
    ['jwks that is not a set', { issuer: 'https://idp.example/', jwks: [fixedKeys] }, 'environment.jwks', /JWK Set/],
    ['jwks that is null', { issuer: 'https://idp.example/', jwks: null }, 'environment.jwks', /JWK Set/],
    ['the client form', { issuer: 'https://maskinporten.no/', tokenEndpoint: 'https://maskinporten.no/token' }, 'environment.jwksUri', /https:\/\/maskinporten.no\/jwk \(prod\)/],
    ['a plain-http key set off loopback', { issuer: 'https://idp.example/', jwksUri: 'http://idp.example/jwk' }, 'environment.jwksUri', /must use https/],
  ] as const)('refuses %s', (_name, option, field, message) => {
    const error = thrownBy(() => planVerifierEnvironment(option, 'environment'));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});

describe('one document fetcher', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(() => server.close());

  it('sends the Accept header it is given and refuses a body over 128 KiB, metadata included', async () => {
    server.handler = (_req, res) => sendJson(res, 200, { keys: [] });
    await expect(fetchJsonDocument(fetch, { url: server.url('/jwk'), what: 'the key set', accept: 'application/jwk-set+json', timeoutMs: 5000 })).resolves.toEqual({ keys: [] });
    expect(server.requests[0]?.headers.accept).toBe('application/jwk-set+json');
    server.handler = (_req, res) => sendJson(res, 200, { issuer: server.url('/'), token_endpoint: server.url('/token'), padding: 'x'.repeat(MAX_CONFIGURATION_DOCUMENT_BYTES) });
    const cache = new MetadataCache({ fetch, clock: manualClock(), metadataUrl: server.url('/m'), ttlMs: 60_000, timeoutMs: 5000, endpoint: 'tokenEndpoint' });
    const error = await cache.resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toMatch(/larger than 131072 bytes/);
  });

  it('names the document and tells to check the URL on a 404', async () => {
    server.handler = (_req, res) => sendJson(res, 404, { error: 'nope' });
    const error = await fetchJsonDocument(fetch, { url: server.url('/jwk'), what: "Maskinporten's key set", accept: 'application/json', timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, message: `Maskinporten's key set at ${server.url('/jwk')} answered HTTP 404: check the URL.` });
  });
});

describe('the metadata cache', () => {
  let server: TestServer;
  let document: Record<string, unknown>;
  beforeEach(async () => {
    document = { issuer: 'http://127.0.0.1/issuer/', jwks_uri: 'http://127.0.0.1:1/jwk' };
    server = await startServer((_req, res) => sendJson(res, 200, document));
  });
  afterEach(() => server.close());

  const cacheFor = (clock: ReturnType<typeof manualClock>, ttlMs = 86_400_000) =>
    new MetadataCache({ fetch, clock, metadataUrl: server.url('/.well-known/oauth-authorization-server'), ttlMs, timeoutMs: 5000, endpoint: 'jwksUri' });

  it('reads only what its reader needs: jwks_uri for the verifier, without a token_endpoint', async () => {
    const cache = cacheFor(manualClock());
    expect(cache.metadataUrl).toBe(server.url('/.well-known/oauth-authorization-server'));
    expect(await cache.resolve()).toEqual({ issuer: 'http://127.0.0.1/issuer/', kind: 'custom', jwksUri: 'http://127.0.0.1:1/jwk' });
    expect(cache.issuer).toBe('http://127.0.0.1/issuer/');
    expect(cache.fetches).toBe(1);
  });

  it.each([
    ['no jwks_uri', { issuer: 'https://idp.example/' }, /no "jwks_uri" string/],
    ['a plain-http jwks_uri off loopback', { issuer: 'https://idp.example/', jwks_uri: 'http://idp.example/jwk' }, /"jwks_uri" in .* is unusable: must use https/],
    ['an unusable issuer', { issuer: 'idp', jwks_uri: 'https://idp.example/jwk' }, /"issuer" in .* is unusable/],
  ])('refuses a document with %s', async (_name, body, message) => {
    document = body;
    const error = await cacheFor(manualClock()).resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toMatch(message);
  });

  it('while there is no document, backs off 1 s after a failure, doubling to 60 s, and starts over after a success', async () => {
    server.handler = (_req, res) => sendJson(res, 503, { error: 'down' });
    const clock = manualClock();
    const start = clock.now();
    const cache = cacheFor(clock, 1000);
    const fetchedAt: number[] = [];
    for (let second = 0; second <= 300; second++) {
      await expect(cache.resolve()).rejects.toBeInstanceOf(EndpointUnavailableError);
      while (fetchedAt.length < cache.fetches) fetchedAt.push((clock.now() - start) / 1000);
      clock.advance(1000);
    }
    // 1, 2, 4, 8, 16, 32, then capped at 60 s.
    expect(fetchedAt).toEqual([0, 1, 3, 7, 15, 31, 63, 123, 183, 243]);
    server.handler = (_req, res) => sendJson(res, 200, document);
    clock.set(start + 303_000);
    await expect(cache.resolve()).resolves.toMatchObject({ jwksUri: 'http://127.0.0.1:1/jwk' });
    // With a document, a failed re-fetch keeps it and waits min(ttl, 60 s): here the 1 s TTL.
    server.handler = (_req, res) => sendJson(res, 503, { error: 'down' });
    clock.advance(1000);
    await expect(cache.resolve()).resolves.toMatchObject({ jwksUri: 'http://127.0.0.1:1/jwk' });
    expect(cache.fetches).toBe(12);
    clock.advance(999);
    await cache.resolve();
    expect(cache.fetches).toBe(12);
    clock.advance(1);
    await cache.resolve();
    expect(cache.fetches).toBe(13);
  });
});
