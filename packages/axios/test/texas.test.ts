// The Texas token source through a real Axios instance, against the simulator's Texas and a real
// API: what a NAIS app that follows its platform's guides gets with Portvakt.
import http from 'node:http';
import axios, { AxiosError } from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, EndpointUnavailableError, TokenEndpointError, createAltinnTokenSource, createTexasTokenSource } from '@portvakt/core';
import type { TexasTokenSource } from '@portvakt/core';
import { startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi, SimulatorTexas } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { CUSTOMER, tokenOf } from './fixture.js';

let sim: MaskinportenSimulator;
let texas: SimulatorTexas;
let api: RecordingApi;
let source: TexasTokenSource;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ texas: { client: { clientId: 'nais-app', orgno: '889640782', scopes: ['api:read', 'altinn:read'], systemUsers: [{ orgno: CUSTOMER }] } } });
  texas = sim.texas!;
  api = await startRecordingApi();
});
afterAll(async () => {
  agent.destroy();
  await Promise.all([sim.close(), api.close()]);
});
beforeEach(() => {
  source = createTexasTokenSource({ endpoint: texas.tokenEndpoint, scope: 'api:read', transport: { backoffBase: 1, backoffMax: 5 } });
});
afterEach(async () => {
  await source.close();
  sim.reset();
  api.seen.length = 0;
  api.revoked.clear();
});

/** An Axios instance for the API, with withMaskinporten() and the Texas source installed. */
function instance() {
  const created = axios.create({ baseURL: api.origin, httpAgent: agent });
  withMaskinporten(created, { client: source });
  return created;
}

describe('withMaskinporten with the Texas token source', () => {
  it('10,000 concurrent requests: 1 Texas request, and every request carries its token', async () => {
    // Axios' own pipeline with withMaskinporten installed; the last step, the HTTP send, is an
    // adapter that records the header, so the test measures the herd rather than 10,000 sockets.
    const sent: unknown[] = [];
    const caller = axios.create({
      baseURL: api.origin,
      adapter: async (config) => {
        sent.push(config.headers.Authorization);
        return { data: null, status: 200, statusText: 'OK', headers: {}, config, request: {} };
      },
    });
    withMaskinporten(caller, { client: source });
    const results = await Promise.all(Array.from({ length: 10_000 }, () => caller.get('/ok')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(texas.tokenRequestCount()).toBe(1);
    expect(sent).toHaveLength(10_000);
    expect(new Set(sent)).toEqual(new Set([(await source.getToken()).authorization]));
    // And over real HTTP, a herd of 200 the same way.
    await Promise.all(Array.from({ length: 200 }, () => instance().get('/ok')));
    expect(new Set(api.seen.map((s) => s.authorization))).toEqual(new Set([(await source.getToken()).authorization]));
    expect(texas.tokenRequestCount()).toBe(1);
  });

  it('a 401 from the API: exactly 1 skip_cache request to Texas and 1 resend', async () => {
    const caller = instance();
    await caller.get('/ok');
    const stale = tokenOf(api.seen[0]?.authorization) as string;
    api.revoked.add(stale);
    const response = await caller.get('/ok');
    expect(response.status).toBe(200);
    expect(api.seen.map((s) => tokenOf(s.authorization))).toEqual([stale, stale, expect.not.stringMatching(stale)]);
    expect(texas.skipCacheCount()).toBe(1);
    expect(texas.tokenRequestCount()).toBe(2);
  });

  it('invalid_scope from Texas: the call fails with its TokenEndpointError after 1 Texas request, and the API sees nothing', async () => {
    const error = await instance().get('/ok', { maskinporten: { scope: 'api:not-consumed' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ error: 'invalid_scope', via: 'texas', mpCode: 'MP-200' });
    expect(texas.tokenRequestCount()).toBe(1);
    expect(api.seen).toHaveLength(0);
  });

  it('Texas answering 500 for ever: a bounded number of requests, then an EndpointUnavailableError', async () => {
    sim.inject({ kind: 'status', status: 500, body: { error: 'server_error', error_description: 'Upstream request failed' } }, { path: '/api/v1/token', times: Infinity });
    const error = await instance().get('/ok').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect(texas.tokenRequestCount()).toBe(2);
    expect(api.seen).toHaveLength(0);
  });

  it('consumerOrg: refused with 0 requests to Texas', async () => {
    const error = await instance().get('/ok', { maskinporten: { consumerOrg: CUSTOMER } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('consumerOrg');
    expect(texas.tokenRequestCount()).toBe(0);
    expect(api.seen).toHaveLength(0);
  });

  it('Texas down with a valid token: no failed call', async () => {
    const caller = instance();
    await caller.get('/ok');
    sim.inject({ kind: 'drop' }, { path: '/api/v1/token', times: Infinity });
    const results = await Promise.all(Array.from({ length: 50 }, () => caller.get('/ok')));
    expect(results.every((r) => r.status === 200)).toBe(true);
  });

  it('the Altinn source on top of Texas: Altinn tokens on the wire, system users per request', async () => {
    const maskinporten = createTexasTokenSource({ endpoint: texas.tokenEndpoint, scope: 'altinn:read' });
    const altinn = createAltinnTokenSource({ maskinporten, environment: { exchangeUrl: sim.altinnExchangeUrl } });
    try {
      const caller = axios.create({ baseURL: api.origin });
      withMaskinporten(caller, { client: altinn });
      await caller.get('/ok', { maskinporten: { systemUser: { orgno: CUSTOMER } } });
      const claims = JSON.parse(Buffer.from(tokenOf(api.seen[0]?.authorization)!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).toMatchObject({ 'urn:altinn:authenticatemethod': 'maskinporten', client_id: 'nais-app' });
      expect(claims.authorization_details).toEqual([expect.objectContaining({ type: 'urn:altinn:systemuser' })]);
      expect(texas.tokenRequestCount()).toBe(1);
    } finally {
      await altinn.close();
      await maskinporten.close();
    }
  });

  it('a failed call carries no token', async () => {
    const caller = instance();
    await caller.get('/ok');
    const token = tokenOf(api.seen[0]?.authorization) as string;
    const error = (await caller.get('/status/500').catch((e: unknown) => e)) as AxiosError;
    expect(error).toBeInstanceOf(AxiosError);
    expect(JSON.stringify(error)).not.toContain(token);
  });
});
