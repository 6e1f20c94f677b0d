import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestPki, createTokenFactory, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { baseClaims, postToken, signGrant } from './helpers.js';

const ORG = '991825827';
const CUSTOMER = '910753614';
const key = generateClientKey({ kid: 'key-1' });
const otherKey = generateClientKey({ kid: 'key-2' });
const pki = createTestPki();
const prodPki = createTestPki({ environment: 'prod' });
const cert = pki.issueEnterpriseCertificate({ orgno: ORG });
const seid1 = pki.issueEnterpriseCertificate({ orgno: ORG, profile: 'seid1' });
const wrongOrg = pki.issueEnterpriseCertificate({ orgno: CUSTOMER });
const expired = pki.issueEnterpriseCertificate({ orgno: ORG, notBefore: new Date(Date.now() - 9e8), notAfter: new Date(Date.now() - 8.64e7) });
const prodCert = prodPki.issueEnterpriseCertificate({ orgno: ORG });

let sim: MaskinportenSimulator;
beforeAll(async () => {
  sim = await startMaskinportenSimulator({
    trustedCaPems: pki.trustedCaPems,
    clients: [
      {
        clientId: 'key-client', orgno: ORG, scopes: ['test:a', 'test:b'], jwks: [key.publicJwk],
        delegations: [{ consumerOrg: CUSTOMER, scopes: ['test:delegated'] }],
        systemUsers: [{ orgno: CUSTOMER, systemUserId: 'su-1', systemId: 'sys-1' }, { orgno: '974761076', externalRef: 'ref-9' }],
      },
      { clientId: 'cert-client', orgno: ORG, scopes: ['test:a'], acceptCertificates: true },
    ],
  });
});
afterAll(() => sim.close());
beforeEach(() => sim.clearFaults());

const kidGrant = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signGrant({ alg: 'RS256', kid: 'key-1', ...header }, { ...baseClaims(sim.issuer, 'key-client', 'test:a'), ...claims }, key.privateKeyPem);
const certGrant = (c: { x5c: string[]; privateKeyPem: string }, claims: Record<string, unknown> = {}) =>
  signGrant({ alg: 'RS256', x5c: c.x5c }, { ...baseClaims(sim.issuer, 'cert-client', 'test:a'), ...claims }, c.privateKeyPem);

describe('metadata and JWKS', () => {
  it('serves RFC 8414 metadata with the fields Maskinporten publishes', async () => {
    const meta = (await (await fetch(sim.metadataUrl)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ issuer: sim.issuer, token_endpoint: sim.tokenEndpoint, jwks_uri: sim.jwksUri, token_endpoint_auth_methods_supported: ['private_key_jwt'] });
    expect(sim.issuer.endsWith('/')).toBe(true);
  });
});

describe('POST /token rules: each violation rejected, the valid form accepted', () => {
  type Row = [name: string, make: () => string, status: number, error: string, code: string | undefined];
  const rows: Row[] = [
    ['alg outside RS256/384/512', () => kidGrant({}, { alg: 'HS256' }), 400, 'invalid_request', 'MP-011'],
    ['both kid and x5c', () => kidGrant({}, { x5c: cert.x5c }), 400, 'invalid_request', 'MP-011'],
    ['neither kid nor x5c', () => signGrant({ alg: 'RS256' }, baseClaims(sim.issuer, 'key-client', 'test:a'), key.privateKeyPem), 400, 'invalid_request', 'MP-011'],
    ['an extra header (x5t)', () => kidGrant({}, { x5t: 'abc' }), 400, 'invalid_request', 'MP-011'],
    ['typ other than JWT', () => kidGrant({}, { typ: 'at+jwt' }), 400, 'invalid_request', 'MP-011'],
    ['typ not a string', () => kidGrant({}, { typ: 1 }), 400, 'invalid_request', 'MP-011'],
    ['kid not registered for the client', () => kidGrant({}, { kid: 'nope' }), 400, 'invalid_grant', 'MP-124'],
    ['unknown client (iss)', () => kidGrant({ iss: 'who' }), 400, 'invalid_grant', 'MP-100'],
    ['signature by another key', () => signGrant({ alg: 'RS256', kid: 'key-1' }, baseClaims(sim.issuer, 'key-client', 'test:a'), otherKey.privateKeyPem), 400, 'invalid_grant', 'MP-124'],
    ['aud without trailing slash', () => kidGrant({ aud: sim.issuer.slice(0, -1) }), 400, 'invalid_grant', 'MP-110'],
    ['aud = token endpoint', () => kidGrant({ aud: sim.tokenEndpoint }), 400, 'invalid_grant', 'MP-110'],
    ['aud as an array', () => kidGrant({ aud: [sim.issuer] }), 400, 'invalid_grant', 'MP-110'],
    ['iat 30 s in the future', () => kidGrant({ iat: Math.floor(Date.now() / 1000) + 30, exp: Math.floor(Date.now() / 1000) + 60 }), 400, 'invalid_grant', 'MP-130'],
    ['iat 30 s in the past', () => kidGrant({ iat: Math.floor(Date.now() / 1000) - 30 }), 400, 'invalid_grant', 'MP-130'],
    ['non-integer iat', () => kidGrant({ iat: Date.now() / 1000 }), 400, 'invalid_grant', 'MP-130'],
    ['exp - iat above 120', () => kidGrant({ exp: Math.floor(Date.now() / 1000) + 121 }), 400, 'invalid_grant', 'MP-130'],
    ['an undocumented claim (sub)', () => kidGrant({ sub: 'key-client' }), 400, 'invalid_grant', undefined],
    ['iss_onbehalfof with consumer_org', () => kidGrant({ iss_onbehalfof: 'x', consumer_org: CUSTOMER, scope: 'test:delegated' }), 400, 'invalid_request', undefined],
    ['iss_onbehalfof not a string', () => kidGrant({ iss_onbehalfof: 5 }), 400, 'invalid_request', undefined],
    ['scope not registered', () => kidGrant({ scope: 'test:a test:other' }), 400, 'invalid_scope', 'MP-200'],
    ['consumer_org with no delegation', () => kidGrant({ consumer_org: '974761076', scope: 'test:delegated' }), 403, 'access_denied', 'MP-251'],
    ['consumer_org equal to own org', () => kidGrant({ consumer_org: ORG }), 400, 'invalid_request', undefined],
    ['consumer_org failing mod-11', () => kidGrant({ consumer_org: '910753615', scope: 'test:delegated' }), 400, 'invalid_request', undefined],
    ['pid of 10 digits', () => kidGrant({ pid: '0101019999' }), 400, 'invalid_request', undefined],
    ['resource as an empty array', () => kidGrant({ resource: [] }), 400, 'invalid_request', undefined],
    ['resource as a string', () => kidGrant({ resource: 'https://api.example.no' }), 400, 'invalid_request', undefined],
    ['authorization_details of an unknown type', () => kidGrant({ authorization_details: [{ type: 'urn:altinn:other' }] }), 400, 'invalid_authorization_details', 'MP-301'],
    ['authorization_details with an extra field', () => kidGrant({ authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` }, extra: 1 }] }), 400, 'invalid_authorization_details', 'MP-302'],
    ['authorization_details with a bad org', () => kidGrant({ authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:123' } }] }), 400, 'invalid_authorization_details', 'MP-303'],
    ['system user not registered', () => kidGrant({ authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:974761076' } }] }), 400, 'invalid_authorization_details', 'MP-303'],
    ['x5c as a string', () => signGrant({ alg: 'RS256', x5c: cert.x5c[0] }, baseClaims(sim.issuer, 'cert-client', 'test:a'), cert.privateKeyPem), 400, 'invalid_grant', 'MP-123'],
    ['x5c from a production CA against test', () => certGrant(prodCert), 400, 'invalid_grant', 'MP-120'],
    ['x5c certificate expired', () => certGrant(expired), 400, 'invalid_grant', 'MP-124'],
    ['x5c organisation number of another org', () => certGrant(wrongOrg), 400, 'invalid_grant', 'MP-122'],
    ['x5c to a client not registered for certificates', () => signGrant({ alg: 'RS256', x5c: cert.x5c }, baseClaims(sim.issuer, 'key-client', 'test:a'), cert.privateKeyPem), 400, 'invalid_grant', 'MP-124'],
  ];

  it.each(rows)('rejects %s', async (_name, make, status, error, code) => {
    const res = await postToken(sim.tokenEndpoint, make());
    expect(res.status).toBe(status);
    expect(res.json.error).toBe(error);
    if (code) expect(res.json.error_description).toContain(code);
    expect(res.json.error_description).toMatch(/trace_id/);
  });

  it('rejects a reused jti with MP-012 and accepts its first use', async () => {
    const grant = kidGrant();
    expect((await postToken(sim.tokenEndpoint, grant)).status).toBe(200);
    const again = await postToken(sim.tokenEndpoint, grant);
    expect(again.status).toBe(400);
    expect(again.json.error_description).toContain('MP-012');
  });

  it('rejects a JSON body, a wrong grant_type and a non-JWS assertion', async () => {
    expect((await postToken(sim.tokenEndpoint, kidGrant(), { contentType: 'application/json' })).json.error).toBe('invalid_request');
    expect((await postToken(sim.tokenEndpoint, kidGrant(), { grantType: 'client_credentials' })).json.error).toBe('invalid_request');
    const bad = await postToken(sim.tokenEndpoint, 'not-a-jws');
    expect(bad.json).toMatchObject({ error: 'invalid_request' });
    expect(bad.json.error_description).toContain('MP-011');
  });

  it.each([
    ['RS256 with kid', () => kidGrant()],
    ['RS384 with kid', () => signGrant({ alg: 'RS384', kid: 'key-1' }, baseClaims(sim.issuer, 'key-client', 'test:a'), key.privateKeyPem, 'sha384')],
    ['RS512 with kid', () => signGrant({ alg: 'RS512', kid: 'key-1' }, baseClaims(sim.issuer, 'key-client', 'test:a'), key.privateKeyPem, 'sha512')],
    ['iat 8 s ahead', () => kidGrant({ iat: Math.floor(Date.now() / 1000) + 8, exp: Math.floor(Date.now() / 1000) + 60 })],
    ['exp - iat of exactly 120', () => kidGrant({ exp: Math.floor(Date.now() / 1000) + 120 })],
    ['two registered scopes', () => kidGrant({ scope: 'test:a test:b' })],
    ['a SEID 2.0 certificate chain', () => certGrant(cert)],
    ['a SEID 1.0 certificate (leaf only)', () => certGrant({ x5c: [seid1.x5c[0] as string, seid1.x5c[1] as string], privateKeyPem: seid1.privateKeyPem })],
    ['a valid pid', () => kidGrant({ pid: '01010199999' })],
    ['resource as an array', () => kidGrant({ resource: ['https://a.example.no', 'https://b.example.no'] })],
    ['typ JWT (as jsonwebtoken sends)', () => kidGrant({}, { typ: 'JWT' })],
    ['typ JWT with an x5c certificate', () => signGrant({ alg: 'RS256', typ: 'JWT', x5c: cert.x5c }, baseClaims(sim.issuer, 'cert-client', 'test:a'), cert.privateKeyPem)],
  ])('accepts %s', async (_name, make) => {
    const res = await postToken(sim.tokenEndpoint, make());
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 120 });
  });
});

describe('issued access tokens', () => {
  const jwks = () => createRemoteJWKSet(new URL(sim.jwksUri));

  it('carry the claims of docs/maskinporten-rules.md §3.3 and verify against /jwk', async () => {
    const res = await postToken(sim.tokenEndpoint, kidGrant({ resource: ['https://api.example.no'], pid: '01010199999' }));
    const { payload, protectedHeader } = await jwtVerify(res.json.access_token as string, jwks(), { issuer: sim.issuer });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ client_id: 'key-client', client_amr: 'private_key_jwt', scope: 'test:a', token_type: 'Bearer', aud: ['https://api.example.no'], pid: '01010199999', consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${ORG}` } });
    expect((payload.exp as number) - (payload.iat as number)).toBe(120);
  });

  it('marks delegation with consumer, supplier and delegation_source', async () => {
    const res = await postToken(sim.tokenEndpoint, kidGrant({ consumer_org: CUSTOMER, scope: 'test:delegated' }));
    expect(decodeJwt(res.json.access_token as string)).toMatchObject({ consumer: { ID: `0192:${CUSTOMER}` }, supplier: { ID: `0192:${ORG}` }, delegation_source: 'https://tt02.altinn.no/' });
  });

  it('issues system-user tokens with systemuser_id and system_id, consumer staying the vendor', async () => {
    const res = await postToken(sim.tokenEndpoint, kidGrant({ authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` } }] }));
    const claims = decodeJwt(res.json.access_token as string);
    expect(claims.consumer).toMatchObject({ ID: `0192:${ORG}` });
    expect(claims.authorization_details).toEqual([{ type: 'urn:altinn:systemuser', systemuser_id: ['su-1'], systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` }, system_id: 'sys-1' }]);
    const ref = await postToken(sim.tokenEndpoint, kidGrant({ authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:974761076' }, externalRef: 'ref-9' }] }));
    expect(ref.status).toBe(200);
  });

  it('reports client_amr virksomhetssertifikat for certificate grants', async () => {
    const res = await postToken(sim.tokenEndpoint, certGrant(cert));
    expect(decodeJwt(res.json.access_token as string).client_amr).toBe('virksomhetssertifikat');
  });
});

describe('clock, faults and the request log', () => {
  it('uses its own clock for iat checks and the Date header', async () => {
    sim.setClockOffset(60_000);
    try {
      const res = await postToken(sim.tokenEndpoint, kidGrant());
      expect(res.json.error_description).toContain('MP-130');
      expect(Math.abs(Date.parse(res.date ?? '') - (Date.now() + 60_000))).toBeLessThan(5_000);
      expect((await postToken(sim.tokenEndpoint, kidGrant({}, {}))).status).toBe(400);
      const shifted = kidGrant(baseClaims(sim.issuer, 'key-client', 'test:a', Date.now() + 60_000));
      expect((await postToken(sim.tokenEndpoint, shifted)).status).toBe(200);
    } finally {
      sim.setClockOffset(0);
    }
  });

  it('injects statuses with headers for the next N requests, then recovers', async () => {
    sim.inject({ kind: 'status', status: 503, headers: { 'retry-after': '2' }, body: { error: 'temporarily_unavailable' } }, { times: 2 });
    const first = await fetch(sim.tokenEndpoint, { method: 'POST' });
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('2');
    expect((await fetch(sim.tokenEndpoint, { method: 'POST' })).status).toBe(503);
    expect((await postToken(sim.tokenEndpoint, kidGrant())).status).toBe(200);
  });

  it('injects malformed bodies, redirects, drops and hangs', async () => {
    sim.inject({ kind: 'malformed', body: '<html>oops' });
    expect(await (await fetch(sim.tokenEndpoint, { method: 'POST' })).text()).toBe('<html>oops');
    sim.inject({ kind: 'redirect', status: 307, location: 'http://127.0.0.1:9/elsewhere' });
    const r = await fetch(sim.tokenEndpoint, { method: 'POST', redirect: 'manual' });
    expect([r.status, r.headers.get('location')]).toEqual([307, 'http://127.0.0.1:9/elsewhere']);
    sim.inject({ kind: 'drop' });
    await expect(fetch(sim.tokenEndpoint, { method: 'POST' })).rejects.toThrow();
    sim.inject({ kind: 'hang' });
    await expect(fetch(sim.tokenEndpoint, { method: 'POST', signal: AbortSignal.timeout(300) })).rejects.toThrow();
  });

  it('counts token requests and logs each decoded grant', async () => {
    sim.reset();
    const jtis = [randomUUID(), randomUUID()];
    for (const jti of jtis) await postToken(sim.tokenEndpoint, kidGrant({ jti }));
    expect(sim.tokenRequestCount()).toBe(2);
    expect(sim.issuedTokenCount()).toBe(2);
    expect(sim.requests.map((r) => r.grant?.claims.jti)).toEqual(jtis);
    expect(sim.requests.every((r) => r.grant?.header.kid === 'key-1')).toBe(true);
  });

  it('accepts any issuer string given in the options', async () => {
    const custom = await startMaskinportenSimulator({ issuer: 'https://test.maskinporten.no/', clients: [{ clientId: 'c', orgno: ORG, scopes: ['s:x'], jwks: [key.publicJwk] }] });
    try {
      const grant = signGrant({ alg: 'RS256', kid: 'key-1' }, baseClaims('https://test.maskinporten.no/', 'c', 's:x'), key.privateKeyPem);
      expect((await postToken(custom.tokenEndpoint, grant)).status).toBe(200);
    } finally {
      await custom.close();
    }
  });
});

describe('token factory', () => {
  it('mints tokens that verify against its JWKS with Maskinporten claims', async () => {
    const factory = createTokenFactory();
    const token = await factory.mint({ scope: 'nav:aareg', consumerOrgno: CUSTOMER });
    const { payload } = await jwtVerify(token, createLocalJWKSet(factory.jwks), { issuer: 'https://test.maskinporten.no/' });
    expect(payload).toMatchObject({ scope: 'nav:aareg', consumer: { ID: `0192:${CUSTOMER}` }, token_type: 'Bearer' });
  });
});
