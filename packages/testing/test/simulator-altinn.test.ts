// The simulator's newer rules: consent tokens, certificates registered under a kid, iss_onbehalfof,
// MP-121, MP-201 and MP-250, and Altinn's token exchange. Each has a refusal and an acceptance.
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { baseClaims, postToken, signGrant } from './helpers.js';

const ORG = '991825827';
const CUSTOMER = '910753614';
const key = generateClientKey({ kid: 'key-1' });
const expiredKey = generateClientKey({ kid: 'old-key' });
const pki = createTestPki();
const cert = pki.issueEnterpriseCertificate({ orgno: ORG });
const expiredCert = pki.issueEnterpriseCertificate({ orgno: ORG, notBefore: new Date(Date.now() - 9e8), notAfter: new Date(Date.now() - 8.64e7) });
const CONSENT = { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' };
const EXPIRED_CONSENT = { id: '1b7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:organization:identifier-no:910753614', validTo: '2020-01-01T00:00:00Z' };

let sim: MaskinportenSimulator;
beforeAll(async () => {
  sim = await startMaskinportenSimulator({
    trustedCaPems: pki.trustedCaPems,
    scopeAccess: { 'api:restricted': [CUSTOMER] },
    altinnTokenLifetimeSeconds: 600,
    clients: [
      {
        clientId: 'c', orgno: ORG, scopes: ['test:a', 'test:user-only', 'api:restricted'],
        jwks: [key.publicJwk, { ...expiredKey.publicJwk, exp: Math.floor(Date.now() / 1000) - 60 }],
        consents: [{ ...CONSENT, rights: [{ action: ['read'], resource: [{ type: 'urn:altinn:resource', value: 'loan' }] }] }, EXPIRED_CONSENT],
        registeredCertificates: [{ kid: 'cert-kid', certificatePem: cert.certificatePem }, { kid: 'expired-cert', certificatePem: expiredCert.certificatePem }],
        onBehalfOf: ['legacy-1'],
        scopesNotForIntegrationType: ['test:user-only'],
      },
    ],
  });
});
afterAll(() => sim.close());

const grant = (claims: Record<string, unknown> = {}, kid = 'key-1', pem = key.privateKeyPem) =>
  signGrant({ alg: 'RS256', kid }, { ...baseClaims(sim.issuer, 'c', 'test:a'), ...claims }, pem);
const consentDetails = (c: { id: string; from: string }, extra: Record<string, unknown> = {}) => [{ type: 'urn:altinn:consent', id: c.id, from: c.from, ...extra }];

describe('token requests', () => {
  it.each([
    ['an unknown consent', () => grant({ authorization_details: consentDetails({ id: '2c7d59f8-8c62-4312-9fb4-62456664c96f', from: CONSENT.from }) }), 400, 'invalid_authorization_details', 'MP-303'],
    ['an expired consent', () => grant({ authorization_details: consentDetails(EXPIRED_CONSENT) }), 400, 'invalid_authorization_details', 'MP-303'],
    ['a consent with an extra field', () => grant({ authorization_details: consentDetails(CONSENT, { to: 'x' }) }), 400, 'invalid_authorization_details', 'MP-302'],
    ['a consent id that is not a UUID', () => grant({ authorization_details: consentDetails({ id: 'abc', from: CONSENT.from }) }), 400, 'invalid_authorization_details', 'MP-303'],
    ['an expired registered key', () => grant({}, 'old-key', expiredKey.privateKeyPem), 400, 'invalid_grant', 'MP-121'],
    ['an expired registered certificate', () => grant({}, 'expired-cert', expiredCert.privateKeyPem), 400, 'invalid_grant', 'MP-124'],
    ['a registered certificate signed by another key', () => grant({}, 'cert-kid', key.privateKeyPem), 400, 'invalid_grant', 'MP-124'],
    ['an iss_onbehalfof not registered', () => grant({ iss_onbehalfof: 'other' }), 400, 'invalid_grant', undefined],
    ['a scope not for this integration type', () => grant({ scope: 'test:user-only' }), 400, 'invalid_scope', 'MP-201'],
    ['a scope the consumer was not granted', () => grant({ scope: 'api:restricted' }), 403, 'access_denied', 'MP-250'],
  ])('refuses %s', async (_name, make, status, error, code) => {
    const res = await postToken(sim.tokenEndpoint, make());
    expect(res.status).toBe(status);
    expect(res.json.error).toBe(error);
    if (code) expect(res.json.error_description).toContain(code);
    else expect(res.json.error_description).not.toMatch(/MP-\d/);
  });

  it('issues a consent token with to, consented, validTo and the consent rights', async () => {
    const res = await postToken(sim.tokenEndpoint, grant({ authorization_details: consentDetails(CONSENT) }));
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.json.access_token as string);
    expect(claims.authorization_details).toEqual([{
      type: 'urn:altinn:consent', id: CONSENT.id, from: CONSENT.from, to: { authority: 'iso6523-actorid-upis', ID: `0192:${ORG}` },
      consented: expect.any(String), validTo: expect.any(String), consentRights: [{ action: ['read'], resource: [{ type: 'urn:altinn:resource', value: 'loan' }] }],
    }]);
  });

  it('accepts a grant signed by a certificate registered under a kid', async () => {
    const res = await postToken(sim.tokenEndpoint, grant({}, 'cert-kid', cert.privateKeyPem));
    expect(res.status).toBe(200);
    expect(decodeJwt(res.json.access_token as string).client_amr).toBe('virksomhetssertifikat');
  });

  it('accepts a registered iss_onbehalfof, a granted restricted scope, and MP-011 is invalid_request', async () => {
    expect((await postToken(sim.tokenEndpoint, grant({ iss_onbehalfof: 'legacy-1' }))).status).toBe(200);
    const bad = await postToken(sim.tokenEndpoint, 'not.a.jws!');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('invalid_request');
    expect(bad.json.error_description).toContain('MP-011');
  });
});

describe("Altinn's token exchange", () => {
  const exchange = (bearer: string | undefined) => fetch(sim.altinnExchangeUrl, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });

  it('exchanges a valid token for an Altinn-shaped JWT signed by its own published key', async () => {
    const token = (await postToken(sim.tokenEndpoint, grant())).json.access_token as string;
    const before = sim.altinnExchangeCount();
    const res = await exchange(token);
    expect(res.status).toBe(200);
    const altinn = await res.text();
    const jwks = (await (await fetch(sim.altinnJwksUri)).json()) as { keys: never[] };
    const { payload } = await jwtVerify(altinn, createLocalJWKSet(jwks), { algorithms: ['RS256'] });
    expect(payload).toMatchObject({ scope: 'test:a', 'urn:altinn:orgNumber': ORG, 'urn:altinn:authenticatemethod': 'maskinporten', client_id: 'c' });
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
    expect(sim.altinnExchangeCount()).toBe(before + 1);
    // The Maskinporten key does not verify it: it is Altinn's token, not Maskinporten's.
    const mpJwks = (await (await fetch(sim.jwksUri)).json()) as { keys: never[] };
    await expect(jwtVerify(altinn, createLocalJWKSet(mpJwks))).rejects.toThrow();
  });

  it('keeps the consent through the exchange', async () => {
    const token = (await postToken(sim.tokenEndpoint, grant({ authorization_details: consentDetails(CONSENT) }))).json.access_token as string;
    const altinn = await (await exchange(token)).text();
    expect((decodeJwt(altinn).authorization_details as { type: string }[])[0]?.type).toBe('urn:altinn:consent');
  });

  it('refuses no token, a forged one, another issuer\'s and an expired one with 401', async () => {
    const other = await startMaskinportenSimulator({ clients: [{ clientId: 'c', orgno: ORG, scopes: ['test:a'], jwks: [key.publicJwk] }] });
    const foreign = (await postToken(other.tokenEndpoint, signGrant({ alg: 'RS256', kid: 'key-1' }, baseClaims(other.issuer, 'c', 'test:a'), key.privateKeyPem))).json.access_token as string;
    await other.close();
    const valid = (await postToken(sim.tokenEndpoint, grant())).json.access_token as string;
    const [h, p] = valid.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(valid), scope: 'admin' })).toString('base64url')}.${valid.split('.')[2]}`;
    for (const bearer of [undefined, 'x', forged, foreign, `${h}.${p}.AAAA`]) expect((await exchange(bearer)).status).toBe(401);
    sim.setClockOffset(3_600_000);
    try {
      expect((await exchange(valid)).status).toBe(401);
    } finally {
      sim.setClockOffset(0);
    }
  });
});
