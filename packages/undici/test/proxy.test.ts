// The proxy set-ups docs/undici.md gives, run as written against a recording proxy: the token
// endpoint, the key set and the API calls all through undici's EnvHttpProxyAgent.
import { EnvHttpProxyAgent, fetch as undiciFetch, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import type { Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { createMaskinportenVerifier } from '@portvakt/verify';
import { startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { fetchThrough, maskinporten } from '@portvakt/undici';
import { CLIENT_KEY, createClient, startSimulator } from './fixture.js';
import { startProxy } from './proxy-server.js';
import type { RecordingProxy } from './proxy-server.js';

let sim: MaskinportenSimulator;
let api: RecordingApi;
let proxy: RecordingProxy;
const closing: { close(): Promise<unknown> }[] = [];
const hostOf = (origin: string) => new URL(origin).host;
const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
const saved = new Map<string, string | undefined>();

beforeAll(async () => {
  sim = await startSimulator();
  [api, proxy] = await Promise.all([startRecordingApi(), startProxy()]);
});
afterAll(async () => {
  await Promise.all([sim.close(), api.close(), proxy.close()]);
});
beforeEach(() => {
  proxy.seen.length = 0;
  api.seen.length = 0;
  for (const name of PROXY_VARIABLES) saved.set(name, process.env[name]);
});
afterEach(async () => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await Promise.all(closing.splice(0).map((c) => c.close()));
});

/** The variables NAIS' `webproxy: true` sets, pointing at the recording proxy. */
function setProxyVariables(noProxy: string): void {
  process.env.HTTP_PROXY = proxy.url;
  process.env.HTTPS_PROXY = proxy.url;
  process.env.NO_PROXY = noProxy;
}

describe('behind an HTTP proxy', () => {
  it('setGlobalDispatcher(new EnvHttpProxyAgent()): token endpoint, key set and API calls all go through the proxy', async () => {
    setProxyVariables('');
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(new EnvHttpProxyAgent());
    let client: MaskinportenClient | undefined;
    try {
      client = createClient(sim);
      const token = await client.getToken(); // Portvakt's own calls use the global fetch
      const verifier = createMaskinportenVerifier({ environment: { issuer: sim.issuer, jwksUri: sim.jwksUri } });
      const claims = await verifier.verify(token.accessToken);
      expect(claims.scopes).toEqual(['api:read']);
      // The API, with a token, through the same proxy: the interceptor on an EnvHttpProxyAgent of its own.
      const dispatcher: Dispatcher = new EnvHttpProxyAgent().compose(maskinporten({ client, origins: [api.origin] }));
      closing.push(dispatcher);
      const response = await undiciFetch(`${api.origin}/ok`, { dispatcher });
      expect(response.status).toBe(200);
      expect(api.authorizations).toEqual([`Bearer ${token.accessToken}`]);
    } finally {
      setGlobalDispatcher(previous);
      await client?.close();
    }
    const targets = proxy.seen.map((line) => line.split(' ')[1]);
    expect(targets).toContain(hostOf(sim.url)); // token endpoint and key set, over CONNECT
    expect(targets).toContain(hostOf(api.origin));
    expect(proxy.seen.every((line) => line.startsWith('CONNECT '))).toBe(true);
  });

  it('refuses what is not a dispatcher', () => {
    expect(() => fetchThrough({} as Dispatcher)).toThrow(/Invalid option "dispatcher"/);
  });

  it('transport.fetch with a proxy dispatcher: only Portvakt\'s calls to Maskinporten go through it', async () => {
    const viaProxy = new EnvHttpProxyAgent({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: '' });
    closing.push(viaProxy);
    const client = createMaskinportenClient({
      clientId: 'undici-client',
      environment: sim.environment(),
      key: { jwk: CLIENT_KEY.privateJwk },
      scope: 'api:read',
      transport: { fetch: fetchThrough(viaProxy) },
    });
    closing.push(client);
    await client.getToken();
    await fetch(`${api.origin}/ok`); // the global dispatcher: not through the proxy
    expect(proxy.seen).toEqual([`CONNECT ${hostOf(sim.url)}`]);
  });

  it('NO_PROXY keeps listed hosts off the proxy, as NAIS lists the cluster\'s own', async () => {
    setProxyVariables(`${hostOf(sim.url)},.svc.cluster.local`);
    const viaEnv = new EnvHttpProxyAgent();
    closing.push(viaEnv);
    const client = createMaskinportenClient({
      clientId: 'undici-client',
      environment: sim.environment(),
      key: { jwk: CLIENT_KEY.privateJwk },
      scope: 'api:read',
      transport: { fetch: fetchThrough(viaEnv) },
    });
    closing.push(client);
    const apiFetch = fetchThrough(viaEnv.compose(maskinporten({ client, origins: [api.origin] })));
    await (await apiFetch(`${api.origin}/ok`)).text();
    expect(proxy.seen).toEqual([`CONNECT ${hostOf(api.origin)}`]);
    expect(api.seen).toHaveLength(1);
  });
});
