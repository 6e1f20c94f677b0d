import axios from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { CUSTOMER, createClient, loopbackLookup, startSimulator } from './fixture.js';
import { startRecordingApi } from '@portvakt/testing';
import type { RecordingApi, SeenRequest } from '@portvakt/testing';

let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingApi;
let foreign: RecordingApi;
let foreign6: RecordingApi | undefined;
let other: RecordingApi;

beforeAll(async () => {
  sim = await startSimulator();
  client = createClient(sim);
  api = await startRecordingApi();
  other = await startRecordingApi();
  foreign = await startRecordingApi();
  // The same port on the IPv6 loopback, sharing the foreign server's log (skipped if taken).
  foreign6 = await startRecordingApi({ host: '::1', port: foreign.port, seen: foreign.seen }).catch(() => undefined);
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close(), other.close(), foreign.close(), foreign6?.close()]);
});
beforeEach(() => {
  for (const server of [api, other, foreign]) server.seen.length = 0;
});

const bearer = (s: SeenRequest) => s.authorization?.startsWith('Bearer ') === true;

describe('tokens go only to allowed origins', () => {
  it('no token to another origin across hundreds of crafted URLs; the API gets tokens only under its own origin', async () => {
    const instance = axios.create({ baseURL: api.origin, timeout: 2000, validateStatus: () => true, lookup: loopbackLookup, maxRedirects: 0 });
    withMaskinporten(instance, { client });
    const a = api.port;
    const f = foreign.port;
    const hosts = [
      `127.0.0.1:${f}`, `localhost:${f}`, `LOCALHOST:${f}`, `localhost.:${f}`, `[::1]:${f}`, `127.1:${f}`, `0x7f.0.0.1:${f}`,
      `2130706433:${f}`, `%31%32%37.0.0.1:${f}`, `127.0.0.1:${other.port}`,
      // The API's own port under other names: other origins, even though the same server answers.
      `localhost:${a}`, `LocalHost.:${a}`, `api.localhost:${a}`, `127.0.0.1.nip.io:${a}`, `evil.example:${a}`,
    ];
    const prefixes = ['http://', 'HTTP://', 'https://', '//', 'http:\\\\', '\\\\', ' http://', 'http://\t'];
    const tricks = [
      (h: string) => h,
      (h: string) => `127.0.0.1:${a}@${h}`,
      (h: string) => `user:pass@${h}`,
      (h: string) => `${h}/..//127.0.0.1:${a}/`,
      (h: string) => `${h}?next=http://127.0.0.1:${a}/`,
      (h: string) => `${h}#@127.0.0.1:${a}`,
      (h: string) => `${h}\\@127.0.0.1:${a}`,
    ];
    const urls = new Set<string>();
    for (const p of prefixes) for (const h of hosts) for (const t of tricks) urls.add(`${p}${t(h)}/steal`);
    expect(urls.size).toBeGreaterThanOrEqual(200);
    for (const url of urls) await instance.get(url).catch(() => undefined);
    // Other ways to point a request elsewhere: a per-request baseURL, with and without a url.
    for (const h of hosts) {
      await instance.get('/steal', { baseURL: `http://${h}` }).catch(() => undefined);
      await instance.request({ baseURL: `http://${h}/v1` }).catch(() => undefined);
      await instance.get(`http://${h}/steal`, { baseURL: undefined } as never).catch(() => undefined);
    }

    const foreignSeen = foreign.seen.length;
    expect(foreignSeen).toBeGreaterThan(100); // the foreign origin really was reached
    expect(foreign.seen.filter(bearer)).toEqual([]);
    expect(other.seen.length).toBeGreaterThan(10);
    expect(other.seen.filter(bearer)).toEqual([]);
    const apiOwn = `127.0.0.1:${a}`;
    expect(api.seen.filter((s) => s.host !== apiOwn).length).toBeGreaterThan(20); // look-alike names reached the API
    expect(api.seen.filter((s) => bearer(s) && s.host !== apiOwn)).toEqual([]);
    expect(api.seen.filter(bearer).length).toBeGreaterThan(0);
    // (user:pass@ URLs make Axios send Basic credentials from the URL itself, never a token.)
  });

  it('an absolute URL to the allowed origin, and allowAbsoluteUrls: false, still get the token', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await instance.get(`${api.origin}/ok`);
    await instance.get(`http://127.0.0.1:${foreign.port}/ok`, { allowAbsoluteUrls: false }).catch(() => undefined);
    expect(api.seen.map(bearer)).toEqual([true, true]);
    expect(api.seen[1]?.path).toBe(`/http://127.0.0.1:${foreign.port}/ok`);
    expect(foreign.seen).toEqual([]);
  });

  it('checks the URL as the request leaves, after every request interceptor', async () => {
    const instance = axios.create({ baseURL: api.origin });
    // Registered first, so it runs after ours (Axios runs request interceptors last-in first-out).
    instance.interceptors.request.use((config) => ({ ...config, url: `${foreign.origin}/moved` }) as typeof config);
    const seenByInterceptor: unknown[] = [];
    withMaskinporten(instance, { client });
    instance.interceptors.request.use((config) => {
      seenByInterceptor.push(config.headers.get('Authorization'));
      return config;
    });
    await instance.get('/ok');
    expect(foreign.seen.map((s) => s.authorization)).toEqual([undefined]);
    expect(seenByInterceptor).toEqual([undefined]); // interceptors never see the token
  });

  it('several origins with `origins`, and the adapter chosen per request', async () => {
    const instance = axios.create({ baseURL: api.origin });
    const installed = withMaskinporten(instance, { client, origins: [api.origin, other.origin] });
    expect(installed.origins).toEqual([api.origin, other.origin]);
    await instance.get(`${other.origin}/ok`);
    await instance.get('/ok', { adapter: 'fetch' });
    await instance.get(`${foreign.origin}/ok`, { adapter: 'fetch' });
    expect(other.seen.map(bearer)).toEqual([true]);
    expect(api.seen.map(bearer)).toEqual([true]);
    expect(foreign.seen.map(bearer)).toEqual([false]);
  });
});

describe('per-request claims and the caller\'s own header', () => {
  it('sends the claims of config.maskinporten to Maskinporten, one token per set of claims', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await instance.get('/ok');
    await instance.get('/ok', { maskinporten: { scope: 'api:write' } });
    await instance.get('/ok', { maskinporten: { consumerOrg: CUSTOMER } });
    await instance.get('/ok', { maskinporten: { systemUser: { orgno: CUSTOMER } } });
    await instance.get('/ok', { maskinporten: { skip: true } });
    const headers = api.seen.map((s) => s.authorization);
    expect(headers.slice(0, 4).every((h) => h?.startsWith('Bearer ey'))).toBe(true);
    expect(new Set(headers.slice(0, 4)).size).toBe(4);
    expect(headers[4]).toBeUndefined();
    const grants = sim.requests.filter((r) => r.grant !== undefined).map((r) => r.grant!.claims);
    expect(grants.some((c) => c.scope === 'api:write')).toBe(true);
    expect(grants.some((c) => c.consumer_org === CUSTOMER)).toBe(true);
    expect(grants.some((c) => String(JSON.stringify(c.authorization_details)).includes(`0192:${CUSTOMER}`))).toBe(true);
  });

  it('refuses invalid per-request claims before anything is sent', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    const error = await instance.get('/ok', { maskinporten: { consumerOrg: '123456789' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('maskinporten.consumerOrg');
    expect(api.seen).toEqual([]);
  });

  it('keeps a caller-set Authorization unless told to overwrite it', async () => {
    const keep = axios.create({ baseURL: api.origin, headers: { Authorization: 'Basic aW5zdGFuY2U=' } });
    withMaskinporten(keep, { client });
    await keep.get('/ok');
    await keep.get('/ok', { headers: { Authorization: 'Basic dXNlcg==' } });
    const over = axios.create({ baseURL: api.origin });
    withMaskinporten(over, { client, overwriteAuthorization: true });
    await over.get('/ok', { headers: { Authorization: 'Basic dXNlcg==' } });
    expect(api.seen.map((s) => s.authorization)).toEqual(['Basic aW5zdGFuY2U=', 'Basic dXNlcg==', expect.stringMatching(/^Bearer ey/)]);
  });
});
