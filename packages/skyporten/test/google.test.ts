// The Google entry with google-auth-library's own identity-pool client, pointed at the STS and
// IAM Credentials stand-ins, with the simulator as Skyporten.
import { inspect } from 'node:util';
import { IdentityPoolClient } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { startGoogleStsStandIn } from '@portvakt/testing';
import type { GoogleStsStandIn, MaskinportenSimulator } from '@portvakt/testing';
import { createSkyportenGoogleClient, SkyportenExchangeError, skyportenSubjectTokenSupplier } from '../src/google/index.js';
import type { SkyportenGoogleOptions } from '../src/google/index.js';
import { AUDIENCE, JWT, ORGNO, OTHER_SCOPE, SCOPE, skyportenClient, startSkyporten } from './clouds.js';

const PROVIDER = '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/skyporten/providers/maskinporten';
const EMAIL = 'reader@skyporten-demo.iam.gserviceaccount.com';
let sky: MaskinportenSimulator;
let google: GoogleStsStandIn;
const clients: MaskinportenClient[] = [];

beforeAll(async () => {
  sky = await startSkyporten();
  google = await startGoogleStsStandIn({ providers: [{ name: PROVIDER, issuer: sky.issuer, allowedAudiences: [AUDIENCE] }], serviceAccounts: [{ email: EMAIL, members: [{ consumer: `0192:${ORGNO}`, scope: SCOPE }] }] });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await google.close();
  await sky.close();
});
afterEach(() => {
  vi.useRealTimers();
  sky.reset();
});

function create(extra: Partial<SkyportenGoogleOptions> = {}) {
  const client = skyportenClient(sky);
  clients.push(client);
  return createSkyportenGoogleClient({ client, scope: SCOPE, audience: AUDIENCE, workloadProvider: PROVIDER, serviceAccount: EMAIL, tokenUrl: google.tokenUrl, impersonationUrl: google.impersonationUrl(EMAIL), ...extra });
}

describe('createSkyportenGoogleClient()', () => {
  it('gives an identity-pool client that exchanges a Skyporten token, impersonates the service account and calls a resource', async () => {
    const auth = await create();
    expect(auth).toBeInstanceOf(IdentityPoolClient);
    const response = await auth.request<{ serviceAccount: string }>({ url: google.resourceUrl });
    expect(response.data.serviceAccount).toBe(EMAIL);
    expect(google.impersonationCount()).toBeGreaterThan(0);
  });

  it('gets a fresh Skyporten token at the next refresh (the library keeps no subject token)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = await create();
    const start = Date.now();
    const first = await auth.getAccessToken();
    const exchanges = google.exchangeCount();
    vi.setSystemTime(start + 61 * 60_000);
    const second = await auth.getAccessToken();
    expect(second.token).not.toBe(first.token);
    expect(google.exchangeCount()).toBe(exchanges + 1);
    const [a, b] = google.exchangedTokenIds.slice(-2);
    expect(b).not.toBe(a);
    expect(sky.tokenRequestCount()).toBe(2);
  });

  it('lets 500 concurrent callers share one token request and one exchange', async () => {
    const auth = await create();
    const exchanges = google.exchangeCount();
    const impersonations = google.impersonationCount();
    const tokens = await Promise.all(Array.from({ length: 500 }, () => auth.getAccessToken()));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(sky.tokenRequestCount()).toBe(1);
    expect(google.exchangeCount() - exchanges).toBe(1);
    expect(google.impersonationCount() - impersonations).toBe(1);
  });

  it('turns a wrong audience into STS\'s invalid_grant as a typed error naming the allowed audiences', async () => {
    const auth = await create({ audience: 'https://wrong.example.no' });
    const error = await auth.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SkyportenExchangeError);
    expect(error).toMatchObject({ cloud: 'google', cloudCode: 'invalid_grant', problem: 'audience', status: 400 });
    expect((error as SkyportenExchangeError).fix).toMatch(/aud is "https:\/\/wrong\.example\.no".*allowed audiences/);
    for (const text of [(error as Error).message, JSON.stringify(error), inspect(error, { depth: 5 })]) expect(text).not.toMatch(JWT);
  });

  it('turns a subject the service account does not trust into PERMISSION_DENIED, naming the principal', async () => {
    const auth = await create({ scope: OTHER_SCOPE });
    const error = await auth.request({ url: google.resourceUrl }).catch((e: unknown) => e);
    expect(error).toMatchObject({ cloud: 'google', cloudCode: 'PERMISSION_DENIED', problem: 'subject', status: 403 });
    expect((error as SkyportenExchangeError).fix).toContain(`"client::0192:${ORGNO}::${OTHER_SCOPE}"`);
  });

  it('replaces a token STS saw expired once, then names the clock', async () => {
    const late = await startGoogleStsStandIn({ now: () => Date.now() + 600_000, providers: [{ name: PROVIDER, issuer: sky.issuer, allowedAudiences: [AUDIENCE] }], serviceAccounts: [{ email: EMAIL, members: [{ consumer: `0192:${ORGNO}` }] }] });
    try {
      const error = await (await create({ tokenUrl: late.tokenUrl, impersonationUrl: late.impersonationUrl(EMAIL) })).getAccessToken().catch((e: unknown) => e);
      expect(error).toMatchObject({ cloud: 'google', cloudCode: 'invalid_grant', problem: 'expired' });
      expect(late.exchangeCount()).toBe(2);
      expect(sky.tokenRequestCount()).toBe(2);
      expect(late.exchangedTokenIds[1]).not.toBe(late.exchangedTokenIds[0]);
    } finally {
      await late.close();
    }
  });

  it('takes the credentials.json a provider hands out, with Skyporten in place of its token file', async () => {
    const client = skyportenClient(sky);
    clients.push(client);
    const credentials = {
      type: 'external_account',
      audience: PROVIDER,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: google.tokenUrl,
      credential_source: { file: 'token.json', format: { type: 'json', subject_token_field_name: 'access_token' } },
      service_account_impersonation_url: google.impersonationUrl(EMAIL),
    };
    const auth = await createSkyportenGoogleClient({ client, scope: SCOPE, audience: AUDIENCE, credentials });
    expect((await auth.request<{ serviceAccount: string }>({ url: google.resourceUrl })).data.serviceAccount).toBe(EMAIL);
    await expect(createSkyportenGoogleClient({ client, scope: SCOPE, audience: AUDIENCE, credentials, workloadProvider: PROVIDER })).rejects.toThrow(/"credentials".*not both/);
    await expect(createSkyportenGoogleClient({ client, scope: SCOPE, audience: AUDIENCE, credentials: { ...credentials, type: 'service_account' } })).rejects.toThrow(/"credentials.type"/);
  });

  it('refuses a provider name that is not a full workload identity provider name, before any call', async () => {
    await expect(create({ workloadProvider: 'projects/1/locations/global/workloadIdentityPools/p/providers/q' })).rejects.toThrow(/"workloadProvider"/);
    expect(sky.tokenRequestCount()).toBe(0);
  });
});

describe('skyportenSubjectTokenSupplier()', () => {
  it('works in an IdentityPoolClient built by hand', async () => {
    const client = skyportenClient(sky);
    clients.push(client);
    const auth = new IdentityPoolClient({
      audience: PROVIDER,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: google.tokenUrl,
      service_account_impersonation_url: google.impersonationUrl(EMAIL),
      subject_token_supplier: skyportenSubjectTokenSupplier({ client, scope: SCOPE, audience: AUDIENCE }),
    });
    const response = await auth.request<{ serviceAccount: string }>({ url: google.resourceUrl });
    expect(response.data.serviceAccount).toBe(EMAIL);
  });
});
