import { Readable } from 'node:stream';
import axios from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PortvaktError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { createClient, startSimulator, tokenOf } from './fixture.js';
import { startRecordingApi } from '@portvakt/testing';
import type { RecordingApi } from '@portvakt/testing';

let sim: MaskinportenSimulator;
let api: RecordingApi;
let foreign: RecordingApi;
let client: MaskinportenClient;

beforeAll(async () => {
  sim = await startSimulator();
  api = await startRecordingApi();
  foreign = await startRecordingApi();
});
afterAll(async () => {
  await Promise.all([sim.close(), api.close(), foreign.close()]);
});
beforeEach(() => {
  // A client of its own per test, so each starts with an empty cache.
  client = createClient(sim);
  api.seen.length = 0;
  foreign.seen.length = 0;
  api.revoked.clear();
  sim.clearFaults();
});
afterEach(async () => {
  await client.close();
});

/** Revokes the token the client holds now, and returns it. */
async function revokeCurrent(): Promise<string> {
  const stale = (await client.getToken()).accessToken;
  api.revoked.add(stale);
  return stale;
}

describe('a 401 from an allowed origin', () => {
  it('drops the token, fetches one new token for 100 concurrent requests, and sends each once more', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    const before = sim.tokenRequestCount();
    const stale = await revokeCurrent();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => instance.post('/echo', { i, padding: 'x'.repeat(i) })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(sim.tokenRequestCount() - before).toBe(2); // the first token and exactly one refresh
    const sent = api.seen.map((s) => tokenOf(s.authorization));
    expect(sent).toHaveLength(200);
    expect(sent.filter((t) => t === stale)).toHaveLength(100);
    const fresh = new Set(sent.filter((t) => t !== stale));
    expect(fresh.size).toBe(1);
    expect([...fresh][0]).toBe((await client.getToken()).accessToken);
    // The replayed bodies arrived whole.
    expect(results.map((r) => (r.data as { bytes: number }).bytes)).toEqual(results.map((_, i) => JSON.stringify({ i, padding: 'x'.repeat(i) }).length));
  });

  it('sends a request at most twice: a second 401 reaches the caller', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await client.getToken();
    const before = sim.tokenRequestCount();
    const error = await instance.get('/status/401').catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect(sim.tokenRequestCount() - before).toBe(1);
  });

  it('is not retried when the body was a stream, or when retryOnUnauthorized is false', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await revokeCurrent();
    await expect(instance.post('/echo', Readable.from(['a', 'b']))).rejects.toMatchObject({ response: { status: 401 } });
    expect(api.seen).toHaveLength(1);

    const noRetry = axios.create({ baseURL: api.origin });
    withMaskinporten(noRetry, { client, retryOnUnauthorized: false });
    await expect(noRetry.get('/ok')).rejects.toMatchObject({ response: { status: 401 } });
    expect(api.seen).toHaveLength(2);
  });

  it('a failed refresh reaches the caller as the client\'s typed error', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await revokeCurrent();
    sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_scope', error_description: 'MP-123 scope not allowed' } });
    const error = await instance.get('/ok').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortvaktError);
    expect(api.seen).toHaveLength(1);
  });
});

describe('no refresh when the token was not the problem', () => {
  it('a 403 is passed through: no new token, no second request', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await client.getToken();
    const before = sim.tokenRequestCount();
    await expect(instance.get('/status/403')).rejects.toMatchObject({ response: { status: 403 } });
    await instance.get('/ok');
    expect(api.seen).toHaveLength(2);
    expect(sim.tokenRequestCount()).toBe(before);
  });

  it('a 401 from another origin after a redirect (which carried no token) keeps the token', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    const token = (await client.getToken()).accessToken;
    const before = sim.tokenRequestCount();
    const to = encodeURIComponent(`${foreign.origin}/status/401`);
    await expect(instance.get(`/redirect/302?to=${to}`)).rejects.toMatchObject({ response: { status: 401 } });
    expect(api.seen).toHaveLength(1);
    expect(foreign.seen.map((s) => s.authorization)).toEqual([undefined]);
    expect(sim.tokenRequestCount()).toBe(before);
    expect((await client.getToken()).accessToken).toBe(token);
  });
});
