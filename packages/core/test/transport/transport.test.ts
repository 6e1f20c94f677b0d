import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTransport, validateTransportOptions } from '../../src/transport/index.js';
import type { TransportOptions } from '@portvakt/core';
import {
  AbortedError,
  EndpointUnavailableError,
  MalformedResponseError,
  TimeoutError,
  TokenEndpointError,
} from '../../src/errors.js';
import { manualClock, sendJson, startServer } from './http-server.js';
import type { RecordedRequest, TestServer } from './http-server.js';
import type { ServerResponse } from 'node:http';

const TOKEN_CANARY = 'TOKEN-CANARY-7f3a9c';
const GRANT_CANARY = 'GRANT-CANARY-c41d0e';
const JWT_GRANT_CANARY = 'eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJjYW5hcnkifQ.c2lnbmF0dXJlY2FuYXJ5';

const okBody = { access_token: TOKEN_CANARY, token_type: 'Bearer', expires_in: 120, scope: 'digdir:test' };

type Responder = (response: ServerResponse, request: RecordedRequest) => void;

let server: TestServer;
let script: Responder[];
const clock = manualClock();

beforeEach(async () => {
  script = [];
  server = await startServer((request, response) => {
    const next = script.shift() ?? ((res: ServerResponse) => sendJson(res, 200, okBody));
    next(response, request);
  });
});
afterEach(() => server.close());

const status =
  (code: number, body: unknown = { error: 'temporarily_unavailable' }, headers: Record<string, string> = {}): Responder =>
  (res) =>
    sendJson(res, code, body, headers);
const hang: Responder = () => undefined;

/** A grant factory that records every grant it made; each grant is unique and carries nowMs. */
function grants(): { createAssertion: (nowMs: number) => Promise<string>; made: string[]; times: number[] } {
  const made: string[] = [];
  const times: number[] = [];
  return {
    made,
    times,
    createAssertion: async (nowMs) => {
      times.push(nowMs);
      const grant = `${GRANT_CANARY}.${made.length}.${nowMs}`;
      made.push(grant);
      return grant;
    },
  };
}

function assertionOf(request: RecordedRequest | undefined): string | null {
  return new URLSearchParams(request?.body ?? '').get('assertion');
}

/** A transport whose waits are recorded and move the injected clock instead of real time. */
function transport(options: TransportOptions = {}, random = () => 0.5) {
  const waits: number[] = [];
  const resolved = validateTransportOptions({ attemptTimeout: 5_000, ...options });
  const instance = createTransport(resolved, clock, {
    random,
    sleep: async (ms, signal) => {
      if (signal.aborted) throw signal.reason;
      waits.push(ms);
      clock.advance(ms);
    },
  });
  return { instance, waits };
}

function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const views = [String(error), (error as Error).stack ?? '', JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })];
  for (const view of views) {
    for (const secret of secrets) expect(view).not.toContain(secret);
  }
}

describe('a successful token request', () => {
  it('POSTs the jwt-bearer form and parses the response', async () => {
    const g = grants();
    const { instance } = transport();
    const sentAt = clock.now();
    const result = await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: g.createAssertion });
    expect(result).toEqual({ response: { accessToken: TOKEN_CANARY, tokenType: 'Bearer', expiresIn: 120, scope: 'digdir:test' }, sentAt, attempts: 1 });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/token');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.authorization).toBeUndefined();
    const form = new URLSearchParams(request?.body);
    expect([...form.keys()].sort()).toEqual(['assertion', 'grant_type']);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(form.get('assertion')).toBe(g.made[0]);
    expect(g.times).toEqual([clock.now()]);
  });

  it('accepts a numeric string expires_in and a missing scope', async () => {
    script.push(status(200, { access_token: 'a', token_type: 'Bearer', expires_in: '599' }));
    const { response } = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(response).toEqual({ accessToken: 'a', tokenType: 'Bearer', expiresIn: 599, scope: undefined });
  });
});

describe('retries', () => {
  it('retries transient failures with a fresh grant per attempt, at most 3 attempts', async () => {
    script.push(status(503), status(503), status(503), status(200, okBody));
    const g = grants();
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: g.createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect((error as EndpointUnavailableError).status).toBe(503);
    expect((error as EndpointUnavailableError).attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    const sent = server.requests.map(assertionOf);
    expect(new Set(sent).size).toBe(3);
    expect(sent).toEqual(g.made);
  });

  it.each([408, 429, 500, 502, 503, 504, 599])('retries HTTP %i and then succeeds', async (code) => {
    script.push(status(code));
    const result = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(result.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it('retries 429 and 5xx even when they carry an OAuth error body', async () => {
    script.push(status(429, { error: 'invalid_request' }), status(500, { error: 'server_error' }));
    const result = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(result.attempts).toBe(3);
  });

  it.each([501, 505])('never retries HTTP %i', async (code) => {
    script.push(status(code, 'nope'));
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect((error as EndpointUnavailableError).status).toBe(code);
    expect((error as EndpointUnavailableError).attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('honours maxAttempts', async () => {
    script.push(status(503), status(503));
    const error = await transport({ maxAttempts: 1 }).instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect((error as EndpointUnavailableError).attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a refused connection as a network error', async () => {
    const closed = await startServer();
    const url = closed.url('/token');
    await closed.close();
    const { instance, waits } = transport();
    const error = await instance.requestToken({ tokenEndpoint: url, createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect((error as EndpointUnavailableError).attempts).toBe(3);
    expect((error as EndpointUnavailableError).status).toBeUndefined();
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(waits).toHaveLength(2);
  });

  it('retries a dropped connection', async () => {
    script.push((res) => res.socket?.destroy());
    const result = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(result.attempts).toBe(2);
  });
});

describe('backoff and Retry-After', () => {
  it('uses full jitter: random * min(backoffMax, backoffBase * 2^retry)', async () => {
    script.push(status(503), status(503), status(503), status(503));
    const high = transport({ maxAttempts: 5, backoffBase: 200, backoffMax: 1_000 }, () => 0.9999);
    await high.instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(high.waits).toEqual([199, 399, 799, 999]);
    script.push(status(503), status(503));
    const low = transport({ backoffBase: 200, backoffMax: 1_000 }, () => 0);
    await low.instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(low.waits).toEqual([0, 0]);
  });

  it('waits the Retry-After seconds, and the grant for the next attempt uses the later time', async () => {
    script.push(status(429, { error: 'slow_down' }, { 'retry-after': '7' }));
    const g = grants();
    const { instance, waits } = transport();
    const before = clock.now();
    await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: g.createAssertion });
    expect(waits).toEqual([7_000]);
    expect(clock.now() - before).toBeGreaterThanOrEqual(7_000);
    expect((g.times[1] ?? 0) - (g.times[0] ?? 0)).toBe(7_000);
  });

  it('reads an HTTP-date Retry-After against the response Date header', async () => {
    const serverNow = Date.UTC(2030, 0, 1, 10, 0, 0);
    script.push(status(503, 'busy', { date: new Date(serverNow).toUTCString(), 'retry-after': new Date(serverNow + 5_000).toUTCString() }));
    const { instance, waits } = transport();
    await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(waits).toEqual([5_000]);
  });

  it('caps Retry-After at maxRetryAfter', async () => {
    script.push(status(429, 'x', { 'retry-after': '120' }));
    const { instance, waits } = transport({ maxRetryAfter: 3_000 });
    await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(waits).toEqual([3_000]);
  });

  it('gives up with EndpointUnavailableError when the wait would pass the deadline', async () => {
    script.push(status(429, 'x', { 'retry-after': '40' }));
    const { instance, waits } = transport({ maxRetryAfter: 60_000, deadline: 30_000 });
    const error = await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect((error as EndpointUnavailableError).status).toBe(429);
    expect((error as EndpointUnavailableError).attempts).toBe(1);
    expect((error as Error).message).toMatch(/deadline/);
    expect(waits).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });
});

describe('OAuth errors', () => {
  it('surfaces error, description, uri, MP code and hint, and never retries', async () => {
    script.push(
      status(400, {
        error: 'invalid_grant',
        error_description: 'Invalid assertion. Client authentication failed. Invalid JWT claim aud. MP-110 (trace_id: abc)',
        error_uri: 'https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking',
      }),
    );
    const g = grants();
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: g.createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      code: 'ERR_PORTVAKT_TOKEN_REJECTED',
      status: 400,
      error: 'invalid_grant',
      mpCode: 'MP-110',
      errorUri: 'https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking',
    });
    expect((error as TokenEndpointError).hint).toMatch(/trailing slash/);
    expect(server.requests).toHaveLength(1);
    expect(g.made).toHaveLength(1);
  });

  it.each([
    [401, 'invalid_client'],
    [403, 'access_denied'],
    [400, 'invalid_scope'],
    [404, 'invalid_request'],
  ])('HTTP %i %s is a TokenEndpointError after one attempt', async (code, oauthError) => {
    script.push(status(code, { error: oauthError, error_description: 'MP-250 consumer lacks scope' }));
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).status).toBe(code);
    expect((error as TokenEndpointError).error).toBe(oauthError);
    expect(server.requests).toHaveLength(1);
  });

  it('treats a 4xx without an OAuth body as malformed, without retrying', async () => {
    script.push((res) => {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end(`<html>${GRANT_CANARY}</html>`);
    });
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as MalformedResponseError).status).toBe(400);
    expect(server.requests).toHaveLength(1);
    expectNoSecrets(error, [GRANT_CANARY]);
  });
});

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])('never follows a %i from the token endpoint', async (code) => {
    const elsewhere = await startServer((_req, res) => sendJson(res, 200, okBody));
    try {
      script.push((res) => {
        res.writeHead(code, { location: elsewhere.url('/token') });
        res.end();
      });
      const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect((error as MalformedResponseError).status).toBe(code);
      expect((error as Error).message).toContain(`HTTP ${code}`);
      expect(elsewhere.requests).toHaveLength(0);
      expect(server.requests).toHaveLength(1);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('timeouts, deadline and abort', () => {
  it('retries an attempt that times out, then succeeds', async () => {
    script.push(hang);
    // Long enough for the second attempt to answer on a loaded machine; the first never answers.
    const result = await transport({ attemptTimeout: 1_000 }).instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(result.attempts).toBe(2);
  });

  it('gives TimeoutError when every attempt times out', async () => {
    script.push(hang, hang, hang);
    const error = await transport({ attemptTimeout: 50 }).instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(50);
    expect(server.requests).toHaveLength(3);
  });

  it('times out a body that never finishes (headers sent, then silence)', async () => {
    script.push((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
    });
    const result = await transport({ attemptTimeout: 50 }).instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion });
    expect(result.attempts).toBe(2);
  });

  it('stops at the overall deadline with TimeoutError, without another attempt', async () => {
    script.push(hang, hang);
    const error = await transport({ attemptTimeout: 60_000, deadline: 80 }).instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(80);
    expect((error as Error).message).toMatch(/deadline/);
    expect(server.requests).toHaveLength(1);
  });

  it('gives AbortedError on caller abort during an attempt, and does not retry', async () => {
    script.push(hang, status(200, okBody));
    const controller = new AbortController();
    const pending = transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion, signal: controller.signal });
    await waitFor(() => server.requests.length === 1);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.requests).toHaveLength(1);
  });

  it('gives AbortedError on caller abort during a backoff wait (real timers)', async () => {
    script.push(status(503, 'x', { 'retry-after': '10' }));
    const controller = new AbortController();
    const real = createTransport(validateTransportOptions({}), clock);
    const pending = real.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion, signal: controller.signal });
    await waitFor(() => server.requests.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(server.requests).toHaveLength(1);
  });

  it('does nothing for an already aborted signal', async () => {
    const g = grants();
    await expect(
      transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: g.createAssertion, signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(g.made).toHaveLength(0);
    expect(server.requests).toHaveLength(0);
  });

  it('passes on an error from createAssertion without sending anything', async () => {
    const failure = new Error('signer offline');
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: () => Promise.reject(failure) }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(server.requests).toHaveLength(0);
  });
});

describe('clock offset', () => {
  /** Maskinporten whose clock is `skewMs` behind ours; it rejects grants more than 10 s off. */
  function maskinportenWithClock(skewMs: number, always = false): void {
    server.handler = (request, response) => {
      const serverNow = clock.now() + skewMs;
      const grantNow = Number(assertionOf(request)?.split('.').at(-1));
      response.setHeader('date', new Date(serverNow).toUTCString());
      if (always || Math.abs(grantNow - serverNow) > 10_000) {
        sendJson(response, 400, { error: 'invalid_grant', error_description: 'MP-130 Issue time is after now. (trace_id: 1)' });
      } else {
        sendJson(response, 200, okBody);
      }
    };
  }

  it('learns the offset from the Date header and retries exactly once', async () => {
    maskinportenWithClock(-60_000);
    const g = grants();
    const { instance, waits } = transport();
    const result = await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: g.createAssertion });
    expect(result.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    expect(waits).toEqual([]);
    expect(Math.abs(instance.clockOffsetMs + 60_000)).toBeLessThan(2_000); // Date has 1 s resolution, plus latency
    expect(Math.abs((g.times[1] ?? 0) - (clock.now() - 60_000))).toBeLessThan(2_000);
    expect(new Set(server.requests.map(assertionOf)).size).toBe(2);
    // Later requests start with the corrected clock.
    const again = await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: g.createAssertion });
    expect(again.attempts).toBe(1);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry when the clocks agree within 2 s', async () => {
    maskinportenWithClock(0, true);
    const { instance } = transport();
    const error = await instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).mpCode).toBe('MP-130');
    expect(server.requests).toHaveLength(1);
    expect(instance.clockOffsetMs).toBe(0);
  });

  it('corrects only once per request, even when the server clock keeps moving', async () => {
    server.handler = (_request, response) => {
      response.setHeader('date', new Date(clock.now() + 120_000 * server.requests.length).toUTCString());
      sendJson(response, 400, { error: 'invalid_grant', error_description: 'MP-130 Issue time is after now.' });
    };
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(server.requests).toHaveLength(2);
  });

  it('does not touch the clock for other OAuth errors', async () => {
    server.handler = (_request, response) => {
      response.setHeader('date', new Date(clock.now() + 300_000).toUTCString());
      sendJson(response, 400, { error: 'invalid_scope', error_description: 'MP-200 scope not registered' });
    };
    const { instance } = transport();
    await expect(instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion })).rejects.toBeInstanceOf(TokenEndpointError);
    expect(server.requests).toHaveLength(1);
    expect(instance.clockOffsetMs).toBe(0);
  });
});

describe('malformed success responses', () => {
  it.each([
    ['not JSON', `<html>${TOKEN_CANARY}</html>`],
    ['an array', JSON.stringify([TOKEN_CANARY])],
    ['no access_token', JSON.stringify({ token_type: 'Bearer', expires_in: 120 })],
    ['an empty access_token', JSON.stringify({ access_token: '', token_type: 'Bearer', expires_in: 120 })],
    ['a numeric access_token', JSON.stringify({ access_token: 42, token_type: 'Bearer', expires_in: 120 })],
    ['no token_type', JSON.stringify({ access_token: TOKEN_CANARY, expires_in: 120 })],
    ['a token_type with a space', JSON.stringify({ access_token: TOKEN_CANARY, token_type: 'Bearer x', expires_in: 120 })],
    ['no expires_in', JSON.stringify({ access_token: TOKEN_CANARY, token_type: 'Bearer' })],
    ['expires_in 0', JSON.stringify({ access_token: TOKEN_CANARY, token_type: 'Bearer', expires_in: 0 })],
    ['negative expires_in', JSON.stringify({ access_token: TOKEN_CANARY, token_type: 'Bearer', expires_in: -5 })],
    ['non-numeric expires_in', JSON.stringify({ access_token: TOKEN_CANARY, token_type: 'Bearer', expires_in: 'soon' })],
    ['a numeric scope', JSON.stringify({ access_token: TOKEN_CANARY, token_type: 'Bearer', expires_in: 120, scope: 1 })],
    ['a huge body', JSON.stringify({ access_token: TOKEN_CANARY, token_type: 'Bearer', expires_in: 120, pad: 'x'.repeat(300 * 1024) })],
  ])('refuses %s without echoing the body', async (_name, body) => {
    script.push((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const error = await transport().instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion: grants().createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(server.requests).toHaveLength(1);
    expectNoSecrets(error, [TOKEN_CANARY, GRANT_CANARY]);
  });
});

describe('no secrets in errors', () => {
  it.each<[string, Responder[], TransportOptions]>([
    ['an OAuth error that echoes the grant', [status(400, { error: 'invalid_grant', error_description: `bad assertion ${JWT_GRANT_CANARY}`, access_token: TOKEN_CANARY })], {}],
    ['an OAuth error with the grant in error and error_uri', [status(400, { error: JWT_GRANT_CANARY, error_uri: `https://x.example/${JWT_GRANT_CANARY}` })], {}],
    ['unavailable', [status(503, { access_token: TOKEN_CANARY }), status(503), status(503)], {}],
    ['a redirect', [(res) => res.writeHead(302, { location: `https://evil.example/${TOKEN_CANARY}` }).end(TOKEN_CANARY)], {}],
    ['a timeout', [hang, hang, hang], { attemptTimeout: 30 }],
    ['a dropped connection', [(res) => res.socket?.destroy(), (res) => res.socket?.destroy(), (res) => res.socket?.destroy()], {}],
  ])('%s', async (_name, responders, options) => {
    script.push(...responders);
    const createAssertion = async (): Promise<string> => JWT_GRANT_CANARY;
    const error = await transport(options).instance.requestToken({ tokenEndpoint: server.url('/token'), createAssertion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expectNoSecrets(error, [TOKEN_CANARY, JWT_GRANT_CANARY, 'eyJqdGkiOiJjYW5hcnkifQ']);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
