// The Texas source's options, checked before any request, and Texas' answers that are not a token
// or an OAuth error.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, EndpointUnavailableError, MalformedResponseError, createTexasTokenSource, tokenSourceFromEnv } from '@portvakt/core';
import type { TexasTokenSource } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';

const ORG = '889640782';
let sim: MaskinportenSimulator;
const sources: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  sim = await startMaskinportenSimulator({ texas: { client: { clientId: 'nais-app', orgno: ORG, scopes: ['nav:a', 'nav:b'] } } });
});
afterAll(() => sim.close());
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  sim.reset();
});

const lastTexasRequest = () => sim.requests.filter((r) => r.path === '/api/v1/token').at(-1)?.texas?.request;
const refusal = (make: () => unknown) => {
  try {
    make();
  } catch (error) {
    return error as ConfigurationError;
  }
  throw new Error('no error');
};
const keep = <T extends { close(): Promise<void> }>(source: T): T => {
  sources.push(source);
  return source;
};

describe('createTexasTokenSource options', () => {
  it('takes the endpoint from NAIS_TOKEN_ENDPOINT when none is given, and names the variable when it is missing', () => {
    const saved = process.env.NAIS_TOKEN_ENDPOINT;
    try {
      process.env.NAIS_TOKEN_ENDPOINT = sim.texas!.tokenEndpoint;
      expect(keep(createTexasTokenSource()).endpoint).toBe(sim.texas!.tokenEndpoint);
      delete process.env.NAIS_TOKEN_ENDPOINT;
      const missing = refusal(() => createTexasTokenSource({ scope: 'nav:a' }));
      expect(missing).toBeInstanceOf(ConfigurationError);
      expect(missing).toMatchObject({ field: 'NAIS_TOKEN_ENDPOINT' });
      expect(missing.message).toMatch(/spec\.maskinporten\.enabled: true/);
    } finally {
      if (saved === undefined) delete process.env.NAIS_TOKEN_ENDPOINT;
      else process.env.NAIS_TOKEN_ENDPOINT = saved;
    }
  });

  it.each([
    [{ endpoint: 'http://texas.example.no/api/v1/token' }, 'endpoint', /must use https/],
    [{ endpoint: 'not a url' }, 'endpoint', /not an absolute URL/],
    [{ endpoint: 'http://127.0.0.1:3000/api/v1/introspect' }, 'endpoint', /introspection endpoint.*NAIS_TOKEN_ENDPOINT/],
    [{ endpoint: 'http://127.0.0.1:3000/api/v1/token/exchange' }, 'endpoint', /exchange endpoint.*user tokens/],
    [{ key: { jwk: {} } }, 'key', /NAIS Texas signs with the key NAIS holds.*certificate \(x5c\).*createMaskinportenClient\(\)/],
    [{ environment: 'test' }, 'environment', /give its token endpoint as `endpoint`/],
    [{ algorithm: 'RS512' }, 'algorithm', /createMaskinportenClient\(\)/],
    [{ grantLifetime: 30 }, 'grantLifetime', /createMaskinportenClient\(\)/],
    [{ scopes: 'nav:a' }, 'scopes', /did you mean "scope"\?/],
    [{ scope: 42 }, 'scope', /scope string/],
    [{ cache: { refreshAhead: 0.5 } }, 'cache.refreshAhead', /follows Texas' own cache/],
    [{ cache: { store: {} } }, 'cache.store', /every pod has its own Texas/],
    [{ cache: { maxEntries: 0 } }, 'cache.maxEntries', /at least 1/],
    [{ transport: { maxAttempts: 11 } }, 'transport.maxAttempts', /from 1 to 10; the default is 2/],
    [{ defaults: { consumerOrg: '910753614' } }, 'defaults.consumerOrg', /nais\/texas#144/],
    [{ defaults: { scope: 'nav:a' } }, 'defaults.scope', /as the `scope` option/],
    [{ defaults: { resource: ['https://a.example/', 'https://b.example/'] } }, 'defaults.resource', /one resource per token/],
    [{ clientId: '' }, 'clientId', /non-empty string/],
    [{ clock: Date.now }, 'clock', /now\(\)/],
  ])('refuses %j, naming %s', (options, field, message) => {
    const error = refusal(() => createTexasTokenSource({ endpoint: sim.texas!.tokenEndpoint, ...(options as object) }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('takes https and loopback http endpoints, and defaults a resource and a system user', async () => {
    expect(keep(createTexasTokenSource({ endpoint: 'https://texas.example.no/api/v1/token' })).endpoint).toBe('https://texas.example.no/api/v1/token');
    expect(keep(createTexasTokenSource({ endpoint: 'http://localhost:3000/api/v1/token' })).endpoint).toBe('http://localhost:3000/api/v1/token');
    const source = keep(createTexasTokenSource({ endpoint: sim.texas!.tokenEndpoint, scope: 'nav:b', defaults: { resource: 'https://api.example.no/' } }));
    await source.getToken();
    expect(lastTexasRequest()).toEqual({ identity_provider: 'maskinporten', target: 'nav:b', resource: 'https://api.example.no/' });
    await expect(keep(createTexasTokenSource({ endpoint: sim.texas!.tokenEndpoint })).getToken()).rejects.toMatchObject({ field: 'scope' });
    await expect(source.getToken({ scope: 'nav:a', minValidity: -1 })).rejects.toMatchObject({ field: 'minValidity' });
  });
});

describe("Texas' answers that are not a token or an OAuth error", () => {
  let source: TexasTokenSource;
  beforeEach(() => {
    source = keep(createTexasTokenSource({ endpoint: sim.texas!.tokenEndpoint, scope: 'nav:a', transport: { backoffBase: 1, backoffMax: 2 } }));
  });
  const path = '/api/v1/token' as const;

  it.each([
    ['a redirect', { kind: 'redirect', status: 307, location: 'https://elsewhere.example/' }, /redirect/],
    ['a 200 that is not JSON', { kind: 'malformed', body: '<html>' }, /not a JSON object/],
    ['a 200 without expires_in', { kind: 'malformed', body: '{"access_token":"x","token_type":"Bearer"}' }, /expires_in/],
    ['a 404 without an OAuth body', { kind: 'status', status: 404, body: 'not found' }, /HTTP 404 without an OAuth error body/],
  ] as const)('%s: a MalformedResponseError after 1 request', async (_name, fault, message) => {
    sim.inject(fault, { path });
    await expect(source.getToken({ scope: 'nav:b' })).rejects.toSatisfy((e: unknown) => e instanceof MalformedResponseError && message.test(e.message));
    expect(sim.texas!.tokenRequestCount()).toBe(1);
  });

  it('a 501: unavailable, not retried', async () => {
    sim.inject({ kind: 'status', status: 501 }, { path });
    await expect(source.getToken({ scope: 'nav:b' })).rejects.toMatchObject({ code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE', status: 501, attempts: 1 });
  });

  it('a 429 and a 503 without a body are retried', async () => {
    sim.inject({ kind: 'status', status: 429, headers: { 'retry-after': '0' } }, { path });
    await expect(source.getToken({ scope: 'nav:b' })).resolves.toMatchObject({ scope: 'nav:b' });
    sim.inject({ kind: 'status', status: 503 }, { path, times: 2 });
    const error = await source.getToken({ scope: 'nav:a nav:b' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect((error as Error).message).toMatch(/last: HTTP 503\)/);
  });

  it("Maskinporten's invalid_client passed on: a hint about the app's NAIS set-up", async () => {
    sim.inject({ kind: 'status', status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } });
    await expect(source.getToken({ scope: 'nav:b' })).rejects.toMatchObject({ status: 401, error: 'invalid_client', via: 'texas', hint: expect.stringMatching(/NAIS holds the key/) });
  });

  it('a body Texas could not read: a hint to report it', async () => {
    sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_request', error_description: 'Failed to deserialize the JSON body into the target type: missing field `target`' } }, { path });
    await expect(source.getToken({ scope: 'nav:b' })).rejects.toMatchObject({ error: 'invalid_request', hint: expect.stringMatching(/report it to Portvakt/) });
  });
});

describe('tokenSourceFromEnv', () => {
  const key = generateClientKey({ kid: 'env-key' });

  it('picks Texas when NAIS_TOKEN_ENDPOINT is set, the only variable it needs', async () => {
    const source = keep(tokenSourceFromEnv({ env: { NAIS_TOKEN_ENDPOINT: sim.texas!.tokenEndpoint, MASKINPORTEN_SCOPES: 'nav:a nav:b' } }));
    expect('endpoint' in source && source.endpoint).toBe(sim.texas!.tokenEndpoint);
    await source.getToken();
    expect(lastTexasRequest()).toMatchObject({ target: 'nav:a nav:b' });
    expect(sim.texas!.tokenRequestCount()).toBe(1);
  });

  it('picks Texas over a key when both are set, and names its client id in diagnostics', () => {
    const source = keep(tokenSourceFromEnv({
      scope: 'nav:a',
      env: { NAIS_TOKEN_ENDPOINT: sim.texas!.tokenEndpoint, MASKINPORTEN_CLIENT_ID: 'nais-app', MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk), MASKINPORTEN_WELL_KNOWN_URL: sim.metadataUrl },
    }));
    expect('endpoint' in source).toBe(true);
  });

  it('picks the client from the MASKINPORTEN_* variables otherwise', async () => {
    const keyed = await startMaskinportenSimulator({ clients: [{ clientId: 'keyed', orgno: ORG, scopes: ['nav:a'], jwks: [key.publicJwk] }] });
    try {
      const source = keep(tokenSourceFromEnv({
        env: { MASKINPORTEN_CLIENT_ID: 'keyed', MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk), MASKINPORTEN_WELL_KNOWN_URL: keyed.metadataUrl, MASKINPORTEN_SCOPES: 'nav:a' },
        client: { cache: { maxEntries: 10 } },
      }));
      expect('clientId' in source && source.clientId).toBe('keyed');
      await source.getToken();
      expect(keyed.tokenRequestCount()).toBe(1);
    } finally {
      await keyed.close();
    }
  });

  it('says what to set when neither is there, and names NAIS_TOKEN_ENDPOINT when it is wrong', () => {
    const neither = refusal(() => tokenSourceFromEnv({ env: {} }));
    expect(neither).toMatchObject({ field: 'NAIS_TOKEN_ENDPOINT' });
    expect(neither.message).toMatch(/spec\.maskinporten\.enabled: true.*MASKINPORTEN_CLIENT_ID, MASKINPORTEN_CLIENT_JWK and MASKINPORTEN_WELL_KNOWN_URL/);
    expect(refusal(() => tokenSourceFromEnv({ env: { NAIS_TOKEN_ENDPOINT: 'http://texas.example/api/v1/token' } }))).toMatchObject({ field: 'NAIS_TOKEN_ENDPOINT', message: expect.stringMatching(/must use https/) });
    expect(refusal(() => tokenSourceFromEnv({ env: { MASKINPORTEN_CLIENT_ID: 'x' } }))).toMatchObject({ field: 'MASKINPORTEN_WELL_KNOWN_URL' });
    expect(refusal(() => tokenSourceFromEnv({ env: {}, texas: {}, clients: {} } as never))).toMatchObject({ field: 'clients', message: expect.stringMatching(/did you mean "client"/) });
  });
});
