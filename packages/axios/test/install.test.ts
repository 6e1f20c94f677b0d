import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import type { WithMaskinportenOptions } from '@portvakt/axios';
import { createClient, startSimulator } from './fixture.js';
import { startRecordingApi } from '@portvakt/testing';
import type { RecordingApi } from '@portvakt/testing';

let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let api: RecordingApi;

beforeAll(async () => {
  sim = await startSimulator();
  client = createClient(sim);
  api = await startRecordingApi();
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close()]);
});

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).field;
  }
  return undefined;
}

describe('withMaskinporten() installation', () => {
  it('refuses the global default instance, however it is reached', () => {
    expect(() => withMaskinporten(axios, { client })).toThrow(/global default/);
    // An instance sharing the default's defaults object is the default instance in disguise.
    const disguised = Object.assign(Object.create(axios) as typeof axios, { defaults: axios.defaults });
    expect(fieldOf(() => withMaskinporten(disguised, { client }))).toBe('instance');
    // A second copy of axios: its default export points `default` at itself.
    const copy = axios.create({ baseURL: api.origin }) as typeof axios & { default?: unknown };
    copy.default = copy;
    expect(fieldOf(() => withMaskinporten(copy, { client }))).toBe('instance');
    expect(fieldOf(() => withMaskinporten({} as never, { client }))).toBe('instance');
  });

  it('names the option at fault', () => {
    const instance = () => axios.create({ baseURL: api.origin });
    const cases: [Partial<WithMaskinportenOptions> | Record<string, unknown>, string][] = [
      [{ client: {} as never }, 'client'],
      [{ client: { getToken: () => undefined } as never }, 'client'],
      [{ client, scope: '' }, 'scope'],
      [{ client, scope: [1] as never }, 'scope'],
      [{ client, request: 'api:read' as never }, 'request'],
      [{ client, request: { consumerOrg: '123' } }, 'request.consumerOrg'],
      [{ client, request: { systemUser: { orgno: '999999998' } } }, 'request.systemUser.orgno'],
      [{ client, origins: 'https://api.example.no' as never }, 'origins'],
      [{ client, origins: ['http://api.example.no'] }, 'origins[0]'],
      [{ client, origins: ['https://api.example.no/v1'] }, 'origins[0]'],
      [{ client, overwriteAuthorization: 'yes' as never }, 'overwriteAuthorization'],
      [{ client, retryOnUnauthorized: 0 as never }, 'retryOnUnauthorized'],
      [{ client, origin: ['https://api.example.no'] }, 'origin'],
    ];
    for (const [options, field] of cases) {
      expect(fieldOf(() => withMaskinporten(instance(), options as WithMaskinportenOptions))).toBe(field);
    }
    expect(fieldOf(() => withMaskinporten(instance(), null as never))).toBe('options');
  });

  it('needs an origin: an absolute https baseURL (http only on loopback) or origins', () => {
    expect(fieldOf(() => withMaskinporten(axios.create(), { client }))).toBe('origins');
    expect(fieldOf(() => withMaskinporten(axios.create({ baseURL: '/api' }), { client }))).toBe('origins');
    expect(fieldOf(() => withMaskinporten(axios.create({ baseURL: 'ftp://files.example.no' }), { client }))).toBe('origins');
    expect(fieldOf(() => withMaskinporten(axios.create({ baseURL: 'http://api.example.no' }), { client }))).toBe('baseURL');
    // The message shows the origin only, never credentials from the baseURL.
    let message = '';
    try {
      withMaskinporten(axios.create({ baseURL: 'http://user:hunter2@api.example.no/v1' }), { client });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('"http://api.example.no"');
    expect(message).not.toContain('hunter2');
    expect(withMaskinporten(axios.create(), { client, origins: [api.origin] }).origins).toEqual([api.origin]);
    expect(withMaskinporten(axios.create({ baseURL: 'https://API.Example.no:443/v1/' }), { client }).origins).toEqual(['https://api.example.no']);
  });

  it('refuses a second install on one instance, and allows one after eject()', () => {
    const instance = axios.create({ baseURL: api.origin });
    const first = withMaskinporten(instance, { client });
    expect(fieldOf(() => withMaskinporten(instance, { client }))).toBe('instance');
    first.eject();
    first.eject();
    expect(() => withMaskinporten(instance, { client }).eject()).not.toThrow();
  });

  it('eject() stops the tokens', async () => {
    const instance = axios.create({ baseURL: api.origin });
    const installed = withMaskinporten(instance, { client });
    await instance.get('/ok');
    installed.eject();
    await instance.get('/ok');
    expect(api.authorizations[0]).toMatch(/^Bearer ey/);
    expect(api.authorizations[1]).toBeUndefined();
  });
});

describe('misspelt options', () => {
  it('are refused with the option they most likely meant', () => {
    expect(() => withMaskinporten(axios.create({ baseURL: api.origin }), { client, scopes: 'api:read' } as never)).toThrow(
      expect.objectContaining({ field: 'scopes', message: expect.stringContaining('is not an option of withMaskinporten(): did you mean "scope"?') }),
    );
    expect(() => withMaskinporten(axios.create({ baseURL: api.origin }), { client, retry_on_unauthorized: false } as never)).toThrow(expect.objectContaining({ message: expect.stringContaining('did you mean "retryOnUnauthorized"?') }));
  });
});
