// Wrong and forged tokens: each one refused with its code, reason and HTTP status, and no message
// ever carries the token. The keys are the token factory's, given to the verifier as a fixed key
// set, so these tests need no network; key-set behaviour over HTTP is in key-set.test.ts.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import type { ForgeOptions, MintClaims, MintOptions } from '@portvakt/testing';
import { createMaskinportenVerifier, httpStatusOfVerificationFailure, MAX_TOKEN_LENGTH } from '@portvakt/verify';
import type { TokenRequirements } from '@portvakt/verify';
import { countingFetch, rejectionOf } from './support.js';

const factory = createTokenFactory({ issuer: 'https://test.maskinporten.no/' });
const SCOPE = 'nav:test';
const CUSTOMER = '910753614';
const SUPPLIER = '991825827';
const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks }, scope: SCOPE, clockTolerance: 5 });

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const mint = (claims: MintClaims = {}, options?: MintOptions) => factory.mint({ scope: SCOPE, ...claims }, options);
const forge = (claims: MintClaims, how: ForgeOptions, options?: MintOptions) => factory.forge({ scope: SCOPE, ...claims }, how, options);
/** A token with this exact payload text, validly signed. */
const withPayload = (payloadText: string) => factory.forge({}, { payloadText });
const validPayload = (claims: MintClaims = {}) => JSON.stringify(factory.claims({ scope: SCOPE, ...claims }));
/** The valid claims as JSON text with `extra` spliced in before the closing brace. */
const spliced = (extra: string) => `${validPayload().slice(0, -1)},${extra}}`;
const now = () => Date.now();

type Status = 401 | 403;
interface Case {
  name: string;
  token: () => Promise<string> | string;
  code: string;
  reason?: string;
  status: Status;
  requirements?: TokenRequirements;
}

const invalid = (name: string, reason: string, token: Case['token'], requirements?: TokenRequirements): Case => ({
  name,
  token,
  code: 'ERR_PORTVAKT_INVALID_TOKEN',
  reason,
  status: 401,
  ...(requirements === undefined ? {} : { requirements }),
});
const scopeRefused = (name: string, token: Case['token'], requirements?: TokenRequirements): Case => ({
  name,
  token,
  code: 'ERR_PORTVAKT_INSUFFICIENT_SCOPE',
  status: 403,
  ...(requirements === undefined ? {} : { requirements }),
});
const orgRefused = (name: string, token: Case['token'], requirements: TokenRequirements): Case => ({ name, token, code: 'ERR_PORTVAKT_ORGANIZATION_NOT_ALLOWED', status: 403, requirements });

const cases: Case[] = [
  // The algorithm: only RSA PKCS#1 v1.5, as Maskinporten signs (docs/maskinporten-rules.md §3.3).
  invalid('alg none with no signature', 'unsupported_algorithm', () => forge({}, { header: { alg: 'none' }, signature: 'none' })),
  invalid('alg "None" (case variant)', 'unsupported_algorithm', () => forge({}, { header: { alg: 'None' }, signature: 'none' })),
  invalid('alg none with a signature', 'unsupported_algorithm', () => forge({}, { header: { alg: 'none' } })),
  invalid('HS256 keyed with the published public key (algorithm confusion)', 'unsupported_algorithm', () => forge({}, { header: { alg: 'HS256' }, signature: 'hmac-public-key' })),
  invalid('HS512 keyed with the published public key', 'unsupported_algorithm', () => forge({}, { header: { alg: 'HS512' }, signature: 'hmac-public-key' })),
  invalid('ES256 in the header', 'unsupported_algorithm', () => forge({}, { header: { alg: 'ES256' } })),
  invalid('PS256 in the header', 'unsupported_algorithm', () => forge({}, { header: { alg: 'PS256' } })),
  invalid('no alg at all', 'unsupported_algorithm', () => forge({}, { header: { alg: undefined } })),
  // The key and the signature.
  invalid('RS256 signed by another key under the published kid', 'bad_signature', () => forge({}, { signature: 'other-key' })),
  invalid('claims changed after signing (scope widened)', 'bad_signature', () => forge({}, { signature: 'tampered' })),
  invalid('signature of another token', 'bad_signature', async () => {
    const [h, p] = (await mint()).split('.');
    const [, , s] = (await mint({ scope: 'other:scope' })).split('.');
    return `${h}.${p}.${s}`;
  }),
  invalid('a kid that is not in the key set', 'unknown_key', () => forge({}, { header: { kid: 'not-a-maskinporten-key' } })),
  invalid('RS384 under a kid published for RS256', 'unknown_key', () => forge({}, { header: { alg: 'RS384' } })),
  invalid('no kid', 'malformed', () => forge({}, { header: { kid: undefined } })),
  invalid('kid that is a number', 'malformed', () => forge({}, { header: { kid: 7 } })),
  invalid('an empty signature', 'malformed', () => forge({}, { signature: 'none' })),
  // Header rules.
  invalid('crit naming exp', 'critical_header', () => forge({}, { header: { crit: ['exp'], exp: 1 } })),
  invalid('crit, empty', 'critical_header', () => forge({}, { header: { crit: [] } })),
  invalid('a JWE (five segments)', 'encrypted', () => factory.encrypt({ scope: SCOPE })),
  invalid('a JWS whose header claims enc', 'encrypted', () => forge({}, { header: { enc: 'A256GCM' } })),
  invalid('the header member alg twice', 'duplicate_member', async () => {
    const [, p, s] = (await mint()).split('.');
    return `${b64(`{"alg":"RS256","kid":"${factory.kid}","alg":"none"}`)}.${p}.${s}`;
  }),
  invalid('a header that is not JSON', 'malformed', async () => {
    const [, p, s] = (await mint()).split('.');
    return `${b64('alg=RS256')}.${p}.${s}`;
  }),
  // Form and size, refused before any parsing.
  invalid('longer than 16 KiB (refused before parsing: not even split)', 'too_large', () => '.'.repeat(MAX_TOKEN_LENGTH + 1)),
  invalid('a well-formed token over 16 KiB', 'too_large', () => mint({ padding: 'x'.repeat(MAX_TOKEN_LENGTH) })),
  invalid('two segments', 'malformed', async () => (await mint()).split('.').slice(0, 2).join('.')),
  invalid('four segments', 'malformed', async () => `${await mint()}.x`),
  invalid('characters outside base64url', 'malformed', async () => (await mint()).replace(/^(.{10})./, '$1*')),
  invalid('an empty string', 'malformed', () => ''),
  invalid('a payload that is not JSON', 'malformed', () => withPayload('scope=nav:test')),
  invalid('a payload that is a JSON array', 'malformed', () => withPayload(`[${validPayload()}]`)),
  invalid('a payload that is a JSON string', 'malformed', () => withPayload('"nav:test"')),
  invalid('a payload that is not UTF-8', 'malformed', async () => {
    const [h, , s] = (await mint()).split('.');
    return `${h}.${Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')}.${s}`;
  }),
  // Duplicate members: JSON.parse would keep the last one.
  invalid('scope twice (the second one wider)', 'duplicate_member', () => withPayload(spliced('"scope":"nav:test admin:all"'))),
  invalid('iss twice, the second spelt with an escape', 'duplicate_member', () => withPayload(spliced('"\\u0069ss":"https://evil.example/"'))),
  invalid('ID twice inside consumer', 'duplicate_member', () => withPayload(spliced('"supplier":{"authority":"iso6523-actorid-upis","ID":"0192:991825827","ID":"0192:910753614"}'))),
  // Times, with 5 s of tolerance.
  invalid('expired ten minutes ago', 'expired', () => mint({}, { now: now() - 600_000 })),
  invalid('expired beyond the tolerance (6 s)', 'expired', () => mint({}, { now: now() - 126_000 })),
  invalid('iat an hour in the future', 'issued_in_future', () => mint({}, { now: now() + 3_600_000 })),
  invalid('iat 30 s in the future', 'issued_in_future', () => mint({}, { now: now() + 30_000 })),
  invalid('nbf a minute ahead', 'not_yet_valid', () => mint({ nbf: Math.floor(now() / 1000) + 60 })),
  // Issuer: exactly the environment's, trailing slash and all.
  invalid('iss without the trailing slash', 'wrong_issuer', () => mint({ iss: 'https://test.maskinporten.no' })),
  invalid('iss with an extra trailing slash', 'wrong_issuer', () => mint({ iss: 'https://test.maskinporten.no//' })),
  invalid('iss of production at a test API', 'wrong_issuer', () => mint({ iss: 'https://maskinporten.no/' })),
  invalid('iss of the retired ver2', 'wrong_issuer', () => mint({ iss: 'https://ver2.maskinporten.no/' })),
  invalid('no iss', 'missing_claim', () => mint({ iss: undefined })),
  // Claim types.
  invalid('exp as a string', 'invalid_claim', () => mint({ exp: String(Math.floor(now() / 1000) + 60) })),
  invalid('no exp', 'missing_claim', () => mint({ exp: undefined })),
  invalid('no iat', 'missing_claim', () => mint({ iat: undefined })),
  invalid('nbf as a string', 'invalid_claim', () => mint({ nbf: 'now' })),
  invalid('scope as an array', 'invalid_claim', () => withPayload(JSON.stringify({ ...factory.claims(), scope: [SCOPE] }))),
  invalid('no scope claim', 'missing_claim', () => withPayload(JSON.stringify({ ...factory.claims(), scope: undefined }))),
  invalid('consumer as a bare string', 'invalid_claim', () => mint({ consumer: `0192:${CUSTOMER}` })),
  invalid('consumer in the 2019 shape { Identifier }', 'invalid_claim', () => mint({ consumer: { Identifier: { Authority: 'iso6523-actorid-upis', ID: `9908:${CUSTOMER}` } } })),
  invalid('no consumer', 'missing_claim', () => mint({ consumer: undefined })),
  invalid('no client_id', 'missing_claim', () => mint({ client_id: undefined })),
  invalid('client_id as a number', 'invalid_claim', () => mint({ client_id: 42 })),
  invalid('pid as a number', 'invalid_claim', () => withPayload(JSON.stringify({ ...factory.claims({ scope: SCOPE }), pid: 1019000083 }))),
  invalid('supplier as a string', 'invalid_claim', () => mint({ supplier: SUPPLIER })),
  invalid('aud as a number', 'invalid_claim', () => mint({ aud: 1 })),
  invalid('aud as an empty array', 'invalid_claim', () => mint({ aud: [] })),
  invalid('authorization_details as an object', 'invalid_claim', () => mint({ authorization_details: { type: 'urn:altinn:systemuser' } })),
  invalid('systemuser_id as a string, not an array', 'invalid_claim', () =>
    mint({ authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_id: 'x', systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` }, system_id: 's' }] })),
  invalid('two system users in one token', 'invalid_claim', async () => {
    const details = (factory.claims({ systemUser: { orgno: CUSTOMER } }).authorization_details as unknown[])[0];
    return mint({ authorization_details: [details, details] });
  }),
  invalid('consent without from', 'invalid_claim', () => mint({ authorization_details: [{ type: 'urn:altinn:consent', id: 'c1' }] })),
  invalid('consent validTo that is not a date', 'invalid_claim', () => mint({ consent: { from: 'urn:altinn:person:identifier-no:05848998356', validTo: 'soon' } })),
  invalid('consent that has expired', 'consent_expired', () => mint({ consent: { from: 'urn:altinn:person:identifier-no:05848998356', validTo: '2024-01-01T00:00:00Z' } })),
  invalid('token_type DPoP', 'wrong_token_type', () => mint({ token_type: 'DPoP' })),
  invalid('a cnf key binding', 'wrong_token_type', () => mint({ cnf: { jkt: 'abc' } })),
  // Audience: 401, the token is not for this API.
  invalid('aud of another API', 'wrong_audience', () => mint({ audience: 'https://other.api.no/' }), { audience: 'https://my.api.no/' }),
  invalid('no aud where one is required', 'wrong_audience', () => mint(), { audience: 'https://my.api.no/' }),
  invalid('aud "unspecified" where one is required', 'wrong_audience', () => mint({ audience: 'unspecified' }), { audience: 'https://my.api.no/' }),
  // Scope: 403, exact match only.
  scopeRefused('no scope the API requires', () => mint({ scope: 'nav:other' })),
  scopeRefused('nav:testing is not nav:test', () => mint({ scope: 'nav:testing' })),
  scopeRefused('nav:test2 is not nav:test', () => mint({ scope: 'nav:test2' })),
  scopeRefused('nav:tes is not nav:test', () => mint({ scope: 'nav:tes' })),
  scopeRefused('NAV:TEST is not nav:test', () => mint({ scope: 'NAV:TEST' })),
  scopeRefused('nav:test,nav:other is one scope, not two', () => mint({ scope: 'nav:test,nav:other' })),
  scopeRefused('nav:test/v2 is not nav:test', () => mint({ scope: 'nav:test/v2' })),
  scopeRefused('a tab is no separator', () => mint({ scope: 'nav:other\tnav:test' })),
  scopeRefused('one of two required scopes', () => mint({ scope: 'nav:test' }), { scope: 'nav:write' }),
  // Organisations: 403.
  orgRefused('a consumer the API does not serve', () => mint({ consumerOrgno: '974761076' }), { consumers: [CUSTOMER] }),
  orgRefused('an eSeal consumer (no organisation number) where consumers are listed', () => mint({ consumer: { authority: 'etsi-en-319-412', ID: `NTRNO-${CUSTOMER}` } }), { consumers: [CUSTOMER] }),
  orgRefused('an undelegated token where suppliers are listed', () => mint({ consumerOrgno: CUSTOMER }), { suppliers: [SUPPLIER] }),
  orgRefused('a supplier the API does not allow', () => mint({ consumerOrgno: CUSTOMER, supplierOrgno: '974761076' }), { suppliers: [SUPPLIER] }),
];

describe('wrong and forged tokens', () => {
  it('has at least 40 of them', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('refuses %s', async (_name, c) => {
    const token = await c.token();
    const error = await rejectionOf(verifier.verify(token, c.requirements));
    expect(error.code).toBe(c.code);
    if (c.reason !== undefined) expect(error.reason).toBe(c.reason);
    expect(error.status).toBe(c.status);
    const answer = httpStatusOfVerificationFailure(error);
    expect(answer.status).toBe(c.status);
    if (c.status === 401) {
      expect(answer.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="[^"\\]+"$/);
      expect(answer.code).toBe('invalid_token');
    } else {
      expect(answer.wwwAuthenticate).toMatch(/^Bearer error="insufficient_scope"/);
    }
    if (c.code === 'ERR_PORTVAKT_INSUFFICIENT_SCOPE') expect(answer.wwwAuthenticate).toContain(`scope="${[SCOPE, ...(c.requirements?.scope === undefined ? [] : [c.requirements.scope])].join(' ')}"`);
    // Never the token, nor its signature, in anything a log could print.
    const printed = [error.message, JSON.stringify(error), inspect(error, { depth: 5 }), String(error.cause ?? ''), answer.detail, answer.wwwAuthenticate ?? ''].join('\n');
    const signature = token.split('.')[2] ?? '';
    if (token.length > 20) expect(printed).not.toContain(token.slice(0, 40));
    if (signature.length > 20) expect(printed).not.toContain(signature.slice(0, 20));
  });
});

describe('a token of the test environment at a production verifier', () => {
  it('is refused on its issuer without any key-set fetch', async () => {
    const counting = countingFetch();
    const production = createMaskinportenVerifier({ environment: 'prod', fetch: counting.fetch });
    const error = await rejectionOf(production.verify(await mint()));
    expect(error).toMatchObject({ code: 'ERR_PORTVAKT_INVALID_TOKEN', reason: 'wrong_issuer', status: 401 });
    expect(counting.urls).toEqual([]);
  });

  it('is refused on its issuer when the production verifier has the same keys', async () => {
    const production = createMaskinportenVerifier({ environment: { issuer: 'https://maskinporten.no/', jwks: factory.jwks } });
    await expect(production.verify(await mint())).rejects.toMatchObject({ reason: 'wrong_issuer', status: 401 });
  });
});
