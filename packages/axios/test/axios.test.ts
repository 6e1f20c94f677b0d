import { Readable } from 'node:stream';
import util from 'node:util';
import axios, { AxiosError } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { startServer } from './servers.js';
import type { RecordingServer } from './servers.js';

const key = generateClientKey({ kid: 'axios-key' });
let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingServer;
let foreign: RecordingServer;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'axios-client', orgno: '991825827', scopes: ['api:read', 'api:write'], jwks: [key.publicJwk], delegations: [{ consumerOrg: '910753614', scopes: ['api:read'] }] }] });
  client = createMaskinportenClient({ clientId: 'axios-client', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read' });
  api = await startServer();
  foreign = await startServer();
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close(), foreign.close()]);
});
beforeEach(() => {
  api.seen.length = 0;
  foreign.seen.length = 0;
});

const tokenOf = (header: string | undefined) => header?.split(' ')[1];

describe('installation', () => {
  it('refuses the global default instance', () => {
    expect(() => withMaskinporten(axios, { client })).toThrow(/global default/);
  });
  it('needs an origin: a baseURL or origins', () => {
    expect(() => withMaskinporten(axios.create(), { client })).toThrow(expect.objectContaining({ field: 'origins' }));
    expect(() => withMaskinporten(axios.create({ baseURL: api.origin }), { client: {} as never })).toThrow(ConfigurationError);
    expect(() => withMaskinporten(axios.create({ baseURL: 'http://api.example.com' }), { client })).toThrow(/https/);
  });
  it('ejects both interceptors', async () => {
    const instance = axios.create({ baseURL: api.origin });
    const installed = withMaskinporten(instance, { client });
    installed.eject();
    await instance.get('/ok');
    expect(api.seen).toEqual([undefined]);
  });
});

describe('tokens only for allowed origins', () => {
  it('attaches `<token_type> <token>` for the baseURL origin, with per-request claims', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await instance.get('/ok');
    await instance.get('/ok', { maskinporten: { scope: 'api:write' } });
    await instance.get('/ok', { maskinporten: { consumerOrg: '910753614' } });
    await instance.get('/ok', { maskinporten: { skip: true } });
    expect(api.seen.slice(0, 3).every((h) => h?.startsWith('Bearer ey'))).toBe(true);
    expect(new Set(api.seen.slice(0, 3)).size).toBe(3);
    expect(api.seen[3]).toBeUndefined();
  });

  it('keeps a caller-set Authorization unless told to overwrite', async () => {
    const keep = axios.create({ baseURL: api.origin });
    withMaskinporten(keep, { client });
    await keep.get('/ok', { headers: { Authorization: 'Basic dXNlcg==' } });
    const over = axios.create({ baseURL: api.origin });
    withMaskinporten(over, { client, overwriteAuthorization: true });
    await over.get('/ok', { headers: { Authorization: 'Basic dXNlcg==' } });
    expect(api.seen[0]).toBe('Basic dXNlcg==');
    expect(api.seen[1]).toMatch(/^Bearer /);
  });

  it('gives no token to another origin across 200+ crafted URLs', async () => {
    const instance = axios.create({ baseURL: api.origin, timeout: 2000, validateStatus: () => true });
    withMaskinporten(instance, { client });
    const f = foreign.port;
    const a = api.port;
    const hosts = [`127.0.0.1:${f}`, `localhost:${f}`, `LOCALHOST:${f}`, `localhost.:${f}`, `127.0.0.1.:${f}`, `[::1]:${f}`, `localhost:${a}`, `127.1:${f}`, `0x7f.0.0.1:${f}`, `2130706433:${f}`];
    const prefixes = ['http://', 'HTTP://', '//', 'http:/', 'http:\\\\', '\\\\', ' http://', 'http://\t'];
    const tricks = [
      (h: string) => h,
      (h: string) => `127.0.0.1:${a}@${h}`,
      (h: string) => `user:pass@${h}`,
      (h: string) => `${h}/`,
      (h: string) => `${h}/..//127.0.0.1:${a}`,
      (h: string) => `${h}?x=http://127.0.0.1:${a}`,
      (h: string) => `${h}#@127.0.0.1:${a}`,
    ];
    const urls = new Set<string>();
    for (const p of prefixes) for (const h of hosts) for (const t of tricks) urls.add(`${p}${t(h)}/steal`);
    for (const p of ['https://', 'ftp://', 'file://']) urls.add(`${p}127.0.0.1:${f}/steal`);
    urls.add(`http://127.0.0.1:${f}`);
    expect(urls.size).toBeGreaterThanOrEqual(200);
    for (const url of urls) {
      await instance.get(url).catch(() => undefined);
      await instance.get('/x', { baseURL: `http://127.0.0.1:${f}` }).catch(() => undefined);
    }
    expect(foreign.seen.length).toBeGreaterThan(100); // the foreign server really was reached
    // (URLs with user:pass@ make Axios send Basic credentials from the URL itself; never a bearer token)
    expect(foreign.seen.filter((h) => h !== undefined && !h.startsWith('Basic '))).toEqual([]);
    const issued = sim.requests.filter((r) => r.issued).length;
    expect(issued).toBeGreaterThan(0);
  });

  it.each([301, 302, 303, 307, 308])('drops the token on a %i redirect to another origin', async (status) => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    const res = await instance.get(`/redirect/${status}?to=${encodeURIComponent(`${foreign.origin}/landing`)}`);
    expect(res.status).toBe(200);
    expect(api.seen[0]).toMatch(/^Bearer /);
    expect(foreign.seen).toEqual([undefined]);
  });

  it.each([301, 302, 303, 307, 308])('drops the token on a %i redirect to another origin with the fetch adapter too', async (status) => {
    const instance = axios.create({ baseURL: api.origin, adapter: 'fetch' });
    withMaskinporten(instance, { client });
    const res = await instance.get(`/redirect/${status}?to=${encodeURIComponent(`${foreign.origin}/landing`)}`);
    expect(res.status).toBe(200);
    expect(api.seen[0]).toMatch(/^Bearer /);
    expect(foreign.seen).toEqual([undefined]);
  });

  it('keeps the token on a redirect within the allowed origin, and never brings it back after a foreign hop', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await instance.get(`/redirect/302?to=${encodeURIComponent(`${api.origin}/ok`)}`);
    expect(api.seen.every((h) => h?.startsWith('Bearer '))).toBe(true);
    api.seen.length = 0;
    const back = `${foreign.origin}/redirect/302?to=${encodeURIComponent(`${api.origin}/ok`)}`;
    await instance.get(`/redirect/307?to=${encodeURIComponent(back)}`);
    expect(foreign.seen).toEqual([undefined]);
    expect(api.seen[0]).toMatch(/^Bearer /);
    expect(api.seen[1]).toBeUndefined();
  });
});

describe('401 and errors', () => {
  it('refreshes once for 100 concurrent 401s and retries each request once', async () => {
    const own = createMaskinportenClient({ clientId: 'axios-client', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:write' });
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client: own });
    const before = sim.tokenRequestCount();
    const stale = (await own.getToken()).accessToken;
    api.revoked.add(stale);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => instance.post('/echo', { i })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(sim.tokenRequestCount() - before).toBe(2); // the first token and exactly one refresh
    expect(api.seen.filter((h) => tokenOf(h) === stale)).toHaveLength(100);
    expect(new Set(api.seen.filter((h) => tokenOf(h) !== stale)).size).toBe(1);
    await own.close();
  });

  it('does not retry a 403, nor a 401 whose body cannot be replayed', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    await expect(instance.get('/status/403')).rejects.toMatchObject({ response: { status: 403 } });
    expect(api.seen).toHaveLength(1);
    api.seen.length = 0;
    const stale = (await client.getToken()).accessToken;
    api.revoked.add(stale);
    await expect(instance.post('/echo', Readable.from(['a', 'b']))).rejects.toMatchObject({ response: { status: 401 } });
    expect(api.seen).toHaveLength(1);
    client.invalidate(stale);
  });

  it.each([
    ['an HTTP 500', (i: ReturnType<typeof axios.create>) => i.get('/status/500')],
    ['a timeout', (i: ReturnType<typeof axios.create>) => i.get('/ok', { timeout: 1, baseURL: 'http://127.0.0.1:9' })],
    ['a refused connection', (i: ReturnType<typeof axios.create>) => i.get('http://127.0.0.1:9/x', { baseURL: undefined })],
  ])('redacts the token from the AxiosError of %s', async (_name, run) => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client, origins: [api.origin, 'http://127.0.0.1:9'] });
    const token = (await client.getToken()).accessToken;
    const error = await run(instance).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AxiosError);
    const err = error as AxiosError;
    const views = [String(err), JSON.stringify(err), JSON.stringify(err.toJSON()), util.inspect(err, { depth: Infinity }), String(err.config?.headers?.Authorization)];
    for (const view of views) expect(view).not.toContain(token);
    expect(String(err.config?.headers?.Authorization)).toContain('[redacted]');
  });
});
