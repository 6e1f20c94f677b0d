import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, isValidOrganizationNumber, isValidPersonIdentifier, loadSigner } from '@portvakt/core';
import { copyTokenRequest, createGrant, normalizeTokenRequest } from '@portvakt/core/internal';
import { cacheKeyOf, validateGrantLifetime } from '../../src/grant/index.js';
import { createTestPki, generateClientKey } from '@portvakt/testing';
import { identityOf } from '../keys/harness.js';

const key = generateClientKey({ kid: 'grant-key' });
const signer = loadSigner({ jwk: key.privateJwk });
const ISSUER = 'https://test.maskinporten.no/';
const PID = '01019000083';

function decode(jws: string) {
  const [h, p, s] = jws.split('.');
  return { header: JSON.parse(Buffer.from(h as string, 'base64url').toString()), claims: JSON.parse(Buffer.from(p as string, 'base64url').toString()), input: `${h}.${p}`, signature: Buffer.from(s as string, 'base64url') };
}

describe('createGrant', () => {
  it('has exactly {alg, kid} and exactly the documented claims', async () => {
    const now = 1_700_000_000_500;
    const jws = await createGrant({ issuer: ISSUER, clientId: 'client-1', request: normalizeTokenRequest({ scope: 'b:y a:x' }, undefined), nowMs: now, lifetimeSeconds: 60, signer });
    const { header, claims, input, signature } = decode(jws);
    expect(header).toEqual({ alg: 'RS256', kid: 'grant-key' });
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'scope']);
    expect(claims).toMatchObject({ aud: ISSUER, iss: 'client-1', iat: 1_700_000_000, exp: 1_700_000_060, scope: 'a:x b:y' });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(verify('sha256', Buffer.from(input), createPublicKey({ key: key.publicJwk, format: 'jwk' }), signature)).toBe(true);
  });

  it('adds resource, consumer_org, pid and the system user authorization_details', async () => {
    const request = normalizeTokenRequest({ scope: 's:1', resource: ['https://b', 'https://a'], consumerOrg: '910753614', pid: PID, systemUser: { orgno: '974761076', externalRef: 'ref' } }, undefined);
    const { claims } = decode(await createGrant({ issuer: ISSUER, clientId: 'c', request, nowMs: Date.now(), lifetimeSeconds: 120, signer }));
    expect(claims).toMatchObject({ resource: ['https://b', 'https://a'], consumer_org: '910753614', pid: PID });
    expect(claims.authorization_details).toEqual([{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:974761076' }, externalRef: 'ref' }]);
    expect(claims.exp - claims.iat).toBe(120);
  });

  it('sends resource as an array, also for one audience given as a string (docs/maskinporten-rules.md §10)', async () => {
    const { claims } = decode(await createGrant({ issuer: ISSUER, clientId: 'c', request: normalizeTokenRequest({ scope: 's', resource: 'https://api.example.no' }, undefined), nowMs: Date.now(), lifetimeSeconds: 60, signer }));
    expect(claims.resource).toEqual(['https://api.example.no']);
  });

  it('adds a consent as authorization_details of type urn:altinn:consent', async () => {
    const consent = { id: '0A7D59F8-8C62-4312-9FB4-62456664C96F', from: 'urn:altinn:person:identifier-no:05848998356' };
    const { claims } = decode(await createGrant({ issuer: ISSUER, clientId: 'c', request: normalizeTokenRequest({ scope: 's', consent, consumerOrg: '910753614' }, undefined), nowMs: Date.now(), lifetimeSeconds: 60, signer }));
    expect(claims.authorization_details).toEqual([{ type: 'urn:altinn:consent', id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: consent.from }]);
    expect(claims.consumer_org).toBe('910753614');
  });

  it('adds the deprecated iss_onbehalfof', async () => {
    const { claims } = decode(await createGrant({ issuer: ISSUER, clientId: 'c', request: normalizeTokenRequest({ scope: 's', onBehalfOf: 'legacy-ob' }, undefined), nowMs: Date.now(), lifetimeSeconds: 60, signer }));
    expect(claims.iss_onbehalfof).toBe('legacy-ob');
  });

  it('a certificate with a kid (registered in self-service) signs with {alg, kid} and no x5c', async () => {
    const cert = createTestPki().issueEnterpriseCertificate({ orgno: '991825827' });
    for (const keyInput of [{ certificateChainPem: cert.chainPem, privateKeyPem: cert.privateKeyPem, kid: 'cert-kid' }, { pkcs12: cert.toPkcs12('pw'), passphrase: 'pw', kid: 'cert-kid' }]) {
      const kidSigner = loadSigner(keyInput);
      expect(kidSigner.identity).toBe(identityOf('cert-kid', createPublicKey(cert.privateKeyPem).export({ format: 'jwk' })));
      expect(kidSigner.certificate?.orgno).toBe('991825827');
      const { header } = decode(await createGrant({ issuer: ISSUER, clientId: 'c', request: normalizeTokenRequest({ scope: 's' }, undefined), nowMs: 0, lifetimeSeconds: 60, signer: kidSigner }));
      expect(header).toEqual({ alg: 'RS256', kid: 'cert-kid' });
    }
    expect(() => loadSigner({ certificateChainPem: cert.chainPem, privateKeyPem: cert.privateKeyPem, kid: 'bad kid!' })).toThrow(expect.objectContaining({ field: 'key.kid' }));
  });

  it('uses a fresh jti for every grant', async () => {
    const request = normalizeTokenRequest({ scope: 's' }, undefined);
    const jtis = new Set<string>();
    for (let i = 0; i < 50; i++) jtis.add(decode(await createGrant({ issuer: ISSUER, clientId: 'c', request, nowMs: 0, lifetimeSeconds: 60, signer })).claims.jti);
    expect(jtis.size).toBe(50);
  });

  it('puts x5c (standard base64, leaf first) and nothing else beside alg for certificate signers', async () => {
    const cert = createTestPki().issueEnterpriseCertificate({ orgno: '991825827' });
    const x5cSigner = loadSigner({ certificateChainPem: cert.chainPem, privateKeyPem: cert.privateKeyPem }, { alg: 'RS512' });
    const { header } = decode(await createGrant({ issuer: ISSUER, clientId: 'c', request: normalizeTokenRequest({ scope: 's' }, undefined), nowMs: 0, lifetimeSeconds: 60, signer: x5cSigner }));
    expect(header).toEqual({ alg: 'RS512', x5c: cert.x5c });
  });
});

describe('request validation and the cache key', () => {
  it('sorts and de-duplicates scopes so "a b" and "b a" share a key', () => {
    const k = (scope: string | string[]) => cacheKeyOf({ issuer: ISSUER, clientId: 'c', signerIdentity: 'kid:k', request: normalizeTokenRequest({ scope }, undefined) });
    expect(k('a b')).toBe(k('b a'));
    expect(k(['b', 'a', 'a'])).toBe(k('a  b'));
    expect(k('a')).not.toBe(k('a b'));
  });

  it('keys on every claim that changes the token', () => {
    const base = { issuer: ISSUER, clientId: 'c', signerIdentity: 'kid:k' };
    const keys = [
      { scope: 's' }, { scope: 's', resource: 'https://a' }, { scope: 's', consumerOrg: '910753614' }, { scope: 's', pid: PID },
      { scope: 's', systemUser: { orgno: '910753614' } }, { scope: 's', systemUser: { orgno: '910753614', externalRef: 'x' } },
      { scope: 's', consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' } },
      { scope: 's', consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:organization:identifier-no:910753614' } },
      { scope: 's', onBehalfOf: 'ob' },
    ].map((r) => cacheKeyOf({ ...base, request: normalizeTokenRequest(r, undefined) }));
    expect(new Set(keys).size).toBe(keys.length);
    expect(cacheKeyOf({ ...base, signerIdentity: 'kid:other', request: normalizeTokenRequest({ scope: 's' }, undefined) })).not.toBe(keys[0]);
  });

  it.each([
    [{}, 'scope'],
    [{ scope: '  ' }, 'scope'],
    [{ scope: 's', consumerOrg: '910753615' }, 'consumerOrg'],
    [{ scope: 's', consumerOrg: '0192:910753614' }, 'consumerOrg'],
    [{ scope: 's', pid: '1234567890' }, 'pid'],
    [{ scope: 's', pid: '0101019999x' }, 'pid'],
    [{ scope: 's', pid: 1010199999 }, 'pid'],
    [{ scope: 's', consumer_org: '910753614' }, 'consumer_org'],
    [{ scope: 's', scopes: ['a'] }, 'scopes'],
    [{ scope: 's', systemUser: { orgno: '910753614', external_ref: 'x' } }, 'systemUser.external_ref'],
    ['nav:b', 'options'],
    [{ scope: 's', consent: { id: 'not-a-uuid', from: 'urn:altinn:person:identifier-no:05848998356' } }, 'consent.id'],
    [{ scope: 's', consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:123' } }, 'consent.from'],
    [{ scope: 's', consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:organization:identifier-no:910753615' } }, 'consent.from'],
    [{ scope: 's', consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: '05848998356' } }, 'consent.from'],
    [{ scope: 's', consent: 'x' }, 'consent'],
    [{ scope: 's', consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356', to: 'x' } }, 'consent.to'],
    [{ scope: 's', systemUser: { orgno: '910753614' }, consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' } }, 'consent'],
    [{ scope: 's', onBehalfOf: '' }, 'onBehalfOf'],
    [{ scope: 's', onBehalfOf: 'ob', consumerOrg: '910753614' }, 'onBehalfOf'],
    [{ scope: 's', resource: [] }, 'resource'],
    [{ scope: 's', systemUser: { orgno: '123' } }, 'systemUser.orgno'],
    [{ scope: 's', systemUser: { orgno: '910753614', externalRef: '' } }, 'systemUser.externalRef'],
  ])('refuses %j naming %s', (request, field) => {
    expect(() => normalizeTokenRequest(request as never, undefined)).toThrow(expect.objectContaining({ field }));
  });

  it('checks a pid for its syntax only, as Maskinporten does: the docs\' own example is accepted', () => {
    // docs/maskinporten-rules.md §10: 11 digits; 01010199999 has no valid check digits.
    expect(normalizeTokenRequest({ scope: 's', pid: '01010199999' }, undefined).pid).toBe('01010199999');
    expect(isValidPersonIdentifier('01010199999')).toBe(false);
  });

  it('checks organisation numbers and person identifiers with mod-11', () => {
    expect(isValidOrganizationNumber('991825827')).toBe(true);
    expect(isValidOrganizationNumber('991825828')).toBe(false);
    expect(isValidPersonIdentifier(PID)).toBe(true);
    expect(isValidPersonIdentifier('01019000084')).toBe(false);
  });

  it('limits the grant lifetime to 1..120 seconds, default 60', () => {
    expect(validateGrantLifetime(undefined)).toBe(60);
    expect(validateGrantLifetime(120)).toBe(120);
    expect(() => validateGrantLifetime(121)).toThrow(ConfigurationError);
    expect(() => validateGrantLifetime(1.5)).toThrow(/grantLifetime/);
  });
});

describe('copyTokenRequest()', () => {
  it('keeps a claim a class\'s getter or a prototype gives (nested ones too), and still refuses a misspelt nested member', () => {
    class Claims {
      readonly scope = 'a';
      get consumerOrg(): string {
        return '910753614';
      }
      get systemUser(): { orgno: string } {
        return Object.create({ orgno: '991825827' }) as { orgno: string };
      }
    }
    const copy = copyTokenRequest(new Claims());
    expect(copy).toEqual({ scope: 'a', consumerOrg: '910753614', systemUser: { orgno: '991825827' } });
    expect(copyTokenRequest(Object.create({ pid: PID, scope: 'a' }) as object)).toEqual({ scope: 'a', pid: PID });
    expect(() => copyTokenRequest({ scope: 'a', systemUser: { orgno: '991825827', externalref: 'x' } } as never)).toThrow(ConfigurationError);
  });
});
