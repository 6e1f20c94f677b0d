import https from 'node:https';
import axios from 'axios';
import type { InternalAxiosRequestConfig } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, createOriginPolicy } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { guardRedirects } from '../src/redirect-guard.js';
import { createClient, loopbackLookup, startSimulator } from './fixture.js';
import { startRecordingDualApi, startRecordingApi } from '@portvakt/testing';
import type { RecordingApi, SeenRequest } from '@portvakt/testing';

let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingApi;
let foreign: RecordingApi;
let dual: Awaited<ReturnType<typeof startRecordingDualApi>>;

beforeAll(async () => {
  sim = await startSimulator();
  client = createClient(sim);
  api = await startRecordingApi();
  foreign = await startRecordingApi();
  dual = await startRecordingDualApi();
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close(), foreign.close(), dual.close()]);
});
beforeEach(() => {
  for (const server of [api, foreign, dual]) server.seen.length = 0;
});

const STATUSES = [301, 302, 303, 307, 308];
const bearer = (s: SeenRequest) => s.authorization?.startsWith('Bearer ') === true;
const redirect = (status: number, to: string) => `/redirect/${status}?to=${encodeURIComponent(to)}`;

describe.each(['http', 'fetch'] as const)('redirects with the %s adapter', (adapter) => {
  it.each(STATUSES)('%i to another origin (same host, other port) carries no token', async (status) => {
    const instance = axios.create({ baseURL: api.origin, adapter });
    withMaskinporten(instance, { client });
    const response = await instance.get(redirect(status, `${foreign.origin}/landing`));
    expect(response.status).toBe(200);
    expect(api.seen.map(bearer)).toEqual([true]);
    expect(foreign.seen.map((s) => s.authorization)).toEqual([undefined]);
  });

  it.each(STATUSES)('%i to the same server under another name carries no token', async (status) => {
    const instance = axios.create({ baseURL: api.origin, adapter });
    withMaskinporten(instance, { client });
    await instance.get(redirect(status, `http://localhost:${api.port}/landing`));
    expect(api.seen.map((s) => [s.host, bearer(s)])).toEqual([
      [`127.0.0.1:${api.port}`, true],
      [`localhost:${api.port}`, false],
    ]);
  });

  it('a chain allowed -> foreign -> allowed: the foreign origin sees nothing, and the token does not come back', async () => {
    const instance = axios.create({ baseURL: api.origin, adapter });
    withMaskinporten(instance, { client });
    const back = `${foreign.origin}${redirect(302, `${api.origin}/ok`)}`;
    await instance.get(redirect(307, back));
    expect(foreign.seen.map((s) => s.authorization)).toEqual([undefined]);
    expect(api.seen.map(bearer)).toEqual([true, false]);
  });

  it('keeps the token on redirects within the allowed origin', async () => {
    const instance = axios.create({ baseURL: api.origin, adapter });
    withMaskinporten(instance, { client });
    await instance.get(redirect(301, `${api.origin}${redirect(308, '/ok')}`));
    expect(api.seen.map(bearer)).toEqual([true, true, true]);
  });
});

describe('redirects with the http adapter', () => {
  it.each(STATUSES)('%i to a subdomain of the allowed host carries no token', async (status) => {
    // follow-redirects on its own keeps Authorization for a subdomain.
    const base = `http://localhost:${api.port}`;
    const instance = axios.create({ baseURL: base, lookup: loopbackLookup });
    withMaskinporten(instance, { client });
    await instance.get(redirect(status, `http://evil.localhost:${api.port}/landing`));
    expect(api.seen.map((s) => [s.host, bearer(s)])).toEqual([
      [`localhost:${api.port}`, true],
      [`evil.localhost:${api.port}`, false],
    ]);
  });

  it.each(STATUSES)('%i from https to http on the same host and port carries no token', async (status) => {
    const instance = axios.create({ baseURL: dual.origin, httpsAgent: new https.Agent({ ca: dual.ca, checkServerIdentity: () => undefined }) });
    withMaskinporten(instance, { client });
    await instance.get(redirect(status, `http://127.0.0.1:${dual.port}/landing`));
    await instance.get(`http://127.0.0.1:${dual.port}/direct`);
    expect(dual.seen.map((s) => [s.secure, bearer(s)])).toEqual([
      [true, true],
      [false, false],
      [false, false],
    ]);
  });

  it('runs the caller\'s beforeRedirect first, and has the last word on the header', async () => {
    const calls: number[] = [];
    const instance = axios.create({
      baseURL: api.origin,
      beforeRedirect: (options, responseDetails) => {
        calls.push(responseDetails.statusCode);
        (options.headers as Record<string, string>).Authorization = 'Bearer put-back';
      },
    });
    withMaskinporten(instance, { client });
    await instance.get(redirect(302, `${foreign.origin}/landing`));
    expect(calls).toEqual([302]);
    expect(foreign.seen.map((s) => s.authorization)).toEqual([undefined]);
    expect(instance.defaults.beforeRedirect).toBeTypeOf('function');
  });

  it('the guard removes Authorization for every hop outside the policy, in any letter case', () => {
    const config = { headers: new axios.AxiosHeaders() } as InternalAxiosRequestConfig;
    const restore = guardRedirects(config, createOriginPolicy(['https://api.example.no']));
    const hop = (href: string) => {
      const options = { href, headers: { AUTHORIZATION: 'Bearer x', accept: 'application/json' } };
      config.beforeRedirect?.(options, { headers: {}, statusCode: 302 }, undefined as never);
      return Object.keys(options.headers);
    };
    expect(hop('https://api.example.no/next')).toEqual(['AUTHORIZATION', 'accept']);
    expect(hop('https://API.example.no.:443/next')).toEqual(['AUTHORIZATION', 'accept']);
    expect(hop('https://evil.api.example.no/')).toEqual(['accept']);
    expect(hop('http://api.example.no/')).toEqual(['accept']);
    expect(hop('https://api.example.no:8443/')).toEqual(['accept']);
    expect(hop('not a url')).toEqual(['accept']);
    restore();
    expect(Object.hasOwn(config, 'beforeRedirect')).toBe(false);
  });
});

describe('redirects with the fetch adapter and a fetch of your own', () => {
  it('refuses to send a token through a custom fetch whose redirects it cannot see, unless redirects are off', async () => {
    const instance = axios.create({ baseURL: api.origin, adapter: 'fetch', env: { fetch: (...args: Parameters<typeof fetch>) => fetch(...args) } });
    withMaskinporten(instance, { client });
    const error = await instance.get('/ok').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('env.fetch');
    expect(api.seen).toEqual([]);
    await instance.get('/ok', { maxRedirects: 0 });
    await instance.get('/ok', { maskinporten: { skip: true } });
    expect(api.seen.map(bearer)).toEqual([true, false]);
  });
});
