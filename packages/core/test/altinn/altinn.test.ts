// The Altinn token source against the simulator's exchange: the same cache behaviour as the
// client (herd, refresh-ahead, outage), one new exchange after a 401, and typed errors.
import { afterEach, describe, expect, it } from 'vitest';
import { AltinnExchangeError, ClientClosedError, ConfigurationError, EndpointUnavailableError, createAltinnTokenSource, createAuthorizedFetch, createMaskinportenClient } from '@portvakt/core';
import type { AltinnTokenSource, MaskinportenClient } from '@portvakt/core';
import { createTestPki, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { CUSTOMER, ORG, key, manualClock } from '../client/harness.js';

const EXCHANGE = '/authentication/api/v1/exchange/maskinporten' as const;
let sim: MaskinportenSimulator | undefined;
let maskinporten: MaskinportenClient | undefined;
let altinn: AltinnTokenSource | undefined;
let api: RecordingApi | undefined;
afterEach(async () => {
  await altinn?.close();
  await maskinporten?.close();
  await sim?.close();
  await api?.close();
  sim = undefined;
  maskinporten = undefined;
  altinn = undefined;
  api = undefined;
});

async function setUp(options: { altinnLifetime?: number; clock?: { now(): number } } = {}) {
  sim = await startMaskinportenSimulator({
    clients: [{ clientId: 'client-1', orgno: ORG, scopes: ['altinn:read'], jwks: [key.publicJwk], systemUsers: [{ orgno: CUSTOMER }], consents: [{ id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' }] }],
    altinnTokenLifetimeSeconds: options.altinnLifetime ?? 600,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  maskinporten = createMaskinportenClient({ clientId: 'client-1', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'altinn:read', transport: { backoffBase: 1, backoffMax: 5 }, ...(options.clock ? { clock: options.clock } : {}) });
  altinn = createAltinnTokenSource({ maskinporten, environment: { exchangeUrl: sim.altinnExchangeUrl }, maxAttempts: 2, ...(options.clock ? { clock: options.clock, cache: { jitter: 0 } } : {}) });
  return { sim, maskinporten, altinn };
}

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

describe('createAltinnTokenSource', () => {
  it('1,000 concurrent callers: 1 Maskinporten token and 1 exchange; the Altinn token\'s own lifetime is used', async () => {
    const { sim: s, altinn: a } = await setUp({ altinnLifetime: 900 });
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => a.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(s.tokenRequestCount()).toBe(1);
    expect(s.altinnExchangeCount()).toBe(1);
    const token = tokens[0]!;
    expect(payloadOf(token.accessToken)['urn:altinn:authenticatemethod']).toBe('maskinporten');
    expect(Math.round((token.expiresAt.getTime() - Date.now()) / 1000)).toBeGreaterThan(890);
    expect(token.authorization.startsWith('Bearer ')).toBe(true);
    expect(String(token)).not.toContain(token.accessToken);
  });

  it('keeps system-user and consent tokens apart, each exchanged once', async () => {
    const { sim: s, altinn: a } = await setUp();
    const plain = await a.getToken();
    const su = await a.getToken({ systemUser: { orgno: CUSTOMER } });
    const consent = await a.getToken({ consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' } });
    await Promise.all([a.getToken(), a.getToken({ systemUser: { orgno: CUSTOMER } })]);
    expect(new Set([plain.accessToken, su.accessToken, consent.accessToken]).size).toBe(3);
    expect(s.altinnExchangeCount()).toBe(3);
    expect((payloadOf(su.accessToken).authorization_details as { type: string }[])[0]?.type).toBe('urn:altinn:systemuser');
    expect((payloadOf(consent.accessToken).authorization_details as { type: string }[])[0]?.type).toBe('urn:altinn:consent');
  });

  it('refreshes ahead in the background and serves the valid token meanwhile', async () => {
    const clock = manualClock();
    const { sim: s, altinn: a } = await setUp({ altinnLifetime: 100, clock });
    const first = await a.getToken();
    clock.advance(60_000); // past half the lifetime, outside the margin
    expect((await a.getToken()).accessToken).toBe(first.accessToken);
    await expect.poll(() => s.altinnExchangeCount()).toBe(2);
    await expect.poll(async () => (await a.getToken()).accessToken).not.toBe(first.accessToken);
  });

  it('while the exchange is down, serves the valid token until its safety margin, then fails with a typed error', async () => {
    const clock = manualClock();
    const { sim: s, altinn: a } = await setUp({ altinnLifetime: 100, clock });
    const first = await a.getToken();
    s.inject({ kind: 'status', status: 503 }, { times: Infinity, path: EXCHANGE });
    for (let t = 0; t < 8; t++) {
      clock.advance(10_000); // up to 80 s: still outside the 10 s margin
      expect((await a.getToken()).accessToken).toBe(first.accessToken);
    }
    clock.advance(12_000); // 92 s: inside the margin
    await expect(a.getToken()).rejects.toBeInstanceOf(EndpointUnavailableError);
    s.clearFaults();
    expect((await a.getToken()).accessToken).not.toBe(first.accessToken);
  });

  it('a 401 from an Altinn API: invalidate drops the Altinn token, and one new exchange follows (the Maskinporten token is reused)', async () => {
    const { sim: s, altinn: a } = await setUp();
    api = await startRecordingApi();
    const stale = await a.getToken();
    api.revoked.add(stale.accessToken);
    const altinnFetch = createAuthorizedFetch(a, { origins: [api.origin] });
    const response = await altinnFetch(`${api.origin}/ok`);
    expect(response.status).toBe(200);
    expect(api.seen).toHaveLength(2);
    expect(s.altinnExchangeCount()).toBe(2);
    expect(s.tokenRequestCount()).toBe(1);
    // A 401 for ever: each call still ends after two sends and one new exchange.
    const before = s.altinnExchangeCount();
    expect((await altinnFetch(`${api.origin}/status/401`)).status).toBe(401);
    expect(s.altinnExchangeCount() - before).toBe(1);
  });

  it('a 401 from the exchange gets one new Maskinporten token and one more try; a 403 is a typed error', async () => {
    const { sim: s, altinn: a } = await setUp();
    s.inject({ kind: 'status', status: 401 }, { path: EXCHANGE });
    await a.getToken();
    expect(s.tokenRequestCount()).toBe(2);
    expect(s.altinnExchangeCount()).toBe(2);
    const other = createAltinnTokenSource({ maskinporten: maskinporten!, environment: { exchangeUrl: s.altinnExchangeUrl } });
    try {
      s.inject({ kind: 'status', status: 403 }, { path: EXCHANGE });
      const error = await other.getToken({ scope: 'altinn:read' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AltinnExchangeError);
      expect((error as AltinnExchangeError).status).toBe(403);
      s.inject({ kind: 'status', status: 401 }, { path: EXCHANGE, times: 2 });
      await expect(other.getToken({ scope: 'altinn:read', minValidity: 1 })).rejects.toMatchObject({ code: 'ERR_PORTVAKT_ALTINN_EXCHANGE', status: 401 });
    } finally {
      await other.close();
    }
  });

  it('refuses answers that are not an Altinn JWT, and strips JSON quotes from one that is', async () => {
    const { sim: s, altinn: a } = await setUp();
    s.inject({ kind: 'malformed', body: '<html>oops</html>', status: 200 }, { path: EXCHANGE });
    await expect(a.getToken()).rejects.toMatchObject({ code: 'ERR_PORTVAKT_MALFORMED_RESPONSE' });
    const mp = await maskinporten!.getToken();
    const jwt = await (await fetch(s.altinnExchangeUrl, { headers: { authorization: mp.authorization } })).text();
    s.inject({ kind: 'malformed', body: JSON.stringify(jwt), status: 200 }, { path: EXCHANGE });
    expect((await a.getToken()).accessToken).toBe(jwt);
  });

  it('close() ends the source; later calls get ClientClosedError and the Maskinporten client stays open', async () => {
    const { altinn: a, maskinporten: m } = await setUp();
    await a.getToken();
    await a.close();
    await expect(a.getToken()).rejects.toBeInstanceOf(ClientClosedError);
    await expect(m.getToken()).resolves.toBeDefined();
  });

  it('validates its options at construction, naming the field', () => {
    const client = createMaskinportenClient({ clientId: 'c', environment: 'test', key: { jwk: key.privateJwk } });
    const field = (options: unknown) => {
      try {
        createAltinnTokenSource(options as never);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as ConfigurationError).field;
      }
      return undefined;
    };
    expect(field({ maskinporten: client, environment: 'production' })).toBe('environment');
    expect(field({ maskinporten: client, environment: { exchangeUrl: 'http://altinn.example.no/x' } })).toBe('environment.exchangeUrl');
    expect(field({ maskinporten: client, environment: { url: 'x' } })).toBe('environment.url');
    expect(field({ maskinporten: {}, environment: 'tt02' })).toBe('maskinporten');
    expect(field({ maskinporten: client, environment: 'tt02', cache: { maxEntrys: 1 } })).toBe('cache.maxEntrys');
    expect(field({ maskinporten: client, environment: 'tt02', maxAttempts: 0 })).toBe('maxAttempts');
    expect(field({ maskinporten: client, environment: 'tt02', exchange: 'x' })).toBe('exchange');
    expect(field(null)).toBe('options');
    const prodClient = createMaskinportenClient({ clientId: 'c', environment: 'prod', key: { jwk: key.privateJwk } });
    expect(createAltinnTokenSource({ maskinporten: prodClient, environment: 'prod' }).exchangeUrl).toBe('https://platform.altinn.no/authentication/api/v1/exchange/maskinporten');
  });

  it('refuses Altinn tt02 with a production Maskinporten client, and production with a test client, when the source is created', () => {
    const testClient = createMaskinportenClient({ clientId: 'c', environment: 'test', key: { jwk: key.privateJwk } });
    const prodClient = createMaskinportenClient({ clientId: 'c', environment: { issuer: 'https://maskinporten.no/', tokenEndpoint: 'https://maskinporten.no/token' }, key: { jwk: key.privateJwk } });
    expect(() => createAltinnTokenSource({ maskinporten: prodClient, environment: 'tt02' })).toThrow(/"environment": is 'tt02'.*client is for production/);
    expect(() => createAltinnTokenSource({ maskinporten: testClient, environment: 'prod' })).toThrow(/"environment": is 'prod'.*client is for the test environment/);
    // The pairs Altinn takes.
    expect(createAltinnTokenSource({ maskinporten: testClient, environment: 'tt02' }).exchangeUrl).toMatch(/platform\.tt02\.altinn\.no/);
    expect(createAltinnTokenSource({ maskinporten: prodClient, environment: 'prod' }).exchangeUrl).toMatch(/platform\.altinn\.no/);
  });

  it('refuses the pair before the first exchange when the client learns its issuer from metadata', async () => {
    sim = await startMaskinportenSimulator({ issuer: 'https://maskinporten.no/', clients: [{ clientId: 'client-1', orgno: ORG, scopes: ['altinn:read'], jwks: [key.publicJwk] }] });
    maskinporten = createMaskinportenClient({ clientId: 'client-1', environment: { metadataUrl: sim.metadataUrl }, key: { jwk: key.privateJwk }, scope: 'altinn:read' });
    altinn = createAltinnTokenSource({ maskinporten, environment: 'tt02', fetch: () => Promise.reject(new Error('no exchange may be sent')) });
    await expect(altinn.getToken()).rejects.toThrow(ConfigurationError);
    await expect(altinn.getToken()).rejects.toThrow(/client is for production/);
    expect(sim.altinnExchangeCount()).toBe(0);
  });
});

describe('a certificate registered under a kid, against the simulator', () => {
  it('signs with kid, and Maskinporten checks the registered certificate', async () => {
    const pki = createTestPki();
    const cert = pki.issueEnterpriseCertificate({ orgno: ORG });
    sim = await startMaskinportenSimulator({ clients: [{ clientId: 'cert-client', orgno: ORG, scopes: ['altinn:read'], registeredCertificates: [{ kid: 'my-cert', certificatePem: cert.certificatePem }] }] });
    maskinporten = createMaskinportenClient({ clientId: 'cert-client', environment: sim.environment(), key: { pkcs12: cert.toPkcs12('pw'), passphrase: 'pw', kid: 'my-cert' }, scope: 'altinn:read' });
    await maskinporten.getToken();
    expect(sim.requests[0]?.grant?.header).toEqual({ alg: 'RS256', kid: 'my-cert' });
    expect(maskinporten.certificate?.orgno).toBe(ORG);
  });
});
