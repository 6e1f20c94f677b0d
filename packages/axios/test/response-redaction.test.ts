// Successful responses: the token is replaced in every place the request's Authorization value is
// copied to (the config, Node's header block and header map, follow-redirects' options), both on
// the identity-compare road the adapter normally takes and on the full scan it falls back to when
// a place does not hold the value where expected.
import http from 'node:http';
import util from 'node:util';
import axios from 'axios';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { startRecordingApi } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';
import { createClient, startSimulator, tokenOf } from './fixture.js';

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
beforeEach(() => {
  api.seen.length = 0;
  api.revoked.clear();
});

function install(): AxiosInstance {
  const instance = axios.create({ baseURL: api.origin });
  withMaskinporten(instance, { client });
  return instance;
}

type NodeRequest = http.ClientRequest & { _header?: string; _redirectable?: { _options: { headers: Record<string, unknown> } } };

/** No view of the response shows a token, and every known copy of the header reads the marker. */
function expectResponseRedacted(response: AxiosResponse, tokens: readonly string[]): void {
  const views = [util.inspect(response, { depth: Infinity }), util.inspect(response, { depth: Infinity, showHidden: true }), JSON.stringify(response.config)];
  for (const token of tokens) {
    expect(token.length).toBeGreaterThan(20);
    for (const view of views) expect(view.includes(token)).toBe(false);
  }
  expect(response.config.headers.get('Authorization')).toBe('[redacted]');
  const request = response.request as NodeRequest;
  if (request instanceof http.ClientRequest) {
    expect(request.getHeader('authorization')).toBe('[redacted]');
    expect(request._header).toMatch(/\r\nauthorization: \[redacted\]\r\n/i);
    if (request._redirectable !== undefined) {
      const [name] = Object.keys(request._redirectable._options.headers).filter((n) => n.toLowerCase() === 'authorization');
      expect(request._redirectable._options.headers[name as string]).toBe('[redacted]');
    }
  }
}

describe('a successful response carries no token', () => {
  it('a plain GET: config, header block, header map and follow-redirects options read [redacted]', async () => {
    const response = await install().get('/ok');
    const token = tokenOf(api.seen[0]?.authorization);
    expect(token).toBeDefined();
    expectResponseRedacted(response, [token as string]);
  });

  it('after a redirect within the allowed origin (the last hop is the response\'s request)', async () => {
    const response = await install().get(`/redirect/302?to=${encodeURIComponent(`${api.origin}/ok`)}`);
    expect(api.seen.map((s) => s.path)).toEqual([expect.stringMatching(/^\/redirect/), '/ok']);
    const token = tokenOf(api.seen[1]?.authorization);
    expect(token).toBe(tokenOf(api.seen[0]?.authorization));
    expectResponseRedacted(response, [token as string]);
  });

  it('after a 401 answered with a new token: neither token', async () => {
    const old = (await client.getToken()).accessToken;
    api.revoked.add(old);
    const response = await install().get('/ok');
    const fresh = tokenOf(api.seen[1]?.authorization);
    expect(response.status).toBe(200);
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(old);
    expectResponseRedacted(response, [old, fresh as string]);
  });

  it('with the fetch adapter: the Request\'s headers too', async () => {
    const response = await install().get('/ok', { adapter: 'fetch' });
    const token = tokenOf(api.seen[0]?.authorization);
    expect((response.request as Request).headers.get('authorization')).toBe('[redacted]');
    expectResponseRedacted(response, [token as string]);
  });

  it('a config that carries the marker under a lower-case name (sent again): the full scan', async () => {
    const response = await install().get('/ok', { headers: { authorization: '[redacted]' } });
    const token = tokenOf(api.seen[0]?.authorization);
    expect(token).toBeDefined();
    expect(Object.keys(response.config.headers.toJSON()).filter((n) => n.toLowerCase() === 'authorization')).toEqual(['authorization']);
    expectResponseRedacted(response, [token as string]);
  });

  it('a response after a redirect that dropped the token: nothing to redact, nothing shown', async () => {
    const other = await startRecordingApi();
    try {
      const instance = axios.create({ baseURL: api.origin });
      withMaskinporten(instance, { client });
      const response = await instance.get(`/redirect/302?to=${encodeURIComponent(`${other.origin}/ok`)}`);
      expect(other.seen[0]?.authorization).toBeUndefined();
      const token = tokenOf(api.seen[0]?.authorization) as string;
      expect(util.inspect(response, { depth: Infinity, showHidden: true }).includes(token)).toBe(false);
      expect(response.config.headers.get('Authorization')).toBe('[redacted]');
    } finally {
      await other.close();
    }
  });
});
