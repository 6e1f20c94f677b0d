import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import util from 'node:util';
import got, { HTTPError, RequestError } from 'got';
import type { Got } from 'got';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, TokenEndpointError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { startRecordingApi, startRecordingDualApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/got';
import type { WithMaskinportenOptions } from '@portvakt/got';
import { createClient, expectRedacted, expectRedactedEverywhere, pathsTo, startSimulator, tokenOf } from './fixture.js';

let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingApi;
let foreign: RecordingApi;
let dual: Awaited<ReturnType<typeof startRecordingDualApi>>;

beforeAll(async () => {
  sim = await startSimulator();
  client = createClient(sim);
  [api, foreign, dual] = await Promise.all([startRecordingApi(), startRecordingApi(), startRecordingDualApi()]);
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close(), foreign.close(), dual.close()]);
});
beforeEach(() => {
  for (const server of [api, foreign, dual]) server.seen.length = 0;
  api.revoked.clear();
  sim.clearFaults();
});

// No retries of got's own, so a count of requests is the count this integration makes.
const base = got.extend({ retry: { limit: 0 }, throwHttpErrors: false });
const instanceFor = (options: Partial<WithMaskinportenOptions> = {}): Got => withMaskinporten(base, { client, origins: [api.origin], ...options });

const STATUSES = [301, 302, 303, 307, 308];
const redirect = (status: number, to: string) => `/redirect/${status}?to=${encodeURIComponent(to)}`;
const bearer = (header: string | undefined) => header?.startsWith('Bearer ') === true;

describe('origins and redirects', () => {
  it('puts the token on the prefixUrl origin by default, and on no other origin', async () => {
    const nav = withMaskinporten(base.extend({ prefixUrl: api.origin }), { client });
    const token = await client.getToken();
    expect((await nav.get('ok')).statusCode).toBe(200);
    expect(api.authorizations).toEqual([`Bearer ${token.accessToken}`]);
    const plain = instanceFor();
    await plain.get(`${foreign.origin}/ok`);
    expect(foreign.authorizations).toEqual([undefined]);
  });

  it.each(STATUSES)('a %i redirect to another origin carries no token there', async (status) => {
    const response = await instanceFor().get(`${api.origin}${redirect(status, `${foreign.origin}/landing`)}`);
    expect(response.statusCode).toBe(200);
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true]);
    expect(foreign.authorizations).toEqual([undefined]);
  });

  it.each(STATUSES)('a %i redirect from https down to http on the same host and port carries no token (got alone keeps it)', async (status) => {
    const secure = withMaskinporten(base.extend({ https: { certificateAuthority: dual.ca, checkServerIdentity: () => undefined } }), { client, origins: [dual.origin] });
    await secure.get(`${dual.origin}${redirect(status, `http://127.0.0.1:${dual.port}/landing`)}`);
    expect(dual.seen.map((s) => [s.secure, bearer(s.authorization)])).toEqual([
      [true, true],
      [false, false],
    ]);
  });

  it('a chain allowed -> foreign -> allowed: the foreign origin sees nothing', async () => {
    await instanceFor().get(`${api.origin}${redirect(307, `${foreign.origin}${redirect(302, `${api.origin}/ok`)}`)}`);
    expect(foreign.authorizations).toEqual([undefined]);
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true, true]);
  });

  it('keeps the token on redirects within the allowed origin', async () => {
    await instanceFor().get(`${api.origin}${redirect(301, `${api.origin}${redirect(308, '/ok')}`)}`);
    expect(api.seen.map((s) => bearer(s.authorization))).toEqual([true, true, true]);
  });

  it('sends the caller\'s own Authorization as it is, and fetches no token for it', async () => {
    const before = sim.tokenRequestCount();
    await instanceFor().get(`${api.origin}/ok`, { headers: { authorization: 'Basic dXNlcjpwdw==' } });
    expect(api.authorizations).toEqual(['Basic dXNlcjpwdw==']);
    expect(sim.tokenRequestCount()).toBe(before);
  });
});

describe('a 401', () => {
  it('for ever: one new token, one retry, then got\'s HTTPError', async () => {
    const first = await client.getToken();
    const before = sim.tokenRequestCount();
    const error = await withMaskinporten(got.extend({ retry: { limit: 0 } }), { client, origins: [api.origin] })
      .get(`${api.origin}/status/401`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HTTPError);
    expect((error as HTTPError).response.statusCode).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect(tokenOf(api.seen[0]?.authorization)).toBe(first.accessToken);
    expect(tokenOf(api.seen[1]?.authorization)).not.toBe(first.accessToken);
    expect(sim.tokenRequestCount() - before).toBe(1);
    const fresh = String(tokenOf(api.seen[1]?.authorization));
    expectRedacted(error, first.accessToken);
    expectRedacted(error, fresh);
  });

  it('for a revoked token: the retry with a new token succeeds, and the response shows no token', async () => {
    const revoked = await client.getToken();
    api.revoked.add(revoked.accessToken);
    const response = await instanceFor().post(`${api.origin}/echo`, { json: { a: 1 } });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true, bytes: 7 });
    expect(api.seen.map((s) => tokenOf(s.authorization) === revoked.accessToken)).toEqual([true, false]);
    const fresh = String(tokenOf(api.seen[1]?.authorization));
    expect(util.inspect(response.request.options, { depth: Infinity })).not.toContain(fresh);
    expect(JSON.stringify(response.request.options)).not.toContain(fresh);
  });

  it('one new token for 20 requests refused at once', async () => {
    api.revoked.add((await client.getToken()).accessToken);
    const before = sim.tokenRequestCount();
    const responses = await Promise.all(Array.from({ length: 20 }, () => instanceFor().get(`${api.origin}/ok`)));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(sim.tokenRequestCount() - before).toBe(1);
  });

  it('a streamed body is not sent again', async () => {
    api.revoked.add((await client.getToken()).accessToken);
    const response = await instanceFor().post(`${api.origin}/echo`, { body: Readable.from(['twelve bytes']) });
    expect(response.statusCode).toBe(401);
    expect(api.seen).toHaveLength(1);
  });

  it('retryOnUnauthorized: false returns the first 401', async () => {
    expect((await instanceFor({ retryOnUnauthorized: false }).get(`${api.origin}/status/401`)).statusCode).toBe(401);
    expect(api.seen).toHaveLength(1);
  });

  it('from a foreign origin after a redirect is not about our token: no retry', async () => {
    const before = sim.tokenRequestCount();
    const response = await instanceFor().get(`${api.origin}${redirect(302, `${foreign.origin}/status/401`)}`);
    expect(response.statusCode).toBe(401);
    expect(foreign.seen).toHaveLength(1);
    expect(sim.tokenRequestCount()).toBe(before);
  });
});

describe('got\'s own retries and failures', () => {
  it('each of got\'s retries carries a real token, not the redacted one', async () => {
    const retrying = withMaskinporten(got.extend({ retry: { limit: 2, calculateDelay: ({ computedValue }) => (computedValue > 0 ? 1 : 0) }, throwHttpErrors: false }), { client, origins: [api.origin] });
    const token = await client.getToken();
    expect((await retrying.get(`${api.origin}/status/503`)).statusCode).toBe(503);
    expect(api.authorizations).toEqual(Array.from({ length: 3 }, () => `Bearer ${token.accessToken}`));
  });

  it('fails with got\'s RequestError caused by the token error when no token can be had, and sends nothing', async () => {
    const error = await instanceFor({ scope: 'not:granted' }).get(`${api.origin}/ok`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).cause).toBeInstanceOf(TokenEndpointError);
    expect(api.seen).toEqual([]);
  });

  it('keeps the token out of a failed request\'s error', async () => {
    const closed = await startRecordingApi();
    await closed.close();
    const token = await client.getToken();
    const error = await withMaskinporten(base, { client, origins: [closed.origin] }).get(`${closed.origin}/ok`).catch((e: unknown) => e);
    expect((error as RequestError).code).toBe('ECONNREFUSED');
    expectRedacted(error, token.accessToken);
  });

  it('ends the wait for a token when got\'s signal aborts, and sends nothing', async () => {
    await client.close();
    client = createClient(sim); // a cold cache, so the call has to wait for Maskinporten
    sim.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = instanceFor().get(`${api.origin}/ok`, { signal: controller.signal });
    await expect.poll(() => sim.tokenRequestCount()).toBeGreaterThan(0);
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow();
    expect(api.seen).toEqual([]);
    sim.clearFaults();
  });
});

describe("Node's request behind a response or an error", () => {
  // got's defaults: an HTTP error status throws.
  const throwing = () => withMaskinporten(got.extend({ retry: { limit: 0 } }), { client, origins: [api.origin] });
  const nodeRequestOf = (value: { req?: unknown } | { _request?: unknown }) => ('req' in value ? value.req : (value as { _request?: unknown })._request) as Record<PropertyKey, unknown>;
  const headerMapOf = (request: Record<PropertyKey, unknown>) => request[Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'kOutHeaders')!] as Record<string, [string, string]>;

  it('an HTTPError shows no token, hidden properties included: the header block and header map Node kept', async () => {
    const token = await client.getToken();
    const error = (await throwing().get(`${api.origin}/status/500`).catch((e: unknown) => e)) as HTTPError;
    expect(error).toBeInstanceOf(HTTPError);
    const sent = nodeRequestOf(error.response as never);
    expect(sent._header).toContain('authorization: [redacted]\r\n');
    expect(headerMapOf(sent).authorization).toEqual(['authorization', '[redacted]']);
    // The link to the socket (and through it the agent and other requests in flight) is hidden
    // (Node 20), or not an own property at all (Node 24 keeps it behind an accessor).
    expect(Object.getOwnPropertyDescriptor(sent, 'socket')?.enumerable ?? false).toBe(false);
    expectRedactedEverywhere(error, token.accessToken);
  });

  it('a response that reaches the caller shows no token in the request Node sent', async () => {
    const token = await client.getToken();
    const response = await instanceFor().get(`${api.origin}/ok`);
    expect(response.statusCode).toBe(200);
    expect(nodeRequestOf(response as never)._header).toContain('authorization: [redacted]\r\n');
    expect(pathsTo(response, token.accessToken)).toEqual([]);
    expect(api.authorizations).toEqual([`Bearer ${token.accessToken}`]); // it was sent, all the same
  });

  it('a connection reset and a timeout show no token either', async () => {
    const resetting = http.createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(resetting.address() as AddressInfo).port}`;
      const token = await client.getToken();
      const reset = (await withMaskinporten(got.extend({ retry: { limit: 0 } }), { client, origins: [origin] }).get(`${origin}/x`).catch((e: unknown) => e)) as RequestError;
      expect(reset).toBeInstanceOf(RequestError);
      expect(nodeRequestOf(reset.request as never)._header).toContain('authorization: [redacted]\r\n');
      expectRedactedEverywhere(reset, token.accessToken);
      const timedOut = (await throwing().get(`${api.origin}/hang`, { timeout: { request: 100 } }).catch((e: unknown) => e)) as RequestError;
      expect(timedOut.code).toBe('ETIMEDOUT');
      expectRedactedEverywhere(timedOut, token.accessToken);
    } finally {
      api.release();
      await new Promise((resolve) => resetting.close(resolve));
    }
  });

  it('after the one retry on a 401, neither token is in the error', async () => {
    const first = await client.getToken();
    const error = (await throwing().get(`${api.origin}/status/401`).catch((e: unknown) => e)) as HTTPError;
    expect(error.response.statusCode).toBe(401);
    expectRedactedEverywhere(error, first.accessToken);
    expectRedactedEverywhere(error, String(tokenOf(api.seen[1]?.authorization)));
  });
});

describe('options', () => {
  it('are checked at once, each mistake naming the option', () => {
    const fieldOf = (instance: unknown, options: unknown) => {
      try {
        withMaskinporten(instance as Got, options as WithMaskinportenOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as ConfigurationError).field;
      }
      return 'no error';
    };
    expect(fieldOf({}, { client })).toBe('instance');
    expect(fieldOf(base, null)).toBe('options');
    expect(fieldOf(base, { client })).toBe('origins');
    expect(fieldOf(base.extend({ prefixUrl: 'http://api.example.no' }), { client })).toBe('prefixUrl');
    expect(fieldOf(base, { client: {}, origins: [api.origin] })).toBe('client');
    expect(fieldOf(base, { client, origins: ['http://api.example.no'] })).toBe('origins[0]');
    expect(fieldOf(base, { client, origins: [api.origin], retryOnUnauthorized: 1 })).toBe('retryOnUnauthorized');
    expect(fieldOf(base, { client, origins: [api.origin], scopes: 'x' })).toBe('scopes');
    const once = instanceFor();
    expect(fieldOf(once, { client, origins: [api.origin] })).toBe('instance');
  });

  it('leave the instance it extends as it was', async () => {
    instanceFor();
    await base.get(`${api.origin}/ok`);
    expect(api.authorizations).toEqual([undefined]);
  });
});
