// What API teams use to test token verification offline: the simulator's signing-key rotation and
// the token factory's claim shapes and forged variants. Checked with jose directly, so these tests
// do not depend on Portvakt's verifier.
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenFactory, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { baseClaims, postToken, signGrant } from './helpers.js';

const key = generateClientKey({ kid: 'rotation-key' });
let sim: MaskinportenSimulator;
beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'c', orgno: '991825827', scopes: ['nav:test'], jwks: [key.publicJwk] }] });
});
afterAll(() => sim.close());

async function issue(): Promise<string> {
  const grant = signGrant({ alg: 'RS256', kid: 'rotation-key' }, baseClaims(sim.issuer, 'c', 'nav:test'), key.privateKeyPem);
  const { status, json } = await postToken(sim.tokenEndpoint, grant);
  expect(status).toBe(200);
  return json.access_token as string;
}
const publishedKids = async () => ((await (await fetch(sim.jwksUri)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('rotateSigningKey', () => {
  it('signs with the new key, publishes new and old, then drops the old', async () => {
    const before = await issue();
    const [firstKid] = await publishedKids();
    expect(decodeProtectedHeader(before).kid).toBe(firstKid);

    const newKid = await sim.rotateSigningKey();
    expect(newKid).not.toBe(firstKid);
    expect(await publishedKids()).toEqual([newKid, firstKid]);
    const after = await issue();
    expect(decodeProtectedHeader(after)).toEqual({ alg: 'RS256', kid: newKid });
    const jwks = createRemoteJWKSet(new URL(sim.jwksUri));
    for (const token of [before, after]) await expect(jwtVerify(token, jwks, { issuer: sim.issuer })).resolves.toBeTruthy();

    sim.dropPreviousSigningKey();
    expect(await publishedKids()).toEqual([newKid]);
    await expect(jwtVerify(before, createRemoteJWKSet(new URL(sim.jwksUri)), { issuer: sim.issuer })).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('a second rotation drops the oldest key; dropPrevious publishes only the new one', async () => {
    const a = await sim.rotateSigningKey();
    const b = await sim.rotateSigningKey();
    expect(await publishedKids()).toEqual([b, a]);
    const c = await sim.rotateSigningKey({ dropPrevious: true });
    expect(await publishedKids()).toEqual([c]);
    expect(decodeProtectedHeader(await issue()).kid).toBe(c);
  });
});

describe('createTokenFactory', () => {
  const factory = createTokenFactory();
  const jwks = createLocalJWKSet(factory.jwks as never);
  const verified = async (token: string) => (await jwtVerify(token, jwks, { issuer: factory.issuer })).payload;

  it('mints the plain shape with Maskinporten-like defaults', async () => {
    const claims = await verified(await factory.mint());
    expect(claims).toMatchObject({
      iss: 'https://test.maskinporten.no/',
      client_amr: 'private_key_jwt',
      token_type: 'Bearer',
      client_id: 'portvakt-test-client',
      scope: 'portvakt:test',
      consumer: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
  });

  it('mints delegation, audience, pid, system user and consent shapes', async () => {
    const claims = await verified(await factory.mint({
      consumerOrgno: '910753614',
      supplierOrgno: '991825827',
      audience: ['https://api.example.no/'],
      pid: '05848998356',
      systemUser: { orgno: '310000001', id: 'su-1', systemId: 'sys', externalRef: 'ref' },
      consent: { from: 'urn:altinn:person:identifier-no:05848998356', id: 'c-1', validTo: '2030-01-01T00:00:00Z' },
    }));
    expect(claims).toMatchObject({
      consumer: { ID: '0192:910753614' },
      supplier: { ID: '0192:991825827' },
      delegation_source: 'https://tt02.altinn.no/',
      aud: ['https://api.example.no/'],
      pid: '05848998356',
      authorization_details: [
        { type: 'urn:altinn:systemuser', systemuser_id: ['su-1'], systemuser_org: { ID: '0192:310000001' }, system_id: 'sys', externalRef: 'ref' },
        { type: 'urn:altinn:consent', id: 'c-1', from: 'urn:altinn:person:identifier-no:05848998356', to: { ID: '0192:910753614' }, validTo: '2030-01-01T00:00:00Z', consentRights: [{ action: ['consent'] }] },
      ],
    });
  });

  it('sets raw claims as given and leaves out those set to undefined', async () => {
    const claims = await verified(await factory.mint({ client_id: undefined, extra: 1, delegationSource: 'https://www.altinn.no', supplierOrgno: '991825827' }));
    expect(claims).not.toHaveProperty('client_id');
    expect(claims).toMatchObject({ extra: 1, delegation_source: 'https://www.altinn.no' });
  });

  it('mints with another algorithm, and the expiry and issue time asked for', async () => {
    const rs512 = createTokenFactory({ algorithm: 'RS512', issuer: 'https://maskinporten.no/' });
    const token = await rs512.mint({}, { now: 1_700_000_000_000, lifetimeSeconds: 60 });
    expect(decodeProtectedHeader(token).alg).toBe('RS512');
    expect(decodeJwt(token)).toMatchObject({ iss: 'https://maskinporten.no/', iat: 1_700_000_000, exp: 1_700_000_060 });
    expect(rs512.jwks.keys[0]).toMatchObject({ alg: 'RS512', use: 'sig', kid: rs512.kid });
  });

  it.each([
    ['alg none', { header: { alg: 'none' }, signature: 'none' }, 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['HS256 keyed with the public key', { header: { alg: 'HS256' }, signature: 'hmac-public-key' }, 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['another key under the known kid', { signature: 'other-key' }, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['tampered claims', { signature: 'tampered' }, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['a crit header', { header: { crit: ['x'], x: 1 } }, 'ERR_JOSE_NOT_SUPPORTED'],
    ['a payload that is not JSON', { payloadText: 'not json' }, 'ERR_JWT_INVALID'],
  ] as const)('forges %s, which jose refuses', async (_name, forge, code) => {
    const token = await factory.forge({}, forge);
    await expect(jwtVerify(token, jwks, { issuer: factory.issuer, algorithms: ['RS256'] })).rejects.toMatchObject({ code });
  });

  it('forges the HMAC with the published public key as its secret, and an unchanged header for valid', async () => {
    const token = await factory.forge({}, { header: { alg: 'HS256' }, signature: 'hmac-public-key' });
    const publicPem = (await import('node:crypto')).createPublicKey({ key: factory.jwks.keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    await expect(jwtVerify(token, new TextEncoder().encode(String(publicPem)))).resolves.toBeTruthy();
    await expect(verified(await factory.forge({ scope: 'a:b' }))).resolves.toMatchObject({ scope: 'a:b' });
  });

  it('encrypts a JWE of five segments', async () => {
    const jwe = await factory.encrypt({ scope: 'a:b' });
    expect(jwe.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: factory.kid });
  });

  it('gives the claims it would sign', () => {
    expect(factory.claims({ scope: 'x:y' }, { now: 1_000_000 })).toMatchObject({ scope: 'x:y', iat: 1000, exp: 1120 });
  });
});
