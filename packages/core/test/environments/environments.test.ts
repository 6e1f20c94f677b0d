import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVIRONMENTS, createEnvironmentSource } from '../../src/environments/index.js';
import { AbortedError, ConfigurationError, EndpointUnavailableError, MalformedResponseError, TimeoutError } from '../../src/errors.js';
import { manualClock, sendJson, startServer } from '../transport/http-server.js';
import type { TestServer } from '../transport/http-server.js';

/** The real global fetch, counting calls, so we can prove presets never touch the network. */
function countingFetch(): { fetch: typeof fetch; calls: number } {
  const state = {
    calls: 0,
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      state.calls++;
      return fetch(input, init);
    }) as typeof fetch,
  };
  return state;
}

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('presets', () => {
  it('has the exact issuers and endpoints of docs/maskinporten-rules.md §1.1', () => {
    expect(ENVIRONMENTS).toEqual({
      test: {
        issuer: 'https://test.maskinporten.no/',
        tokenEndpoint: 'https://test.maskinporten.no/token',
        jwksUri: 'https://test.maskinporten.no/jwk',
        metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server',
      },
      prod: {
        issuer: 'https://maskinporten.no/',
        tokenEndpoint: 'https://maskinporten.no/token',
        jwksUri: 'https://maskinporten.no/jwk',
        metadataUrl: 'https://maskinporten.no/.well-known/oauth-authorization-server',
      },
    });
    expect(Object.isFrozen(ENVIRONMENTS.test)).toBe(true);
  });

  it.each(['test', 'prod'] as const)('%s resolves without any network call', async (name) => {
    const counting = countingFetch();
    const source = createEnvironmentSource(name, { fetch: counting.fetch, clock: Date });
    expect(source.kind).toBe(name);
    expect(source.issuer).toBe(ENVIRONMENTS[name].issuer);
    await expect(source.resolve()).resolves.toEqual({ issuer: ENVIRONMENTS[name].issuer, tokenEndpoint: ENVIRONMENTS[name].tokenEndpoint, kind: name });
    expect(counting.calls).toBe(0);
  });
});

describe('explicit issuer and token endpoint', () => {
  it('keeps the issuer verbatim (no slash added or removed)', async () => {
    const sky = createEnvironmentSource({ issuer: 'https://test.sky.maskinporten.no', tokenEndpoint: 'https://test.sky.maskinporten.no/token' }, { fetch, clock: Date });
    expect(sky.issuer).toBe('https://test.sky.maskinporten.no');
    expect((await sky.resolve()).issuer).toBe('https://test.sky.maskinporten.no');
    expect(sky.kind).toBe('custom');
    const local = createEnvironmentSource({ issuer: 'http://127.0.0.1:4000/mp//', tokenEndpoint: 'http://localhost:4000/token' }, { fetch, clock: Date });
    expect(await local.resolve()).toEqual({ issuer: 'http://127.0.0.1:4000/mp//', tokenEndpoint: 'http://localhost:4000/token', kind: 'custom' });
  });

  it('gets kind test/prod when the issuer is a preset issuer', async () => {
    const source = createEnvironmentSource({ issuer: 'https://maskinporten.no/', tokenEndpoint: 'https://proxy.example.no/token' }, { fetch, clock: Date });
    expect(source.kind).toBe('prod');
    expect((await source.resolve()).kind).toBe('prod');
  });
});

describe('validation', () => {
  const bad: ReadonlyArray<readonly [unknown, string, RegExp]> = [
    [undefined, 'environment', /is required/],
    [null, 'environment', /is required/],
    [42, 'environment', /is required/],
    ['TEST', 'environment', /lower case/],
    ['production', 'environment', /use 'prod'/],
    ['ver2', 'environment', /retired/],
    ['https://test.maskinporten.no/.well-known/oauth-authorization-server', 'environment', /metadataUrl/],
    ['staging', 'environment', /not an environment/],
    [{}, 'environment', /is empty/],
    [{ issuer: 'https://test.maskinporten.no/' }, 'environment.tokenEndpoint', /is required/],
    [{ tokenEndpoint: 'https://test.maskinporten.no/token' }, 'environment.issuer', /is required/],
    [{ issuer: 'https://x.example.no/', tokenEndpoint: 'http://x.example.no/token' }, 'environment.tokenEndpoint', /must use https/],
    [{ issuer: 'http://x.example.no/', tokenEndpoint: 'https://x.example.no/token' }, 'environment.issuer', /must use https/],
    [{ issuer: 'x.example.no', tokenEndpoint: 'https://x.example.no/token' }, 'environment.issuer', /not an absolute URL/],
    [{ issuer: 'https://x.example.no/', tokenEndpoint: 'ftp://x.example.no/token' }, 'environment.tokenEndpoint', /scheme "ftp:"/],
    [{ issuer: 'https://x.example.no/', tokenEndpoint: 'https://u:p@x.example.no/token' }, 'environment.tokenEndpoint', /user name or password/],
    [{ issuer: 'https://x.example.no/', tokenEndpoint: 'https://x.example.no/token#a' }, 'environment.tokenEndpoint', /fragment/],
    [{ issuer: ' https://x.example.no/', tokenEndpoint: 'https://x.example.no/token' }, 'environment.issuer', /whitespace/],
    [{ issuer: 'https://test.maskinporten.no', tokenEndpoint: 'https://test.maskinporten.no/token' }, 'environment.issuer', /trailing slash.*MP-110/],
    [{ issuer: 'https://maskinporten.no/token', tokenEndpoint: 'https://maskinporten.no/token' }, 'environment.issuer', /exactly "https:\/\/maskinporten.no\/"/],
    [{ issuer: 'https://x.example.no/', tokenEndpoint: 'https://x.example.no/token', metadataUrl: 'https://x.example.no/m' }, 'environment', /not both/],
    [{ issuer: 'https://x.example.no/', tokenEndpoint: 'https://x.example.no/token', metadataTtl: 5 }, 'environment.metadataTtl', /only with metadataUrl/],
    [{ issuer: 'https://x.example.no/', token_endpoint: 'https://x.example.no/token' }, 'environment.token_endpoint', /not an option here: did you mean "tokenEndpoint"\?/],
    [{ metadataUrl: 'http://x.example.no/.well-known/oauth-authorization-server' }, 'environment.metadataUrl', /must use https/],
    [{ metadataUrl: '' }, 'environment.metadataUrl', /non-empty/],
    [{ metadataUrl: 'https://x.example.no/m', metadataTtl: 0 }, 'environment.metadataTtl', /above 0/],
    [{ metadataUrl: 'https://x.example.no/m', metadataTtl: Number.NaN }, 'environment.metadataTtl', /above 0/],
    [{ metadataUrl: 'https://x.example.no/m', metadataTtl: '60' }, 'environment.metadataTtl', /number of seconds/],
    [['test'], 'environment', /is required/],
  ];
  it.each(bad.map(([option, field, message]) => ({ option, field, message })))('$option -> $field', ({ option, field, message }) => {
    const error = captureError(() => createEnvironmentSource(option, { fetch, clock: Date }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
    expect((error as ConfigurationError).message).toMatch(message);
  });

  it('uses the given field name', () => {
    const error = captureError(() => createEnvironmentSource({ metadataUrl: 'nope' }, { fetch, clock: Date, field: 'clients[2].environment' }));
    expect((error as ConfigurationError).field).toBe('clients[2].environment.metadataUrl');
  });

  it('accepts loopback http for simulators', () => {
    expect(createEnvironmentSource({ metadataUrl: 'http://[::1]:9/.well-known/oauth-authorization-server' }, { fetch, clock: Date }).kind).toBe('discovered');
  });
});

describe('metadata discovery', () => {
  let server: TestServer;
  let document: Record<string, unknown>;
  const clock = manualClock();

  beforeEach(async () => {
    document = { issuer: 'http://127.0.0.1/issuer/', token_endpoint: 'http://127.0.0.1:1/token', jwks_uri: 'http://127.0.0.1:1/jwk' };
    server = await startServer((_req, res) => sendJson(res, 200, document));
  });
  afterEach(() => server.close());

  const discover = (extra: { metadataTtl?: number; attemptTimeout?: number } = {}) =>
    createEnvironmentSource(
      { metadataUrl: server.url('/.well-known/oauth-authorization-server'), ...(extra.metadataTtl === undefined ? {} : { metadataTtl: extra.metadataTtl }) },
      { fetch, clock, attemptTimeout: extra.attemptTimeout ?? 5_000 },
    );

  it('fetches once for concurrent resolves and serves the issuer verbatim', async () => {
    const source = discover();
    expect(source.issuer).toBeUndefined();
    const results = await Promise.all([source.resolve(), source.resolve(), source.resolve()]);
    expect(results.map((r) => r.issuer)).toEqual(['http://127.0.0.1/issuer/', 'http://127.0.0.1/issuer/', 'http://127.0.0.1/issuer/']);
    expect(results[0]).toEqual({ issuer: 'http://127.0.0.1/issuer/', tokenEndpoint: 'http://127.0.0.1:1/token', kind: 'custom' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/.well-known/oauth-authorization-server' });
    expect(server.requests[0]?.headers.accept).toBe('application/json');
    expect(source.issuer).toBe('http://127.0.0.1/issuer/');
    await source.resolve();
    expect(server.requests).toHaveLength(1);
  });

  it('gives kind test when the discovered issuer is the test issuer', async () => {
    document = { issuer: 'https://test.maskinporten.no/', token_endpoint: 'https://test.maskinporten.no/token' };
    expect((await discover().resolve()).kind).toBe('test');
  });

  it('re-fetches after the TTL and serves the new document', async () => {
    const source = discover({ metadataTtl: 60 });
    await source.resolve();
    clock.advance(59_999);
    await source.resolve();
    expect(server.requests).toHaveLength(1);
    document = { issuer: 'http://127.0.0.1/rotated/', token_endpoint: 'http://127.0.0.1:2/token' };
    clock.advance(1);
    expect((await source.resolve()).issuer).toBe('http://127.0.0.1/rotated/');
    expect(server.requests).toHaveLength(2);
  });

  it('keeps serving the previous document when a re-fetch fails, and tries again later', async () => {
    const source = discover({ metadataTtl: 3600 });
    await source.resolve();
    clock.advance(3_600_000);
    server.handler = (_req, res) => sendJson(res, 503, { error: 'down' });
    expect((await source.resolve()).issuer).toBe('http://127.0.0.1/issuer/');
    expect(server.requests).toHaveLength(2);
    clock.advance(59_999);
    expect((await source.resolve()).issuer).toBe('http://127.0.0.1/issuer/');
    expect(server.requests).toHaveLength(2);
    clock.advance(1);
    document = { issuer: 'http://127.0.0.1/back/', token_endpoint: 'http://127.0.0.1:2/token' };
    server.handler = (_req, res) => sendJson(res, 200, document);
    expect((await source.resolve()).issuer).toBe('http://127.0.0.1/back/');
    expect(server.requests).toHaveLength(3);
  });

  it('does not cache a failed first fetch, but waits 1 s before the next one', async () => {
    server.handler = (_req, res) => sendJson(res, 500, 'oops');
    const source = discover();
    const error = await source.resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect((error as EndpointUnavailableError).status).toBe(500);
    server.handler = (_req, res) => sendJson(res, 200, document);
    // Inside the back-off the last failure is answered at once, without a request.
    clock.advance(999);
    await expect(source.resolve()).rejects.toBe(error);
    expect(server.requests).toHaveLength(1);
    clock.advance(1);
    expect((await source.resolve()).issuer).toBe('http://127.0.0.1/issuer/');
    expect(server.requests).toHaveLength(2);
  });

  it.each([
    ['not JSON', '<html>', /not a JSON object/],
    ['a JSON array', '[]', /not a JSON object/],
    ['no issuer', JSON.stringify({ token_endpoint: 'https://x.example.no/token' }), /no "issuer"/],
    ['a numeric issuer', JSON.stringify({ issuer: 1, token_endpoint: 'https://x.example.no/token' }), /no "issuer"/],
    ['no token_endpoint', JSON.stringify({ issuer: 'https://x.example.no/' }), /no "token_endpoint"/],
    ['an http token_endpoint', JSON.stringify({ issuer: 'https://x.example.no/', token_endpoint: 'http://x.example.no/token' }), /"token_endpoint".*https/],
  ])('refuses a document with %s', async (_name, body, message) => {
    server.handler = (_req, res) => sendJson(res, 200, body);
    const error = await discover().resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a 404 as malformed, naming the status', async () => {
    server.handler = (_req, res) => sendJson(res, 404, 'no');
    const error = await discover().resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as MalformedResponseError).status).toBe(404);
  });

  it.each([301, 302, 303, 307, 308])('never follows a %s redirect', async (status) => {
    const target = await startServer((_req, res) => sendJson(res, 200, document));
    try {
      server.handler = (_req, res) => {
        res.writeHead(status, { location: target.url('/.well-known/oauth-authorization-server') });
        res.end();
      };
      const error = await discover().resolve().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect((error as MalformedResponseError).status).toBe(status);
      expect(target.requests).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('times out when the server never answers', async () => {
    server.handler = () => undefined;
    const error = await discover({ attemptTimeout: 50 }).resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(50);
  });

  it('times out when the server sends headers and then hangs', async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"issuer":');
    };
    const error = await discover({ attemptTimeout: 50 }).resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('reports a refused connection as unavailable', async () => {
    const closed = await startServer();
    const url = closed.url('/.well-known/oauth-authorization-server');
    await closed.close();
    const error = await createEnvironmentSource({ metadataUrl: url }, { fetch, clock }).resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect((error as EndpointUnavailableError).attempts).toBe(1);
  });

  it("ends only the aborting caller's wait; the shared fetch goes on", async () => {
    let release: () => void = () => undefined;
    server.handler = (_req, res) =>
      new Promise<void>((resolve) => {
        release = () => {
          sendJson(res, 200, document);
          resolve();
        };
      });
    const source = discover();
    const controller = new AbortController();
    const aborted = source.resolve(controller.signal);
    const other = source.resolve();
    await waitFor(() => server.requests.length === 1);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    release();
    expect((await other).issuer).toBe('http://127.0.0.1/issuer/');
    expect(server.requests).toHaveLength(1);
    await expect(source.resolve(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
