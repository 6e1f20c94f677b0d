// Configuration of the verifier, checked when it is created (before any network call), and the
// requirements API: composition, checkRequirements and their configuration errors.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import { ConfigurationError } from '@portvakt/core';
import { createMaskinportenVerifier, validateTokenRequirements } from '@portvakt/verify';
import type { MaskinportenVerifierOptions } from '@portvakt/verify';
import { countingFetch, manualClock, rejectionOf, thrownBy } from './support.js';

const factory = createTokenFactory();
const fixed = { issuer: factory.issuer, jwks: factory.jwks };

describe('options', () => {
  const bad: [string, unknown, string][] = [
    ['not an object', 'prod', 'options'],
    ['an unknown option (typo)', { environment: 'prod', scopes: 'nav:test' }, 'scopes'],
    ['no environment', {}, 'environment'],
    ['an environment in capitals', { environment: 'PROD' }, 'environment'],
    ['production spelt out', { environment: 'production' }, 'environment'],
    ['an environment of another type', { environment: 42 }, 'environment'],
    ['an unknown environment key', { environment: { issuer: 'https://maskinporten.no/', jwksUrl: 'https://maskinporten.no/jwk' } }, 'environment.jwksUrl'],
    ['the client form without jwksUri', { environment: { issuer: 'https://maskinporten.no/', tokenEndpoint: 'https://maskinporten.no/token' } }, 'environment.jwksUri'],
    ["Maskinporten's issuer without its slash", { environment: { issuer: 'https://maskinporten.no', jwksUri: 'https://maskinporten.no/jwk' } }, 'environment.issuer'],
    ["Maskinporten's token endpoint as issuer", { environment: { issuer: 'https://test.maskinporten.no/token', jwksUri: 'https://test.maskinporten.no/jwk' } }, 'environment.issuer'],
    ['a plain-http key set off loopback', { environment: { issuer: 'https://idp.example/', jwksUri: 'http://idp.example/jwk' } }, 'environment.jwksUri'],
    ['a bad token endpoint beside jwksUri', { environment: { issuer: 'https://idp.example/', jwksUri: 'https://idp.example/jwk', tokenEndpoint: 'ftp://x' } }, 'environment.tokenEndpoint'],
    ['both jwksUri and jwks', { environment: { ...fixed, jwksUri: 'https://idp.example/jwk' } }, 'environment'],
    ['jwks that is not a set', { environment: { issuer: factory.issuer, jwks: [] } }, 'environment.jwks'],
    ['metadataUrl with an issuer', { environment: { metadataUrl: 'https://idp.example/.well-known/oauth-authorization-server', issuer: 'https://idp.example/' } }, 'environment'],
    ['a plain-http metadataUrl off loopback', { environment: { metadataUrl: 'http://idp.example/.well-known/oauth-authorization-server' } }, 'environment.metadataUrl'],
    ['a metadataTtl of 0', { environment: { metadataUrl: 'https://idp.example/m', metadataTtl: 0 } }, 'environment.metadataTtl'],
    ['a metadataTtl without metadataUrl', { environment: { ...fixed, metadataTtl: 60 } }, 'environment.metadataTtl'],
    ['a clockTolerance above 300 s', { environment: fixed, clockTolerance: 3600 }, 'clockTolerance'],
    ['a negative clockTolerance', { environment: fixed, clockTolerance: -1 }, 'clockTolerance'],
    ['keySet that is not an object', { environment: fixed, keySet: 30 }, 'keySet'],
    ['an unknown keySet option', { environment: fixed, keySet: { coolDown: 30 } }, 'keySet.coolDown'],
    ['a negative cooldown', { environment: fixed, keySet: { cooldown: -1 } }, 'keySet.cooldown'],
    ['a maxAge of 0', { environment: fixed, keySet: { maxAge: 0 } }, 'keySet.maxAge'],
    ['a timeout that is not a number', { environment: fixed, keySet: { timeout: '5s' } }, 'keySet.timeout'],
    ['a fetch that is not a function', { environment: fixed, fetch: 'fetch' }, 'fetch'],
    ['a clock without now()', { environment: fixed, clock: {} }, 'clock'],
    ['cache true', { environment: fixed, cache: true }, 'cache'],
    ['an unknown cache option', { environment: fixed, cache: { max: 5 } }, 'cache.max'],
    ['a cache of 0 entries', { environment: fixed, cache: { maxEntries: 0 } }, 'cache.maxEntries'],
    ['a cache of 1.5 entries', { environment: fixed, cache: { maxEntries: 1.5 } }, 'cache.maxEntries'],
    ['a scope with a quote', { environment: fixed, scope: 'nav:"test' }, 'scope'],
    ['an empty scope', { environment: fixed, scope: ' ' }, 'scope'],
    ['an empty scope list', { environment: fixed, scope: [] }, 'scope'],
    ['a scope list with a number', { environment: fixed, scope: ['nav:test', 1] }, 'scope'],
    ['a consumer with the 0192 prefix', { environment: fixed, consumers: ['0192:910753614'] }, 'consumers'],
    ['a consumer with a bad check digit', { environment: fixed, consumers: ['910753615'] }, 'consumers'],
    ['a supplier that is not a number', { environment: fixed, suppliers: ['nav'] }, 'suppliers'],
    ['an audience with a space', { environment: fixed, audience: 'https://api.example.no/ x' }, 'audience'],
  ];

  it.each(bad)('refuses %s, naming the field', (_name, options, field) => {
    const counting = countingFetch();
    const input = typeof options === 'object' ? { fetch: counting.fetch, ...options } : options;
    const error = thrownBy(() => createMaskinportenVerifier(input as MaskinportenVerifierOptions));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.field).toBe(field);
    expect(counting.urls).toEqual([]);
  });

  it('names the fix in the message', () => {
    expect(thrownBy(() => createMaskinportenVerifier({ environment: 'prod', consumers: ['0192:910753614'] })).message).toContain('"910753614"');
    expect(thrownBy(() => createMaskinportenVerifier({ environment: 'PROD' as 'prod' })).message).toContain("'prod'");
    expect(thrownBy(() => createMaskinportenVerifier({ environment: { issuer: 'https://maskinporten.no/', tokenEndpoint: 'https://maskinporten.no/token' } as never })).message).toContain('https://maskinporten.no/jwk');
  });

  it('never echoes a secret pasted into the environment', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6Im5hdjp0ZXN0In0.c2lnbmF0dXJl';
    expect(thrownBy(() => createMaskinportenVerifier({ environment: token as 'prod' })).message).not.toContain('eyJ');
  });

  it.each([['test', 'https://test.maskinporten.no/'], ['prod', 'https://maskinporten.no/']] as const)('the %s preset knows its issuer without any network call', (environment, issuer) => {
    const counting = countingFetch();
    expect(createMaskinportenVerifier({ environment, fetch: counting.fetch }).issuer).toBe(issuer);
    expect(counting.urls).toEqual([]);
  });

  it('inspects as a summary', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    await verifier.ready();
    expect(inspect(verifier)).toBe(`MaskinportenVerifier { issuer: "${factory.issuer}", keys: a fixed key set, kids: [${factory.kid}], fetches: 1, remembered tokens: 0 }`);
  });

  it('verify() needs a string', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    await expect(verifier.verify(undefined as unknown as string)).rejects.toBeInstanceOf(TypeError);
  });
});

describe('requirements', () => {
  const verifier = createMaskinportenVerifier({ environment: fixed, scope: 'nav:read', consumers: ['910753614', '991825827'] });

  it('per-call requirements add to the verifier’s own', async () => {
    const token = await factory.mint({ scope: 'nav:read nav:write', consumerOrgno: '910753614' });
    await expect(verifier.verify(token, { scope: 'nav:write' })).resolves.toBeTruthy();
    await expect(verifier.verify(token, { scope: ['nav:write', 'nav:admin'] })).rejects.toMatchObject({
      code: 'ERR_PORTVAKT_INSUFFICIENT_SCOPE',
      requiredScopes: ['nav:read', 'nav:write', 'nav:admin'],
      missingScopes: ['nav:admin'],
      wwwAuthenticate: 'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="nav:read nav:write nav:admin"',
    });
    // Both consumer lists apply: the customer is in the verifier's, not in the route's.
    await expect(verifier.verify(token, { consumers: '991825827' })).rejects.toMatchObject({ code: 'ERR_PORTVAKT_ORGANIZATION_NOT_ALLOWED', role: 'consumer', status: 403 });
  });

  it('a space-separated scope string requires each scope', async () => {
    const token = await factory.mint({ scope: 'nav:read nav:write', consumerOrgno: '910753614' });
    await expect(verifier.verify(token, { scope: 'nav:write  nav:read' })).resolves.toBeTruthy();
    await expect(verifier.verify(token, { scope: 'nav:write nav:delete' })).rejects.toMatchObject({ missingScopes: ['nav:delete'] });
  });

  it('checkRequirements checks claims a verify() returned, with the verifier’s own too', async () => {
    const claims = await verifier.verify(await factory.mint({ scope: 'nav:read', consumerOrgno: '910753614', audience: 'https://api.example.no/' }));
    expect(() => verifier.checkRequirements(claims, { audience: 'https://api.example.no/' })).not.toThrow();
    expect(thrownBy(() => verifier.checkRequirements(claims, { scope: 'nav:write' }))).toMatchObject({ status: 403, missingScopes: ['nav:write'] });
    expect(thrownBy(() => verifier.checkRequirements(claims, { audience: 'https://other.example.no/' }))).toMatchObject({ status: 401, reason: 'wrong_audience' });
    expect(thrownBy(() => verifier.checkRequirements({} as never, {}))).toBeInstanceOf(TypeError);
  });

  it.each([
    [null, 'requirements'],
    ['nav:read', 'requirements'],
    [{ scopes: 'nav:read' }, 'requirements.scopes'],
    [{ consumers: ['123'] }, 'requirements.consumers'],
  ])('refuses per-call requirements %j, naming %s', async (requirements, field) => {
    const token = await factory.mint({ scope: 'nav:read' });
    const error = await rejectionOf(verifier.verify(token, requirements as never));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.field).toBe(field);
  });

  it('validateTokenRequirements refuses what verify() would, naming the field with its prefix', () => {
    expect(() => validateTokenRequirements({ scope: 'nav:read', audience: ['https://a.example.no/'], consumers: '910753614', suppliers: ['991825827'] })).not.toThrow();
    expect(() => validateTokenRequirements(undefined)).not.toThrow();
    expect(thrownBy(() => validateTokenRequirements({ scopes: 'nav:read' }, 'route.'))).toMatchObject({ field: 'route.scopes' });
    expect(thrownBy(() => validateTokenRequirements({ consumers: [] }))).toMatchObject({ field: 'consumers' });
  });

  it('an audience requirement is met by any one of its values', async () => {
    const token = await factory.mint({ scope: 'nav:read', consumerOrgno: '910753614', audience: ['https://a.example.no/', 'https://b.example.no/'] });
    await expect(verifier.verify(token, { audience: ['https://c.example.no/', 'https://b.example.no/'] })).resolves.toBeTruthy();
  });
});

describe('remembered tokens', () => {
  it('a token presented again is checked for expiry, time and requirements on every use', async () => {
    const clock = manualClock();
    const verifier = createMaskinportenVerifier({ environment: fixed, clock, scope: 'nav:read', cache: { maxEntries: 2 } });
    const token = await factory.mint({ scope: 'nav:read', consent: { from: 'urn:altinn:person:identifier-no:05848998356', validTo: new Date(clock.now() + 90_000).toISOString() } }, { now: clock.now(), lifetimeSeconds: 120 });
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first); // the same frozen claims: remembered
    expect(inspect(verifier)).toContain('remembered tokens: 1');
    await expect(verifier.verify(token, { scope: 'nav:write' })).rejects.toMatchObject({ status: 403 });
    clock.advance(100_000); // the consent ran out before the token
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'consent_expired' });
    clock.set(first.issuedAt - 60_000); // a clock set back: iat is now ahead
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'issued_in_future' });
    clock.set(first.expiresAt + 6000);
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'expired' });
    expect(inspect(verifier)).toContain('remembered tokens: 0');
  });

  it('recall() answers a remembered token without a promise, checking it as verify() does', async () => {
    const clock = manualClock();
    const verifier = createMaskinportenVerifier({ environment: fixed, clock });
    const token = await factory.mint({ scope: 'nav:read' }, { now: clock.now() });
    expect(verifier.recall(token)).toBeUndefined();
    const claims = await verifier.verify(token);
    expect(verifier.recall(token)).toBe(claims);
    const frozen = Object.freeze({ scope: 'nav:read' });
    expect(verifier.recall(token, frozen)).toBe(claims);
    expect(verifier.recall(token, frozen)).toBe(claims);
    expect(thrownBy(() => verifier.recall(token, Object.freeze({ scope: 'nav:write' })))).toMatchObject({ status: 403 });
    expect(thrownBy(() => verifier.recall(token, { scopes: 'x' } as never))).toBeInstanceOf(ConfigurationError);
    expect(() => verifier.recall(42 as never)).toThrow(TypeError);
    clock.advance(200_000);
    expect(verifier.recall(token)).toBeUndefined(); // expired: forgotten, and verify() refuses it
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'expired' });
    expect(createMaskinportenVerifier({ environment: fixed, cache: false }).recall(token)).toBeUndefined();
  });

  it('keeps at most maxEntries, the least recently used out first', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed, cache: { maxEntries: 2 } });
    const [a, b, c] = await Promise.all([factory.mint(), factory.mint(), factory.mint()]);
    const claimsA = await verifier.verify(a as string);
    await verifier.verify(b as string);
    await verifier.verify(a as string); // a is now the most recent
    await verifier.verify(c as string); // b goes
    expect(inspect(verifier)).toContain('remembered tokens: 2');
    expect(await verifier.verify(a as string)).toBe(claimsA);
  });

  it('cache: false verifies every time', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed, cache: false });
    const token = await factory.mint();
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).not.toBe(first);
    expect(inspect(verifier)).toContain('remembered tokens: 0');
  });

  it('a refused token is not remembered', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed, scope: 'nav:write' });
    const token = await factory.mint({ scope: 'nav:read' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 403 });
    await expect(verifier.verify(await factory.forge({}, { signature: 'other-key' }))).rejects.toMatchObject({ reason: 'bad_signature' });
    expect(inspect(verifier)).toContain('remembered tokens: 0'); // not even the valid one, refused for its scope
  });
});
