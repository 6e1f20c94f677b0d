// Claims in the objects a caller hands to Axios, changed afterwards as callers do (one config
// object reused for the next customer): the request keeps the customer it was sent for, through
// its 401 retry, and the instance keeps the claims it was installed with.
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient, TokenRequest } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';
import { generateClientKey, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';

const A = '910753614';
const B = '974760673';
const key = generateClientKey({ kid: 'axios-objects' });
let sim: MaskinportenSimulator;
let api: RecordingApi;
let client: MaskinportenClient;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'ax', orgno: '991825827', scopes: ['api:read'], jwks: [key.publicJwk], systemUsers: [{ orgno: A }, { orgno: B }] }] });
  api = await startRecordingApi();
  client = createMaskinportenClient({ clientId: 'ax', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read' });
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close()]);
});

const customerOf = (header: string | undefined): string | undefined => {
  const payload = JSON.parse(Buffer.from((header ?? '').split(' ')[1]!.split('.')[1] as string, 'base64url').toString()) as { authorization_details?: { systemuser_org?: { ID?: string } }[] };
  return payload.authorization_details?.[0]?.systemuser_org?.ID;
};

describe('withMaskinporten and objects the caller changes afterwards', () => {
  it('a per-request maskinporten config changed while the request is under way: the 401 retry asks for the same customer', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client });
    // The token A's request will get first is refused by the API, so the request is retried.
    api.revoked.add((await client.getToken({ systemUser: { orgno: A } })).accessToken);
    const before = api.seen.length;
    const config = { maskinporten: { systemUser: { orgno: A } } };
    // A user interceptor that runs later still sees the caller's object in some set-ups; change
    // the caller's object and the config Axios holds, both after the request started.
    instance.interceptors.request.use((c) => {
      setTimeout(() => ((c as { maskinporten?: TokenRequest }).maskinporten!.systemUser as { orgno: string }).orgno = B, 0);
      return c;
    });
    const pending = instance.get('/ok', config);
    config.maskinporten.systemUser.orgno = B;
    const response = await pending;
    expect(response.status).toBe(200);
    const sent = api.seen.slice(before).map((s) => customerOf(s.authorization));
    expect(sent).toEqual([`0192:${A}`, `0192:${A}`]);
  });

  it('the options given to withMaskinporten, changed after install (request.systemUser, a frozen scope array), change nothing', async () => {
    const instance = axios.create({ baseURL: api.origin });
    const options = { client, scope: Object.freeze(['api:read']), request: { systemUser: { orgno: A } } as TokenRequest };
    withMaskinporten(instance, options);
    (options.request.systemUser as { orgno: string }).orgno = B;
    options.request = { systemUser: { orgno: B } };
    const before = api.seen.length;
    await instance.get('/ok');
    expect(customerOf(api.seen[before]?.authorization)).toBe(`0192:${A}`);
  });
});
