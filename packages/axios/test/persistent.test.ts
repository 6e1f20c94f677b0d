// Failures that never stop (issue 11): a 401 for ever, with every adapter and after a redirect to a
// foreign origin, and redaction whatever the size of the error or of the process.
import http from 'node:http';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { createClient, expectRedacted, startSimulator } from './fixture.js';

let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingApi;
let foreign: RecordingApi;

beforeAll(async () => {
  sim = await startSimulator();
  client = createClient(sim);
  [api, foreign] = await Promise.all([startRecordingApi(), startRecordingApi()]);
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close(), foreign.close()]);
});
beforeEach(() => {
  api.seen.length = 0;
  foreign.seen.length = 0;
});

function install(): AxiosInstance {
  const instance = axios.create({ baseURL: api.origin });
  withMaskinporten(instance, { client });
  return instance;
}

describe('a 401 that never stops', () => {
  it.each(['http', 'fetch'] as const)('with the %s adapter: each call settles after 2 API calls and 1 new token', async (adapter) => {
    const instance = install();
    await client.getToken();
    for (let call = 1; call <= 5; call++) {
      const before = sim.tokenRequestCount();
      const seenBefore = api.seen.length;
      const error = await instance.get('/status/401', { adapter }).catch((e: unknown) => e);
      expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
      expect(api.seen.length - seenBefore).toBe(2);
      expect(sim.tokenRequestCount() - before).toBe(1);
    }
  });

  it('with the http adapter: a redirect to a foreign origin that answers 401 sends no token there and fetches none', async () => {
    const instance = install();
    await client.getToken();
    const before = sim.tokenRequestCount();
    const to = encodeURIComponent(`${foreign.origin}/status/401`);
    for (let call = 1; call <= 3; call++) {
      await expect(instance.get(`/redirect/302?to=${to}`)).rejects.toMatchObject({ response: { status: 401 } });
    }
    // The http adapter shows the last hop's request: it carried no token, so the 401 is not ours.
    expect(api.seen).toHaveLength(3);
    expect(foreign.authorizations).toEqual([undefined, undefined, undefined]);
    expect(sim.tokenRequestCount()).toBe(before);
  });

  it('with the fetch adapter: a redirect to a foreign origin that answers 401 stays within the bound and sends no token there', async () => {
    const instance = install();
    await client.getToken();
    const before = sim.tokenRequestCount();
    const to = encodeURIComponent(`${foreign.origin}/status/401`);
    for (let call = 1; call <= 3; call++) {
      await expect(instance.get(`/redirect/302?to=${to}`, { adapter: 'fetch' })).rejects.toMatchObject({ response: { status: 401 } });
    }
    // Axios' fetch adapter does not expose the final URL, so the 401 is taken as ours: one refresh
    // and one resend per call, never more.
    expect(api.seen.length).toBeLessThanOrEqual(6);
    expect(sim.tokenRequestCount() - before).toBeLessThanOrEqual(3);
    expect(foreign.authorizations.every((a) => a === undefined)).toBe(true);
  });

  it('100 calls at once against a 401 for ever: 200 API calls and at most 1 new token each round, and every call settles', async () => {
    const instance = install();
    await client.getToken();
    const before = sim.tokenRequestCount();
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => instance.get('/status/401')));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(api.seen).toHaveLength(200);
    expect(sim.tokenRequestCount() - before).toBe(1);
  });
});

describe('redaction cannot be outrun', () => {
  it.each([10, 1_000, 20_000, 100_000, 1_000_000])('an error response of %i JSON values carries no token', async (values) => {
    const instance = install();
    const token = (await client.getToken()).accessToken;
    const error = await instance.get(`/status/500?values=${values}`).catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && error.response?.status).toBe(500);
    expect(Array.isArray((error as { response: { data: unknown } }).response.data)).toBe(true);
    expectRedacted(error, [token]);
  });

  it('a process with 512 free sockets on the global agent and a 500 with a tiny body', async () => {
    const agent = http.globalAgent;
    const keepAlive = (agent as { keepAlive?: boolean }).keepAlive;
    const maxFree = agent.maxFreeSockets;
    // Fill the global agent's free list with 512 idle keep-alive sockets to the API.
    Object.assign(agent, { keepAlive: true, maxFreeSockets: 1024 });
    const idle = await startRecordingApi({ keepAliveTimeout: 60_000 });
    const plain = axios.create({ baseURL: idle.origin, httpAgent: agent });
    try {
      await Promise.all(Array.from({ length: 512 }, () => plain.get('/ok')));
      expect(Object.values(agent.freeSockets).flat().length).toBe(512);
      const instance = axios.create({ baseURL: api.origin, httpAgent: agent });
      withMaskinporten(instance, { client });
      const token = (await client.getToken()).accessToken;
      const error = await instance.get('/status/500').catch((e: unknown) => e);
      expectRedacted(error, [token]);
    } finally {
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
      Object.assign(agent, { keepAlive, maxFreeSockets: maxFree });
      await idle.close();
    }
  });
});
