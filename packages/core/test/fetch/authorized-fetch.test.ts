import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizedFetch } from '@portvakt/core';
import type { TokenSource } from '@portvakt/core';
import { ConfigurationError } from '../../src/errors.js';
import type { GetTokenOptions } from '../../src/types.js';
import { sendJson, startServer } from '../transport/http-server.js';
import type { RecordedRequest, TestServer } from '../transport/http-server.js';

/**
 * A small real token source with the client's cache semantics: one current token, `invalidate`
 * drops it only if it is still current, the next `getToken` issues a new one. It stands in for the
 * Maskinporten client: the thing under test here is the fetch wrapper.
 */
function tokenSource() {
  let current: { tokenType: string; accessToken: string } | undefined;
  const log = { issued: 0, calls: [] as (GetTokenOptions | undefined)[], invalidated: [] as unknown[] };
  const source: TokenSource = {
    async getToken(options) {
      log.calls.push(options);
      if (current === undefined) {
        log.issued++;
        current = { tokenType: 'Bearer', accessToken: `tok-${log.issued}` };
      }
      return current;
    },
    invalidate(token) {
      log.invalidated.push(token);
      if (token !== current) return false;
      current = undefined;
      return true;
    },
  };
  return { source, log };
}

let api: TestServer;
let foreign: TestServer;
let tokens: ReturnType<typeof tokenSource>;
let apiFetch: typeof fetch;

function apiHandler(request: RecordedRequest, response: ServerResponse): void {
  const url = new URL(request.path, 'http://x');
  const redirect = /^\/redirect\/(\d{3})$/.exec(url.pathname);
  if (redirect) {
    response.writeHead(Number(redirect[1]), { location: url.searchParams.get('to') ?? '/data' });
    response.end('moved');
    return;
  }
  switch (url.pathname) {
    case '/loop':
      response.writeHead(302, { location: '/loop' });
      response.end();
      return;
    case '/no-location':
      response.writeHead(302);
      response.end();
      return;
    case '/unauthorized-for-tok-1':
      sendJson(response, request.headers.authorization === 'Bearer tok-1' ? 401 : 200, { saw: request.headers.authorization ?? null });
      return;
    case '/always-401':
      sendJson(response, 401, { error: 'invalid_token' });
      return;
    default:
      sendJson(response, 200, { method: request.method, saw: request.headers.authorization ?? null, body: request.body });
  }
}

beforeAll(async () => {
  api = await startServer(apiHandler);
  foreign = await startServer((request, response) => sendJson(response, 200, { saw: request.headers.authorization ?? null, method: request.method, body: request.body }));
});
afterAll(async () => {
  await api.close();
  await foreign.close();
});
beforeEach(() => {
  api.requests.length = 0;
  foreign.requests.length = 0;
  tokens = tokenSource();
  apiFetch = createAuthorizedFetch(tokens.source, { scope: 'digdir:test', origins: [api.origin] });
});

const foreignAuthorizations = (): (string | undefined)[] => foreign.requests.map((r) => r.headers.authorization);

describe('attaching the token', () => {
  it('adds Authorization for an allowed origin, with the scope it was given', async () => {
    const response = await apiFetch(api.url('/data'));
    expect(await response.json()).toEqual({ method: 'GET', saw: 'Bearer tok-1', body: '' });
    expect(tokens.log.calls).toEqual([{ scope: 'digdir:test', signal: undefined }]);
  });

  it('passes the other claims and the signal to getToken', async () => {
    const controller = new AbortController();
    const withClaims = createAuthorizedFetch(tokens.source, { scope: ['a:b', 'c:d'], request: { consumerOrg: '910753614' }, origins: [api.origin] });
    await withClaims(api.url('/data'), { signal: controller.signal });
    expect(tokens.log.calls).toEqual([{ consumerOrg: '910753614', scope: ['a:b', 'c:d'], signal: controller.signal }]);
  });

  it('sends nothing to another origin, and does not even get a token', async () => {
    const response = await apiFetch(foreign.url('/data'));
    expect(await response.json()).toMatchObject({ saw: null });
    expect(tokens.log.calls).toHaveLength(0);
  });

  it('keeps an Authorization header the caller set, and gets no token', async () => {
    const response = await apiFetch(api.url('/data'), { headers: { authorization: 'Basic mine' } });
    expect(await response.json()).toMatchObject({ saw: 'Basic mine' });
    expect(tokens.log.calls).toHaveLength(0);
  });

  it('accepts URL and Request inputs, buffering a Request body', async () => {
    const viaUrl = await apiFetch(new URL(api.url('/data')));
    expect(await viaUrl.json()).toMatchObject({ saw: 'Bearer tok-1' });
    const viaRequest = await apiFetch(new Request(api.url('/data'), { method: 'POST', body: 'payload', headers: { 'x-a': '1' } }));
    expect(await viaRequest.json()).toEqual({ method: 'POST', saw: 'Bearer tok-1', body: 'payload' });
    expect(api.requests.at(-1)?.headers['x-a']).toBe('1');
  });

  it('rejects a relative URL like fetch does', async () => {
    await expect(apiFetch('/data')).rejects.toBeInstanceOf(TypeError);
    expect(api.requests).toHaveLength(0);
  });
});

describe('crafted URLs never reach the foreign origin with a token', () => {
  const crafted = (): string[] => [
    foreign.url('/data'),
    `http://localhost:${foreign.port}/data`,
    `http://127.0.0.1:${foreign.port}/${api.origin}/data`,
    `http://127.0.0.1:${foreign.port}/?next=${api.origin}`,
    `http://127.0.0.1:${foreign.port}#${api.origin}`,
    `http://127.0.0.1:${foreign.port}\\@127.0.0.1:${api.port}/`,
    `http://127.1:${foreign.port}/data`,
    `HTTP://127.0.0.1.:${foreign.port}/data`,
  ];
  it('each crafted URL', async () => {
    for (const url of crafted()) {
      await apiFetch(url).then(
        (response) => discard(response),
        () => undefined,
      );
    }
    expect(foreign.requests.length).toBeGreaterThan(0);
    expect(foreignAuthorizations().every((value) => value === undefined)).toBe(true);
    expect(tokens.log.calls).toHaveLength(0);
  });

  it('a userinfo URL that names the allowed origin but points at the foreign one', async () => {
    const url = `http://127.0.0.1:${api.port}@127.0.0.1:${foreign.port}/data`;
    await apiFetch(url).then(discard, () => undefined);
    expect(foreignAuthorizations().every((value) => value === undefined)).toBe(true);
    expect(tokens.log.calls).toHaveLength(0);
  });

  it('a short IPv4 form of the allowed origin is the allowed origin', async () => {
    const response = await apiFetch(`http://127.1:${api.port}/data`);
    expect(await response.json()).toMatchObject({ saw: 'Bearer tok-1' });
  });
});

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])('%i to a foreign origin: the token is not carried over', async (status) => {
    const response = await apiFetch(api.url(`/redirect/${status}?to=${encodeURIComponent(foreign.url('/landing'))}`), { method: 'POST', body: 'form=1', headers: { 'content-type': 'text/plain' } });
    const seen = (await response.json()) as { saw: unknown; method: string; body: string };
    expect(seen.saw).toBeNull();
    expect(foreign.requests).toHaveLength(1);
    expect(foreignAuthorizations()).toEqual([undefined]);
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok-1');
    // Method semantics of fetch: 301/302 POST and 303 become GET without a body; 307/308 keep them.
    if (status === 307 || status === 308) {
      expect(seen).toMatchObject({ method: 'POST', body: 'form=1' });
      expect(foreign.requests[0]?.headers['content-type']).toBe('text/plain');
    } else {
      expect(seen).toMatchObject({ method: 'GET', body: '' });
      expect(foreign.requests[0]?.headers['content-type']).toBeUndefined();
    }
  });

  it.each([301, 302, 303, 307, 308])('%i within the allowed origin keeps the token', async (status) => {
    const response = await apiFetch(api.url(`/redirect/${status}?to=/data`));
    expect(await response.json()).toMatchObject({ saw: 'Bearer tok-1' });
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1']);
  });

  it('from a foreign origin to the allowed one: only the allowed hop gets the token', async () => {
    const foreignRedirect = await startServer((_req, res) => {
      res.writeHead(302, { location: api.url('/data') });
      res.end();
    });
    try {
      const response = await apiFetch(foreignRedirect.url('/start'));
      expect(await response.json()).toMatchObject({ saw: 'Bearer tok-1' });
      expect(foreignRedirect.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await foreignRedirect.close();
    }
  });

  it('a chain allowed -> foreign -> allowed never shows the foreign hop a token', async () => {
    const bounce = await startServer((_req, res) => {
      res.writeHead(307, { location: api.url('/data') });
      res.end();
    });
    try {
      const response = await apiFetch(api.url(`/redirect/302?to=${encodeURIComponent(bounce.url('/b'))}`));
      expect(await response.json()).toMatchObject({ saw: 'Bearer tok-1' });
      expect(bounce.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
    } finally {
      await bounce.close();
    }
  });

  it('a protocol-relative Location to the foreign origin', async () => {
    await discard(await apiFetch(api.url(`/redirect/302?to=${encodeURIComponent(`//127.0.0.1:${foreign.port}/x`)}`)));
    expect(foreignAuthorizations()).toEqual([undefined]);
  });

  it("drops the caller's own Authorization on a redirect to another origin", async () => {
    await discard(await apiFetch(api.url(`/redirect/307?to=${encodeURIComponent(foreign.url('/x'))}`), { headers: { Authorization: 'Bearer callers-own' } }));
    expect(api.requests[0]?.headers.authorization).toBe('Bearer callers-own');
    expect(foreignAuthorizations()).toEqual([undefined]);
    expect(tokens.log.calls).toHaveLength(0);
  });

  it("keeps the caller's own Authorization on a same-origin redirect", async () => {
    const response = await apiFetch(api.url('/redirect/302?to=/data'), { headers: { Authorization: 'Bearer callers-own' } });
    expect(await response.json()).toMatchObject({ saw: 'Bearer callers-own' });
  });

  it("respects redirect: 'manual' (returns the 3xx) and 'error' (rejects)", async () => {
    const target = encodeURIComponent(foreign.url('/x'));
    const manual = await apiFetch(api.url(`/redirect/302?to=${target}`), { redirect: 'manual' });
    expect(manual.status).toBe(302);
    await discard(manual);
    await expect(apiFetch(api.url(`/redirect/302?to=${target}`), { redirect: 'error' })).rejects.toBeInstanceOf(TypeError);
    expect(foreign.requests).toHaveLength(0);
  });

  it('stops after 20 redirects', async () => {
    await expect(apiFetch(api.url('/loop'))).rejects.toThrow(/more than 20 redirects/);
    expect(api.requests).toHaveLength(21);
  });

  it('returns a 3xx without Location as it is', async () => {
    const response = await apiFetch(api.url('/no-location'));
    expect(response.status).toBe(302);
    await discard(response);
  });

  it('refuses a redirect to a non-http scheme', async () => {
    await expect(apiFetch(api.url(`/redirect/302?to=${encodeURIComponent('file:///etc/passwd')}`))).rejects.toBeInstanceOf(TypeError);
  });

  it('refuses to replay a streamed body on 307', async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit;
    await expect(apiFetch(api.url(`/redirect/307?to=${encodeURIComponent(foreign.url('/x'))}`), init)).rejects.toThrow(/streamed request body/);
    expect(foreign.requests).toHaveLength(0);
  });
});

describe('401 from an allowed origin', () => {
  it('invalidates the token, gets a new one and retries once', async () => {
    const response = await apiFetch(api.url('/unauthorized-for-tok-1'), { method: 'PUT', body: 'again' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ saw: 'Bearer tok-2' });
    expect(api.requests.map((r) => [r.headers.authorization, r.body])).toEqual([
      ['Bearer tok-1', 'again'],
      ['Bearer tok-2', 'again'],
    ]);
    expect(tokens.log.invalidated).toEqual([{ tokenType: 'Bearer', accessToken: 'tok-1' }]);
  });

  it('retries only once', async () => {
    const response = await apiFetch(api.url('/always-401'));
    expect(response.status).toBe(401);
    await discard(response);
    expect(api.requests).toHaveLength(2);
    expect(tokens.log.invalidated).toHaveLength(1);
  });

  it('does not retry a streamed body', async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('once'));
        controller.close();
      },
    });
    const response = await apiFetch(api.url('/always-401'), { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    await discard(response);
    expect(api.requests).toHaveLength(1);
    expect(tokens.log.invalidated).toHaveLength(0);
  });

  it("does not invalidate anything for a 401 to the caller's own Authorization", async () => {
    const response = await apiFetch(api.url('/always-401'), { headers: { authorization: 'Bearer mine' } });
    expect(response.status).toBe(401);
    await discard(response);
    expect(api.requests).toHaveLength(1);
    expect(tokens.log.invalidated).toHaveLength(0);
  });
});

describe('configuration', () => {
  it.each([
    [{ origins: [] }, 'origins'],
    [{ origins: ['http://api.example.no'] }, 'origins[0]'],
    [{ origins: ['https://api.example.no/v1'] }, 'origins[0]'],
    [{ origins: ['https://api.example.no'], fetch: 'nope' }, 'fetch'],
    [{ origins: ['https://api.example.no'], scope: 42 }, 'scope'],
    [{}, 'origins'],
  ])('rejects %j naming %s', (options, field) => {
    let caught: unknown;
    try {
      createAuthorizedFetch(tokenSource().source, options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).field).toBe(field);
  });

  it('a misspelt option is refused with the option it most likely meant', () => {
    expect(() => createAuthorizedFetch(tokens.source, { scopes: 'a:b', origins: [api.origin] } as never)).toThrow(
      expect.objectContaining({ field: 'scopes', message: expect.stringContaining('is not an option of createAuthorizedFetch(): did you mean "scope"?') }),
    );
    expect(() => createAuthorizedFetch(tokens.source, { Origins: [api.origin] } as never)).toThrow(expect.objectContaining({ field: 'Origins', message: expect.stringContaining('did you mean "origins"?') }));
  });

  it('rejects something that is not a client', () => {
    expect(() => createAuthorizedFetch({} as never, { origins: ['https://api.example.no'] })).toThrow(ConfigurationError);
  });

  it('uses the injected fetch', async () => {
    const seen: string[] = [];
    const injected: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    const wrapped = createAuthorizedFetch(tokens.source, { origins: [api.origin], fetch: injected });
    await discard(await wrapped(api.url('/data')));
    expect(seen).toEqual([api.url('/data')]);
  });
});

async function discard(response: Response): Promise<void> {
  await response.arrayBuffer();
}
