// The Azure entry with @azure/identity's own ClientAssertionCredential (and MSAL behind it),
// pointed at the Entra stand-in over https, with the simulator as Skyporten.
import { inspect } from 'node:util';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { startEntraStandIn } from '@portvakt/testing';
import type { EntraStandIn, MaskinportenSimulator } from '@portvakt/testing';
import { createSkyportenAzureCredential, SkyportenExchangeError } from '../src/azure/index.js';
import type { SkyportenAzureOptions } from '../src/azure/index.js';
import { AUDIENCE, JWT, OTHER_SCOPE, SCOPE, SUBJECT, skyportenClient, startSkyporten } from './clouds.js';

const TENANT = '33333333-d105-4b01-aa7c-333333333333';
const CLIENT_ID = '44444444-cf66-4934-b34c-444444444444';
const STORAGE = 'https://storage.azure.com/.default';
let sky: MaskinportenSimulator;
let entra: EntraStandIn;
const clients: MaskinportenClient[] = [];

beforeAll(async () => {
  sky = await startSkyporten();
  entra = await startEntraStandIn({ tenantId: TENANT, identities: [{ clientId: CLIENT_ID, federatedCredentials: [{ issuer: sky.issuer, subject: SUBJECT, audiences: [AUDIENCE] }] }] });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await entra.close();
  await sky.close();
});
afterEach(() => {
  vi.useRealTimers();
  sky.reset();
});

function create(extra: Partial<SkyportenAzureOptions> = {}) {
  const client = skyportenClient(sky);
  clients.push(client);
  return createSkyportenAzureCredential({
    client, scope: SCOPE, audience: AUDIENCE, tenantId: TENANT, clientId: CLIENT_ID,
    credentialOptions: { authorityHost: entra.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: entra.ca }, retryOptions: { maxRetries: 0 } },
    ...extra,
  });
}

function getResource(token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(entra.resourceUrl, { ca: entra.ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('createSkyportenAzureCredential()', () => {
  it('signs in as the managed identity with a Skyporten token as client assertion, and the Entra token opens the resource', async () => {
    const credential = create();
    const token = await credential.getToken(STORAGE);
    expect(token.expiresOnTimestamp - Date.now()).toBeGreaterThan(3_500_000);
    expect(token.refreshAfterTimestamp).toBe(token.expiresOnTimestamp - 295_000);
    expect(await getResource(token.token)).toEqual({ status: 200, body: JSON.stringify({ clientId: CLIENT_ID }) });
  });

  it('gets a fresh Skyporten token when the Entra token is due again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const credential = create();
    const start = Date.now();
    const first = await credential.getToken(STORAGE);
    const requests = entra.tokenRequestCount();
    vi.setSystemTime(start + 56 * 60_000);
    const second = await credential.getToken(STORAGE);
    expect(second.token).not.toBe(first.token);
    expect(entra.tokenRequestCount()).toBe(requests + 1);
    const [a, b] = entra.assertionIds.slice(-2);
    expect(b).not.toBe(a);
    expect(sky.tokenRequestCount()).toBe(2);
  });

  it('lets 500 concurrent callers share one token request and one exchange', async () => {
    const credential = create();
    const requests = entra.tokenRequestCount();
    const tokens = await Promise.all(Array.from({ length: 500 }, () => credential.getToken([STORAGE])));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    // One frozen answer: no caller can change what the next one gets.
    expect(new Set(tokens).size).toBe(1);
    expect(Object.isFrozen(tokens[0])).toBe(true);
    expect(sky.tokenRequestCount()).toBe(1);
    expect(entra.tokenRequestCount() - requests).toBe(1);
    expect(credential.exchanges).toBe(1);
  });

  it('turns a wrong audience into AADSTS70021 as a typed error naming what the federated credential must match', async () => {
    const error = await create({ audience: 'https://wrong.example.no' }).getToken(STORAGE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SkyportenExchangeError);
    expect(error).toMatchObject({ cloud: 'azure', cloudCode: 'AADSTS70021', problem: 'trust' });
    expect((error as SkyportenExchangeError).fix).toContain(`issuer "${sky.issuer}" (Skyporten's has no trailing slash), subject "${SUBJECT}", audience "https://wrong.example.no"`);
    expect((error as SkyportenExchangeError).cloudMessage).toMatch(/^No matching federated identity record found/);
    for (const text of [(error as Error).message, JSON.stringify(error), inspect(error, { depth: 5 })]) expect(text).not.toMatch(JWT);
  });

  it('replaces an assertion Entra saw expired (AADSTS700024) once, then names the clock', async () => {
    const late = await startEntraStandIn({ now: () => Date.now() + 600_000, tenantId: TENANT, identities: [{ clientId: CLIENT_ID, federatedCredentials: [{ issuer: sky.issuer, subject: SUBJECT, audiences: [AUDIENCE] }] }] });
    try {
      const client = skyportenClient(sky);
      clients.push(client);
      const credential = createSkyportenAzureCredential({ client, scope: SCOPE, audience: AUDIENCE, tenantId: TENANT, clientId: CLIENT_ID, credentialOptions: { authorityHost: late.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: late.ca }, retryOptions: { maxRetries: 0 } } });
      const error = await credential.getToken(STORAGE).catch((e: unknown) => e);
      expect(error).toMatchObject({ cloud: 'azure', cloudCode: 'AADSTS700024', problem: 'expired' });
      expect(late.tokenRequestCount()).toBe(2);
      expect(sky.tokenRequestCount()).toBe(2);
      expect(late.assertionIds[1]).not.toBe(late.assertionIds[0]);
    } finally {
      await late.close();
    }
  });

  it('turns a wrong subject into AADSTS70021 naming the subject, and a wrong client id into AADSTS700016', async () => {
    const wrongSubject = await create({ scope: OTHER_SCOPE }).getToken(STORAGE).catch((e: unknown) => e);
    expect(wrongSubject).toMatchObject({ cloudCode: 'AADSTS70021', problem: 'trust' });
    expect((wrongSubject as SkyportenExchangeError).fix).toContain(`subject "0192:991825827;${OTHER_SCOPE}"`);
    const wrongClient = await create({ clientId: '55555555-0000-0000-0000-000000000000' }).getToken(STORAGE).catch((e: unknown) => e);
    expect(wrongClient).toMatchObject({ cloudCode: 'AADSTS700016', problem: 'identity' });
  });
});
