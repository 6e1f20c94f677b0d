// got 16 needs Node.js 22: these run in CI's Node 24 pass and are skipped on Node 20. The same
// hooks on a got 16 instance: tokens, redirects, the one retry after a 401, redaction (of Node's
// request behind a response or error too).
import type * as Got16 from 'got16';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/got';
import { createClient, expectRedacted, expectRedactedEverywhere, pathsTo, startSimulator, tokenOf } from './fixture.js';

const nodeMajor = Number(process.versions.node.split('.')[0]);

describe.skipIf(nodeMajor < 22)('got 16', () => {
  let got: typeof Got16;
  let sim: MaskinportenSimulator;
  let client: MaskinportenClient;
  let api: RecordingApi;
  let foreign: RecordingApi;
  let nav: Got16.Got;

  beforeAll(async () => {
    got = await import('got16');
    sim = await startSimulator();
    client = createClient(sim);
    [api, foreign] = await Promise.all([startRecordingApi(), startRecordingApi()]);
    const base = got.default.extend({ prefixUrl: api.origin, retry: { limit: 0 } });
    nav = withMaskinporten(base as never, { client }) as unknown as Got16.Got;
  });
  afterAll(async () => {
    await client.close();
    await Promise.all([sim.close(), api.close(), foreign.close()]);
  });
  beforeEach(() => {
    api.seen.length = 0;
    foreign.seen.length = 0;
  });

  it('the token to the prefixUrl origin, none across a redirect to another', async () => {
    const token = await client.getToken();
    await nav.get('ok');
    await nav.get(`redirect/302?to=${encodeURIComponent(`${foreign.origin}/landing`)}`);
    expect(api.authorizations).toEqual([`Bearer ${token.accessToken}`, `Bearer ${token.accessToken}`]);
    expect(foreign.authorizations).toEqual([undefined]);
  });

  it('a 401 for ever: one new token, one retry, then an HTTPError that shows no token', async () => {
    const first = await client.getToken();
    const before = sim.tokenRequestCount();
    const error = await nav.get('status/401').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(got.HTTPError);
    expect(api.seen.map((s) => tokenOf(s.authorization) === first.accessToken)).toEqual([true, false]);
    expect(sim.tokenRequestCount() - before).toBe(1);
    expectRedacted(error, String(tokenOf(api.seen[1]?.authorization)));
    expectRedactedEverywhere(error, first.accessToken);
    expectRedactedEverywhere(error, String(tokenOf(api.seen[1]?.authorization)));
  });

  it("an HTTPError and a response show no token in Node's request behind them, hidden properties included", async () => {
    const token = await client.getToken();
    const error = (await nav.get('status/500').catch((e: unknown) => e)) as Got16.HTTPError;
    expect(error).toBeInstanceOf(got.HTTPError);
    expect((error.response as unknown as { req: { _header: string } }).req._header).toContain('authorization: [redacted]\r\n');
    expectRedactedEverywhere(error, token.accessToken);
    const response = await nav.get('ok');
    expect((response as unknown as { req: { _header: string } }).req._header).toContain('authorization: [redacted]\r\n');
    expect(pathsTo(response, token.accessToken)).toEqual([]);
  });
});
