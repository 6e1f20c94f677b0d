import { Readable } from 'node:stream';
import { getEventListeners } from 'node:events';
import { Agent, fetch as undiciFetch, getGlobalDispatcher, interceptors, request, setGlobalDispatcher } from 'undici';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, TokenEndpointError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { maskinporten } from '@portvakt/undici';
import type { MaskinportenInterceptorOptions } from '@portvakt/undici';
import { createClient, expectRedacted, startSimulator, tokenOf } from './fixture.js';

let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingApi;
let foreign: RecordingApi;
const agents: Agent[] = [];

beforeAll(async () => {
  sim = await startSimulator();
  client = createClient(sim);
  [api, foreign] = await Promise.all([startRecordingApi(), startRecordingApi()]);
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await client.close();
  await Promise.all([sim.close(), api.close(), foreign.close()]);
});
beforeEach(() => {
  api.seen.length = 0;
  foreign.seen.length = 0;
  api.revoked.clear();
  sim.clearFaults();
});

/** A dispatcher with the interceptor inside undici's redirect interceptor, as the docs say to compose it. */
function dispatcherFor(options: Partial<MaskinportenInterceptorOptions> = {}): Dispatcher {
  const agent = new Agent();
  agents.push(agent);
  return agent.compose(maskinporten({ client, origins: [api.origin], ...options }), interceptors.redirect({ maxRedirections: 5 }));
}

type Init = { method?: string; body?: string | Uint8Array | Readable; headers?: Record<string, string> | string[]; signal?: AbortSignal };
type Kind = 'undici request' | 'undici fetch' | 'node fetch';
const KINDS: Kind[] = ['undici request', 'undici fetch', 'node fetch'];

/** One call through the dispatcher, the way each kind of caller makes it. */
async function call(kind: Kind, dispatcher: Dispatcher, url: string, init: Init = {}): Promise<{ status: number; text: string }> {
  if (kind === 'undici request') {
    const response = await request(url, { dispatcher, method: (init.method ?? 'GET') as Dispatcher.HttpMethod, body: init.body ?? null, headers: init.headers ?? {}, ...(init.signal ? { signal: init.signal } : {}) });
    return { status: response.statusCode, text: await response.body.text() };
  }
  const fetchFn = (kind === 'undici fetch' ? undiciFetch : globalThis.fetch) as (url: string, init: object) => Promise<Response>;
  const response = await fetchFn(url, { dispatcher, ...init, ...(init.body instanceof Readable ? { duplex: 'half' } : {}) });
  return { status: response.status, text: await response.text() };
}

const STATUSES = [301, 302, 303, 307, 308];
const redirect = (status: number, to: string) => `/redirect/${status}?to=${encodeURIComponent(to)}`;
const bearer = (header: string | undefined) => header?.startsWith('Bearer ') === true;

describe.each(KINDS)('through %s', (kind) => {
  it('puts the token on requests to the allowed origin, and nothing on another origin', async () => {
    const dispatcher = dispatcherFor();
    const token = await client.getToken();
    expect(await call(kind, dispatcher, `${api.origin}/ok`)).toMatchObject({ status: 200 });
    expect(api.authorizations).toEqual([`Bearer ${token.accessToken}`]);
    expect((await call(kind, dispatcher, `${foreign.origin}/ok`)).status).toBe(200);
    expect(foreign.authorizations).toEqual([undefined]);
  });

  it.each(STATUSES)('a %i redirect to another origin carries no token there', async (status) => {
    const dispatcher = dispatcherFor();
    const response = await call(kind, dispatcher, `${api.origin}${redirect(status, `${foreign.origin}/landing`)}`);
    expect(response.status).toBe(200);
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true]);
    expect(foreign.authorizations).toEqual([undefined]);
  });

  it('a chain allowed -> foreign -> allowed: the foreign origin sees nothing', async () => {
    const dispatcher = dispatcherFor();
    await call(kind, dispatcher, `${api.origin}${redirect(307, `${foreign.origin}${redirect(302, `${api.origin}/ok`)}`)}`);
    expect(foreign.authorizations).toEqual([undefined]);
    expect(api.seen.map((s) => s.path)).toEqual([expect.stringMatching(/^\/redirect\/307/), '/ok']);
    expect(bearer(api.seen[0]?.authorization)).toBe(true);
  });

  it('keeps the token on redirects within the allowed origin', async () => {
    const dispatcher = dispatcherFor();
    await call(kind, dispatcher, `${api.origin}${redirect(301, `${api.origin}${redirect(308, '/ok')}`)}`);
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true, true, true]);
  });

  it('a 401 for ever: one new token, one retry, then the 401 is returned', async () => {
    const dispatcher = dispatcherFor();
    const first = await client.getToken();
    const before = sim.tokenRequestCount();
    const response = await call(kind, dispatcher, `${api.origin}/status/401`);
    expect(response.status).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect(tokenOf(api.seen[0]?.authorization)).toBe(first.accessToken);
    expect(tokenOf(api.seen[1]?.authorization)).not.toBe(first.accessToken);
    expect(sim.tokenRequestCount() - before).toBe(1);
  });

  it('a revoked token: one new token, and the retry succeeds', async () => {
    const dispatcher = dispatcherFor();
    const revoked = await client.getToken();
    api.revoked.add(revoked.accessToken);
    const response = await call(kind, dispatcher, `${api.origin}/ok`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ ok: true, bytes: 0 });
    expect(api.seen.map((s) => tokenOf(s.authorization) === revoked.accessToken)).toEqual([true, false]);
  });

  it('sends the caller\'s own Authorization as it is, and fetches no token for it', async () => {
    const dispatcher = dispatcherFor();
    const before = sim.tokenRequestCount();
    await call(kind, dispatcher, `${api.origin}/ok`, { headers: { Authorization: 'Basic dXNlcjpwdw==' } });
    expect(api.authorizations).toEqual(['Basic dXNlcjpwdw==']);
    expect(sim.tokenRequestCount()).toBe(before);
  });

  it('fails the request with the token error when no token can be had, and sends nothing', async () => {
    const dispatcher = dispatcherFor({ scope: 'not:granted' });
    const error = await call(kind, dispatcher, `${api.origin}/ok`).catch((e: unknown) => e);
    // fetch() wraps a dispatcher error in its TypeError('fetch failed') as `cause`.
    const cause = kind === 'undici request' ? error : (error as Error).cause;
    expect(cause).toBeInstanceOf(TokenEndpointError);
    expect(api.seen).toEqual([]);
  });
});

describe('undici request()', () => {
  it('one new token for 20 requests refused at once', async () => {
    const dispatcher = dispatcherFor();
    const revoked = await client.getToken();
    api.revoked.add(revoked.accessToken);
    const before = sim.tokenRequestCount();
    const responses = await Promise.all(Array.from({ length: 20 }, () => call('undici request', dispatcher, `${api.origin}/ok`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(sim.tokenRequestCount() - before).toBe(1);
    expect(api.seen).toHaveLength(40);
  });

  it('sends a body again after a 401, but not a stream, which is read once', async () => {
    const dispatcher = dispatcherFor();
    api.revoked.add((await client.getToken()).accessToken);
    const replayed = await call('undici request', dispatcher, `${api.origin}/echo`, { method: 'POST', body: 'twelve bytes' });
    expect(replayed).toEqual({ status: 200, text: JSON.stringify({ ok: true, bytes: 12 }) });
    api.seen.length = 0;
    api.revoked.add((await client.getToken()).accessToken);
    const streamed = await call('undici request', dispatcher, `${api.origin}/echo`, { method: 'POST', body: Readable.from(['twelve bytes']) });
    expect(streamed.status).toBe(401);
    expect(api.seen).toHaveLength(1);
  });

  it('retryOnUnauthorized: false returns the first 401', async () => {
    const dispatcher = dispatcherFor({ retryOnUnauthorized: false });
    expect((await call('undici request', dispatcher, `${api.origin}/status/401`)).status).toBe(401);
    expect(api.seen).toHaveLength(1);
  });

  it('ends the wait for a token when the caller aborts, and sends nothing', async () => {
    await client.close();
    client = createClient(sim); // a cold cache, so the call has to wait for Maskinporten
    const dispatcher = dispatcherFor();
    sim.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = call('undici request', dispatcher, `${api.origin}/ok`, { signal: controller.signal });
    await expect.poll(() => sim.tokenRequestCount()).toBeGreaterThan(0);
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    expect(api.seen).toEqual([]);
    sim.clearFaults();
  });

  it('leaves no listener of its own on a signal the caller keeps for many requests', async () => {
    const listenersAfter = async (dispatcher: Dispatcher) => {
      const signal = new AbortController().signal;
      for (let i = 0; i < 30; i += 1) await call('undici request', dispatcher, `${api.origin}/ok`, { signal });
      await call('undici request', dispatcher, `${api.origin}/status/401`, { signal });
      return getEventListeners(signal, 'abort').length;
    };
    const plain = new Agent();
    agents.push(plain);
    // undici's own request handler may still hold one of the last request's; ours hold none.
    expect(await listenersAfter(dispatcherFor())).toBe(await listenersAfter(plain));
  });

  it('takes headers as a flat list and leaves the caller\'s list as it was', async () => {
    const dispatcher = dispatcherFor();
    const headers = ['accept', 'application/json'];
    await call('undici request', dispatcher, `${api.origin}/ok`, { headers });
    expect(bearer(api.seen[0]?.authorization)).toBe(true);
    expect(headers).toEqual(['accept', 'application/json']);
    await call('undici request', dispatcher, `${api.origin}/ok`, { headers: ['AUTHORIZATION', 'Basic x'] });
    expect(api.seen[1]?.authorization).toBe('Basic x');
  });

  it('composed outside the redirect interceptor: undici drops the token at the first change of origin, and a 401 from there is not retried', async () => {
    const agent = new Agent();
    agents.push(agent);
    const outer = agent.compose(interceptors.redirect({ maxRedirections: 5 }), maskinporten({ client, origins: [api.origin, foreign.origin] }));
    const before = sim.tokenRequestCount();
    const response = await call('undici request', outer, `${api.origin}${redirect(302, `${foreign.origin}/status/401`)}`);
    expect(response.status).toBe(401);
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true]);
    expect(foreign.authorizations).toEqual([undefined]);
    expect(sim.tokenRequestCount()).toBe(before);
    await call('undici request', outer, `${api.origin}${redirect(307, `${foreign.origin}${redirect(302, `${api.origin}/ok`)}`)}`);
    expect(foreign.authorizations).toEqual([undefined, undefined]);
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true, true, false]);
  });

  it('gives no token to a dispatch without an origin (a Client used with a path only)', async () => {
    const agent = new Agent();
    agents.push(agent);
    let seenOrigin: unknown = 'not called';
    const probe: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => dispatch({ ...opts, origin: api.origin }, handler);
    const record: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
      seenOrigin = opts.origin;
      return dispatch(opts, handler);
    };
    // The probe (innermost) supplies the origin the Agent needs, after the interceptor has decided.
    const dispatcher = agent.compose(probe, maskinporten({ client, origins: [api.origin] }), record);
    const response = await dispatcher.request({ path: '/ok', method: 'GET' });
    await response.body.text();
    expect(seenOrigin).toBeUndefined();
    expect(api.authorizations).toEqual([undefined]);
  });

  it('keeps the token out of a failed request\'s error', async () => {
    const closed = await startRecordingApi();
    await closed.close(); // nothing listens there any more
    const agent = new Agent();
    agents.push(agent);
    const dispatcher = agent.compose(maskinporten({ client, origins: [closed.origin] }));
    const token = await client.getToken();
    const error = await call('undici request', dispatcher, `${closed.origin}/ok`).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    expectRedacted(error, token.accessToken);
  });
});

describe('fetch()', () => {
  it.each(['undici fetch', 'node fetch'] as const)('%s streams a request body, so a POST that gets a 401 is not sent again', async (kind) => {
    const dispatcher = dispatcherFor();
    expect((await call(kind, dispatcher, `${api.origin}/status/401`, { method: 'POST', body: 'twelve bytes' })).status).toBe(401);
    expect(api.seen).toHaveLength(1);
  });

  it('Node\'s fetch without a dispatcher, after setGlobalDispatcher(): a token for the allowed origin only', async () => {
    const previous = getGlobalDispatcher();
    const agent = new Agent();
    agents.push(agent);
    setGlobalDispatcher(agent.compose(maskinporten({ client, origins: [api.origin] })));
    try {
      await (await fetch(`${api.origin}/ok`)).text();
      await (await fetch(`${foreign.origin}/ok`)).text();
    } finally {
      setGlobalDispatcher(previous);
    }
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true]);
    expect(foreign.authorizations).toEqual([undefined]);
  });
});

describe('options', () => {
  it('are checked when the interceptor is made, each mistake naming the option', () => {
    const fieldOf = (options: unknown) => {
      try {
        maskinporten(options as MaskinportenInterceptorOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as ConfigurationError).field;
      }
      return 'no error';
    };
    expect(fieldOf(undefined)).toBe('options');
    expect(fieldOf({ client })).toBe('origins');
    expect(fieldOf({ client, origins: [] })).toBe('origins');
    expect(fieldOf({ client, origins: ['http://api.example.no'] })).toBe('origins[0]');
    expect(fieldOf({ client: {}, origins: [api.origin] })).toBe('client');
    expect(fieldOf({ client, origins: [api.origin], scopes: 'a' })).toBe('scopes');
    expect(fieldOf({ client, origins: [api.origin], retryOnUnauthorized: 'yes' })).toBe('retryOnUnauthorized');
    expect(fieldOf({ client, origins: [api.origin], request: { consumerOrg: '123' } })).toBe('request.consumerOrg');
    expect(() => maskinporten({ client, origins: [api.origin], scopes: 'a' } as never)).toThrow(/did you mean "scope"/);
  });

  it('owns its claims: a changed options object changes nothing afterwards', async () => {
    const options = { client, origins: [api.origin], scope: 'api:write' };
    const agent = new Agent();
    agents.push(agent);
    const dispatcher = agent.compose(maskinporten(options));
    options.scope = 'api:read';
    options.origins.push(foreign.origin);
    await call('undici request', dispatcher, `${api.origin}/ok`);
    await call('undici request', dispatcher, `${foreign.origin}/ok`);
    const claims = JSON.parse(Buffer.from(String(tokenOf(api.seen[0]?.authorization)).split('.')[1] ?? '', 'base64url').toString()) as { scope: string };
    expect(claims.scope).toBe('api:write');
    expect(foreign.authorizations).toEqual([undefined]);
  });
});
