// The Altinn token source through the Axios adapter, unchanged: tokens for Altinn APIs, one new
// exchange after a 401 from an Altinn API, and system-user and consent tokens per request.
import axios from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAltinnTokenSource, createMaskinportenClient } from '@portvakt/core';
import type { AltinnTokenSource, MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { withMaskinporten } from '@portvakt/axios';

const key = generateClientKey({ kid: 'altinn-axios' });
const CUSTOMER = '910753614';
const CONSENT = { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' };
let sim: MaskinportenSimulator;
let maskinporten: MaskinportenClient;
let altinn: AltinnTokenSource;
let api: RecordingApi;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'vendor', orgno: '991825827', scopes: ['altinn:instances.read'], jwks: [key.publicJwk], systemUsers: [{ orgno: CUSTOMER }], consents: [CONSENT] }] });
  maskinporten = createMaskinportenClient({ clientId: 'vendor', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'altinn:instances.read' });
  altinn = createAltinnTokenSource({ maskinporten, environment: { exchangeUrl: sim.altinnExchangeUrl } });
  api = await startRecordingApi();
});
afterAll(async () => {
  await altinn.close();
  await maskinporten.close();
  await Promise.all([sim.close(), api.close()]);
});
beforeEach(() => {
  api.seen.length = 0;
  api.revoked.clear();
});

const claimsOf = (authorization: string | undefined) => JSON.parse(Buffer.from((authorization ?? '').split(' ')[1]!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('withMaskinporten with an Altinn token source', () => {
  it('sends Altinn tokens, not Maskinporten tokens', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client: altinn });
    await instance.get('/ok');
    expect(claimsOf(api.seen[0]?.authorization)['urn:altinn:authenticatemethod']).toBe('maskinporten');
  });

  it('a 401 from the Altinn API makes exactly one new exchange, and the call goes through', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client: altinn });
    const stale = await altinn.getToken();
    api.revoked.add(stale.accessToken);
    const exchanges = sim.altinnExchangeCount();
    const tokens = sim.tokenRequestCount();
    const response = await instance.get('/ok');
    expect(response.status).toBe(200);
    expect(sim.altinnExchangeCount() - exchanges).toBe(1);
    expect(sim.tokenRequestCount()).toBe(tokens); // the Maskinporten token is still good
    expect(api.seen).toHaveLength(2);
  });

  it('system-user and consent tokens per request go through the exchange', async () => {
    const instance = axios.create({ baseURL: api.origin });
    withMaskinporten(instance, { client: altinn });
    await instance.get('/ok', { maskinporten: { systemUser: { orgno: CUSTOMER } } });
    await instance.get('/ok', { maskinporten: { consent: CONSENT } });
    const [su, consent] = api.seen.map((s) => claimsOf(s.authorization).authorization_details as { type: string; systemuser_org?: { ID: string } }[]);
    expect(su?.[0]).toMatchObject({ type: 'urn:altinn:systemuser', systemuser_org: { ID: `0192:${CUSTOMER}` } });
    expect(consent?.[0]).toMatchObject({ type: 'urn:altinn:consent', id: CONSENT.id });
  });
});
