// undici 8 needs Node.js 22: these run in CI's Node 24 pass and are skipped on Node 20. The same
// interceptor, composed on undici 8's Agent, with undici 8's request() and fetch().
import type * as Undici8 from 'undici8';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { maskinporten } from '@portvakt/undici';
import { createClient, startSimulator, tokenOf } from './fixture.js';

const nodeMajor = Number(process.versions.node.split('.')[0]);

describe.skipIf(nodeMajor < 22)('undici 8', () => {
  let undici: typeof Undici8;
  let sim: MaskinportenSimulator;
  let client: MaskinportenClient;
  let api: RecordingApi;
  let foreign: RecordingApi;
  let agent: Undici8.Agent;
  let dispatcher: Undici8.Dispatcher;

  beforeAll(async () => {
    undici = await import('undici8');
    sim = await startSimulator();
    client = createClient(sim);
    [api, foreign] = await Promise.all([startRecordingApi(), startRecordingApi()]);
    agent = new undici.Agent();
    const interceptor = maskinporten({ client, origins: [api.origin] }) as unknown as Undici8.Dispatcher.DispatcherComposeInterceptor;
    dispatcher = agent.compose(interceptor, undici.interceptors.redirect({ maxRedirections: 5 }));
  });
  afterAll(async () => {
    await agent.close();
    await client.close();
    await Promise.all([sim.close(), api.close(), foreign.close()]);
  });
  beforeEach(() => {
    api.seen.length = 0;
    foreign.seen.length = 0;
  });

  it('request(): the token to the allowed origin, none across a redirect to another', async () => {
    const token = await client.getToken();
    const direct = await undici.request(`${api.origin}/ok`, { dispatcher });
    await direct.body.text();
    const redirected = await undici.request(`${api.origin}/redirect/302?to=${encodeURIComponent(`${foreign.origin}/landing`)}`, { dispatcher });
    await redirected.body.text();
    expect(redirected.statusCode).toBe(200);
    expect(api.authorizations).toEqual([`Bearer ${token.accessToken}`, `Bearer ${token.accessToken}`]);
    expect(foreign.authorizations).toEqual([undefined]);
  });

  it('fetch(): a 401 for ever gets one new token and one retry, then the 401', async () => {
    const first = await client.getToken();
    const before = sim.tokenRequestCount();
    const response = await undici.fetch(`${api.origin}/status/401`, { dispatcher });
    await response.text();
    expect(response.status).toBe(401);
    expect(api.seen.map((s) => tokenOf(s.authorization) === first.accessToken)).toEqual([true, false]);
    expect(sim.tokenRequestCount() - before).toBe(1);
  });
});
