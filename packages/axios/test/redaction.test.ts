import http from 'node:http';
import util from 'node:util';
import axios, { AxiosError } from 'axios';
import type { AxiosInstance } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { createClient, expectRedacted, startSimulator, tokenOf } from './fixture.js';
import { startRecordingApi } from '@portvakt/testing';
import type { RecordingApi } from '@portvakt/testing';

let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingApi;
/** A loopback port with nothing listening. */
let closedOrigin: string;

beforeAll(async () => {
  sim = await startSimulator();
  client = createClient(sim);
  api = await startRecordingApi();
  const closed = await startRecordingApi();
  closedOrigin = closed.origin;
  await closed.close();
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close()]);
});
beforeEach(() => {
  api.seen.length = 0;
  api.revoked.clear();
});

function install(extra: Parameters<typeof axios.create>[0] = {}): AxiosInstance {
  const instance = axios.create({ baseURL: api.origin, ...extra });
  withMaskinporten(instance, { client, origins: [api.origin, closedOrigin] });
  return instance;
}

const failures: [string, (i: AxiosInstance) => Promise<unknown>][] = [
  ['an HTTP 500', (i) => i.get('/status/500')],
  ['an HTTP 500 with maxRedirects: 0', (i) => i.get('/status/500', { maxRedirects: 0 })],
  ['an HTTP 500 after a redirect', (i) => i.get(`/redirect/302?to=${encodeURIComponent(`${api.origin}/status/500`)}`)],
  ['a timeout', (i) => i.get('/slow/2000', { timeout: 20 })],
  ['a refused connection', (i) => i.get(`${closedOrigin}/x`)],
  ['a refused connection with maxRedirects: 0', (i) => i.get(`${closedOrigin}/x`, { maxRedirects: 0 })],
  ['an HTTP 500 with the fetch adapter', (i) => i.get('/status/500', { adapter: 'fetch' })],
  ['a refused connection with the fetch adapter', (i) => i.get(`${closedOrigin}/x`, { adapter: 'fetch' })],
];

describe('errors that reach the caller carry no token', () => {
  it.each(failures)('%s', async (_name, run) => {
    const instance = install();
    const token = (await client.getToken()).accessToken;
    const error = await run(instance).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AxiosError);
    const err = error as AxiosError;
    expectRedacted(err, [token], { showHidden: true });
    expect(err.config?.headers.Authorization).toBe('[redacted]');
    expect(err.request).toBeDefined(); // the request is still there, minus the token
  });

  it('a 401 that persists after the retry: neither the old nor the new token', async () => {
    const instance = install();
    const old = (await client.getToken()).accessToken;
    const error = await instance.get('/status/401').then(() => undefined, (e: unknown) => e);
    const fresh = (await client.getToken()).accessToken;
    expect(fresh).not.toBe(old);
    expect(api.seen.map((s) => tokenOf(s.authorization))).toEqual([old, fresh]);
    expectRedacted(error, [old, fresh], { showHidden: true });
  });

  it('response interceptors registered before ours see the error redacted too', async () => {
    const instance = axios.create({ baseURL: api.origin });
    const printed: string[] = [];
    instance.interceptors.response.use(undefined, (error: unknown) => {
      printed.push(util.inspect(error, { depth: Infinity }), JSON.stringify(error));
      throw error;
    });
    withMaskinporten(instance, { client });
    const token = (await client.getToken()).accessToken;
    await instance.get('/status/500').catch(() => undefined);
    expect(printed).toHaveLength(2);
    for (const text of printed) expect(text.includes(token)).toBe(false);
  });

  it('no token from other requests in flight on the same keep-alive agent', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const instance = install({ httpAgent: agent });
    const token = (await client.getToken()).accessToken;
    const hanging = [instance.get('/hang'), instance.get('/hang'), instance.get('/hang')];
    await expect.poll(() => api.seen.length).toBe(3);
    const error = await instance.get('/status/500').then(() => undefined, (e: unknown) => e);
    expect(Object.keys(agent.sockets).length).toBeGreaterThan(0); // the others are still in flight
    expectRedacted(error, [token]);
    api.release();
    await Promise.all(hanging);
    agent.destroy();
  });
});

describe('responses and configs handed back', () => {
  it('a response prints without the token', async () => {
    const instance = install();
    const token = (await client.getToken()).accessToken;
    const response = await instance.get('/ok');
    expect(tokenOf(api.seen[0]?.authorization)).toBe(token);
    expect(response.config.headers.Authorization).toBe('[redacted]');
    expect(util.inspect(response, { depth: Infinity }).includes(token)).toBe(false);
    expect(JSON.stringify(response.config).includes(token)).toBe(false);
  });

  it('sending error.config again (as retry libraries do) attaches a fresh token, not the marker', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const instance = install({ httpAgent: agent });
    let retried = false;
    instance.interceptors.response.use(undefined, async (error: AxiosError) => {
      if (retried || error.config === undefined) throw error;
      retried = true;
      return instance.request({ ...error.config, url: '/ok' });
    });
    const response = await instance.get('/status/503');
    expect(response.status).toBe(200);
    expect(api.seen.map((s) => s.authorization?.slice(0, 9))).toEqual(['Bearer ey', 'Bearer ey']);
    expect(response.config.httpAgent).toBe(agent); // hidden from printing, still there
    agent.destroy();
  });
});
