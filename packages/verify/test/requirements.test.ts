// Every rule Digdir asks of a Maskinporten API, declared as a requirement (docs/maskinporten-rules.md
// §6, §11.3): each one's valid form accepted and each violation refused with its status, problem code
// and challenge, through verify() with tokens from the token factory.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier, httpStatusOfVerificationFailure, OrganizationNotAllowedError, RequirementNotMetError, validateRequestRequirements, validateTokenRequirements, verifyRequest } from '@portvakt/verify';
import type { MaskinportenTokenClaims, TokenRequirements } from '@portvakt/verify';
import { manualClock, rejectionOf, thrownBy } from './support.js';

const factory = createTokenFactory();
const fixed = { issuer: factory.issuer, jwks: factory.jwks };
const verifier = createMaskinportenVerifier({ environment: fixed });
const CUSTOMER = '910753614';
const VENDOR = '991825827';
const OTHER = '974761076';
const PID = '05848998356';
const OTHER_PID = '01010199999';
const PERSON = `urn:altinn:person:identifier-no:${PID}`;

/** The refusal of `token` under `requirements`, with its HTTP answer. */
async function refusal(token: string, requirements: TokenRequirements) {
  const error = await rejectionOf(verifier.verify(token, requirements));
  return { error, answer: httpStatusOfVerificationFailure(error) };
}

describe('pid (docs/maskinporten-rules.md §5.5, §6.8)', () => {
  it('pid: true accepts a pid-restricted token and refuses one without pid with 403 person_not_allowed', async () => {
    await expect(verifier.verify(await factory.mint({ pid: PID }), { pid: true })).resolves.toMatchObject({ pid: PID });
    const { error, answer } = await refusal(await factory.mint(), { pid: true });
    expect(error).toBeInstanceOf(RequirementNotMetError);
    expect(error).toMatchObject({ code: 'ERR_PORTVAKT_REQUIREMENT_NOT_MET', requirement: 'pid', status: 403 });
    expect(answer).toMatchObject({ status: 403, code: 'person_not_allowed', wwwAuthenticate: 'Bearer error="insufficient_scope", error_description="The token is not for the person this request is about"' });
  });

  it('pid: <person> accepts that person only, and never names a pid in the message', async () => {
    await expect(verifier.verify(await factory.mint({ pid: PID }), { pid: PID })).resolves.toBeTruthy();
    const { error, answer } = await refusal(await factory.mint({ pid: OTHER_PID }), { pid: PID });
    expect(answer).toMatchObject({ status: 403, code: 'person_not_allowed' });
    expect([error.message, answer.detail, JSON.stringify(error), inspect(error)].join(' ')).not.toMatch(/\d{11}/);
  });

  it('refuses a pid that is not 11 digits, or a function, at configuration', () => {
    expect(thrownBy(() => createMaskinportenVerifier({ environment: fixed, pid: '123' }))).toMatchObject({ field: 'pid' });
    expect(thrownBy(() => createMaskinportenVerifier({ environment: fixed, pid: false as never }))).toMatchObject({ field: 'pid' });
    const fn = thrownBy(() => createMaskinportenVerifier({ environment: fixed, pid: ((req: unknown) => String(req)) as never }));
    expect(fn).toBeInstanceOf(ConfigurationError);
    expect(fn.message).toContain('verifyRequest()');
  });
});

describe('consent (docs/maskinporten-rules.md §5.4, §6.10, §11.3)', () => {
  const right = (value: string, metadata?: Record<string, string>) => ({ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value }], ...(metadata === undefined ? {} : { metadata }) });
  const consentToken = (consent: Record<string, unknown>, claims: Record<string, unknown> = {}) =>
    factory.mint({ consumerOrgno: CUSTOMER, ...claims, consent: { from: PERSON, rights: [right('ske-inntekt', { inntektsaar: '2025' })], ...consent } as never });

  it('accepts a consent to the consumer, still valid, for the resource (and the metadata asked for)', async () => {
    const token = await consentToken({});
    await expect(verifier.verify(token, { consent: 'ske-inntekt' })).resolves.toMatchObject({ consent: { fromPid: PID, toOrg: CUSTOMER } });
    await expect(verifier.verify(token, { consent: { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } } })).resolves.toBeTruthy();
  });

  it('reads the metadata spelt metaData, as some of Altinn\'s pages write it', async () => {
    const details = [{ type: 'urn:altinn:consent', id: 'c-1', from: PERSON, to: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` }, consented: '2025-11-14T10:48:55.759557+00:00', validTo: '2099-01-01T14:30:00+00:00', consentRights: [{ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'ske-inntekt' }], metaData: { inntektsaar: '2025' } }] }];
    const token = await factory.mint({ consumerOrgno: CUSTOMER, authorization_details: details });
    const claims = await verifier.verify(token, { consent: { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } } });
    expect(claims.consent?.rights[0]?.metadata).toEqual({ inntektsaar: '2025' });
    const both = [{ ...details[0], consentRights: [{ ...details[0]!.consentRights[0], metadata: { inntektsaar: '2024' } }] }];
    await expect(verifier.verify(await factory.mint({ consumerOrgno: CUSTOMER, authorization_details: both }))).rejects.toMatchObject({ status: 401, reason: 'invalid_claim' });
  });

  it.each<[string, () => Promise<string>, TokenRequirements['consent']]>([
    ['no consent at all', () => factory.mint({ consumerOrgno: CUSTOMER }), 'ske-inntekt'],
    ['a consent to another organisation', () => consentToken({ toOrgno: OTHER }), 'ske-inntekt'],
    ['a consent without validTo', () => factory.mint({ consumerOrgno: CUSTOMER, authorization_details: [{ type: 'urn:altinn:consent', id: 'c', from: PERSON, to: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` }, consentRights: [right('ske-inntekt')] }] }), 'ske-inntekt'],
    ['a consent for another resource', () => consentToken({}), 'ske-formue'],
    ['a consent with other metadata', () => consentToken({}), { resource: 'ske-inntekt', metadata: { inntektsaar: '2024' } }],
    ['a consent without the metadata asked for', () => consentToken({ rights: [right('ske-inntekt')] }), { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } }],
    ['a resource of another type', () => consentToken({ rights: [{ action: ['consent'], resource: [{ type: 'urn:altinn:app', value: 'ske-inntekt' }] }] }), 'ske-inntekt'],
  ])('refuses %s with 403 consent_missing', async (_case, make, consent) => {
    const { error, answer } = await refusal(await make(), { consent });
    expect(error).toMatchObject({ requirement: 'consent', status: 403 });
    expect(answer).toMatchObject({ status: 403, code: 'consent_missing', wwwAuthenticate: 'Bearer error="insufficient_scope", error_description="The token carries no valid consent for this resource"' });
  });

  it('refuses an expired consent with 401 consent_expired, on every use of a remembered token', async () => {
    const clock = manualClock();
    const v = createMaskinportenVerifier({ environment: fixed, clock, consent: 'ske-inntekt' });
    const token = await consentToken({ validTo: new Date(clock.now() + 60_000).toISOString() }, {});
    await expect(v.verify(token)).resolves.toBeTruthy();
    clock.advance(70_000);
    await expect(v.verify(token)).rejects.toMatchObject({ status: 401, reason: 'consent_expired' });
    await expect(verifier.verify(await consentToken({ validTo: '2024-01-01T00:00:00Z' }))).rejects.toMatchObject({ reason: 'consent_expired' });
  });

  it.each(['99999', '2099-01-01', '2099-01-01 14:30:00Z', '2099-02-30T00:00:00Z', '2099-01-01T24:00:00Z', '2099-01-01T14:30:00', 'Jan 1 2099', '2099-01-01T14:30:00+0000', '+02099-01-01T00:00:00Z'])(
    'refuses a validTo of %j (not an RFC 3339 date-time) with 401 invalid_claim',
    async (validTo) => {
      await expect(verifier.verify(await consentToken({ validTo }))).rejects.toMatchObject({ status: 401, reason: 'invalid_claim' });
    },
  );

  it('consent.from: only a consent from that person (or organisation) counts', async () => {
    const token = await consentToken({});
    await expect(verifier.verify(token, { consent: { resource: 'ske-inntekt', from: PID } })).resolves.toBeTruthy();
    await expect(verifier.verify(token, { consent: { resource: 'ske-inntekt', from: OTHER_PID } })).rejects.toMatchObject({ requirement: 'consent', status: 403 });
    const fromOrg = await consentToken({ from: `urn:altinn:organization:identifier-no:${OTHER}` });
    await expect(verifier.verify(fromOrg, { consent: { resource: 'ske-inntekt', from: OTHER } })).resolves.toBeTruthy();
    expect(thrownBy(() => validateTokenRequirements({ consent: { resource: 'a', from: 'someone' } }))).toMatchObject({ field: 'consent.from' });
    expect(thrownBy(() => validateTokenRequirements({ consent: { resource: 'a', from: (() => PID) as never } }))).toMatchObject({ field: 'consent.from' });
  });

  it('refuses a consent requirement without a resource, or with metadata that is not strings, at configuration', () => {
    expect(thrownBy(() => validateTokenRequirements({ consent: '' }))).toMatchObject({ field: 'consent.resource' });
    expect(thrownBy(() => validateTokenRequirements({ consent: { resource: 'a', metadata: { year: 2025 } } as never }))).toMatchObject({ field: 'consent.metadata' });
    expect(thrownBy(() => validateTokenRequirements({ consent: { resource: 'a', metaData: {} } as never }))).toMatchObject({ field: 'consent.metaData' });
  });
});

describe('system users (docs/maskinporten-rules.md §5.3): consumer is the vendor, systemuser_org the customer', () => {
  const systemUserToken = (systemId = `${VENDOR}_payroll`, customer = CUSTOMER) => factory.mint({ consumerOrgno: VENDOR, systemUser: { orgno: customer, systemId } });

  it('accepts a system user of an allowed system and customer, with the vendor as an allowed consumer', async () => {
    const claims = await verifier.verify(await systemUserToken(), { systemUser: { systemId: `${VENDOR}_payroll`, customers: [CUSTOMER] }, consumers: [VENDOR] });
    expect(claims).toMatchObject({ consumerOrg: VENDOR, systemUser: { orgno: CUSTOMER } });
    await expect(verifier.verify(await systemUserToken(), { systemUser: true })).resolves.toBeTruthy();
  });

  it.each<[string, () => Promise<string>, TokenRequirements['systemUser']]>([
    ['a token without a system user', () => factory.mint({ consumerOrgno: VENDOR }), true],
    ['another system', () => systemUserToken(`${VENDOR}_other`), { systemId: `${VENDOR}_payroll` }],
    ['another customer', () => systemUserToken(undefined, OTHER), { customers: CUSTOMER }],
  ])('refuses %s with 403 system_user_not_allowed', async (_case, make, systemUser) => {
    const { error, answer } = await refusal(await make(), { systemUser });
    expect(error).toMatchObject({ requirement: 'systemUser', status: 403 });
    expect(answer).toMatchObject({ code: 'system_user_not_allowed', wwwAuthenticate: 'Bearer error="insufficient_scope", error_description="The token has no system user allowed here"' });
  });

  it('a customer listed as consumer is not the consumer of a system-user token', async () => {
    await expect(verifier.verify(await systemUserToken(), { consumers: [CUSTOMER] })).rejects.toBeInstanceOf(OrganizationNotAllowedError);
  });

  it('refuses unknown members and bad customers at configuration', () => {
    expect(thrownBy(() => validateTokenRequirements({ systemUser: { systemIds: 'x' } as never }))).toMatchObject({ field: 'systemUser.systemIds' });
    expect(thrownBy(() => validateTokenRequirements({ systemUser: { customers: '0192:910753614' } }))).toMatchObject({ field: 'systemUser.customers' });
    expect(thrownBy(() => validateTokenRequirements({ systemUser: false as never }))).toMatchObject({ field: 'systemUser' });
  });
});

describe('an organisation policy (maskinporten-validation\'s organisation validator, declared)', () => {
  it('decides with the claims, sync or async; anything but true is 403 organization_not_allowed for the consumer', async () => {
    const seen: MaskinportenTokenClaims[] = [];
    const token = await factory.mint({ consumerOrgno: CUSTOMER });
    await expect(verifier.verify(token, { organizationPolicy: (claims) => (seen.push(claims), claims.consumerOrg === CUSTOMER) })).resolves.toBeTruthy();
    await expect(verifier.verify(token, { organizationPolicy: async (claims) => claims.consumerOrg === CUSTOMER })).resolves.toBeTruthy();
    expect(seen[0]?.consumerOrg).toBe(CUSTOMER);
    for (const policy of [() => false, async () => false, () => 'yes' as never, async () => 1 as never]) {
      const { error, answer } = await refusal(token, { organizationPolicy: policy });
      expect(error).toMatchObject({ role: 'consumer', status: 403 });
      expect(answer).toMatchObject({ status: 403, code: 'organization_not_allowed', wwwAuthenticate: 'Bearer error="insufficient_scope", error_description="The consumer organisation is not allowed"' });
    }
  });

  it('refuses the supplier of a delegated token', async () => {
    const { error } = await refusal(await factory.mint({ consumerOrgno: CUSTOMER, supplierOrgno: VENDOR }), { organizationPolicy: (claims) => claims.supplierOrg !== VENDOR });
    expect(error).toMatchObject({ role: 'supplier' });
  });

  it('a policy that throws or rejects fails the call with its own error (an error of the API, not a refusal)', async () => {
    const token = await factory.mint();
    const boom = new Error('registry down');
    await expect(verifier.verify(token, { organizationPolicy: () => { throw boom; } })).rejects.toBe(boom);
    await expect(verifier.verify(token, { organizationPolicy: () => Promise.reject(boom) })).rejects.toBe(boom);
    expect(thrownBy(() => validateTokenRequirements({ organizationPolicy: true as never }))).toMatchObject({ field: 'organizationPolicy' });
  });

  it('a verifier-level policy: recall() leaves it to verify(), which answers from the memory', async () => {
    let calls = 0;
    const v = createMaskinportenVerifier({ environment: fixed, organizationPolicy: async () => (calls++, true) });
    const token = await factory.mint();
    const first = await v.verify(token);
    expect(v.recall(token)).toBeUndefined();
    expect(await v.verify(token)).toBe(first); // the same claims: remembered, the policy asked again
    expect(calls).toBe(2);
  });
});

describe('the claims Maskinporten always sets (docs/maskinporten-rules.md §3.3)', () => {
  it.each([
    ['client_amr', { client_amr: undefined }, 'missing_claim'],
    ['jti', { jti: undefined }, 'missing_claim'],
    ['client_amr as a number', { client_amr: 1 }, 'invalid_claim'],
    ['jti as a number', { jti: 42 }, 'invalid_claim'],
    ['consumer as a string', { consumer: `0192:${CUSTOMER}` }, 'invalid_claim'],
    ['scope as a number', { scope: 1 }, 'invalid_claim'],
  ])('refuses a token with no or a mistyped %s', async (_case, claims, reason) => {
    await expect(verifier.verify(await factory.mint(claims as Record<string, unknown>))).rejects.toMatchObject({ status: 401, reason });
  });
});

describe('aud "unspecified" (docs/maskinporten-rules.md §9, Q13): no audience', () => {
  it('reads as an empty audience, meets no audience requirement, and cannot be required', async () => {
    for (const aud of ['unspecified', ['unspecified']]) {
      const token = await factory.mint({ audience: aud });
      expect((await verifier.verify(token)).audience).toEqual([]);
      await expect(verifier.verify(token, { audience: 'https://api.example.no/' })).rejects.toMatchObject({ status: 401, reason: 'wrong_audience' });
    }
    expect((await verifier.verify(await factory.mint({ audience: ['unspecified', 'https://api.example.no/'] }))).audience).toEqual(['https://api.example.no/']);
    expect(thrownBy(() => validateTokenRequirements({ audience: ['https://api.example.no/', 'unspecified'] }))).toMatchObject({ field: 'audience' });
  });
});

describe('requirements at every level', () => {
  it('the verifier\'s, and a list given to a call, all apply', async () => {
    const v = createMaskinportenVerifier({ environment: fixed, pid: true, consumers: [CUSTOMER] });
    const token = await factory.mint({ consumerOrgno: CUSTOMER, pid: PID, scope: 'nav:a nav:b' });
    await expect(v.verify(token, [{ scope: 'nav:a' }, { scope: 'nav:b', pid: PID }])).resolves.toBeTruthy();
    await expect(v.verify(token, [{ scope: 'nav:a' }, { pid: OTHER_PID }])).rejects.toMatchObject({ requirement: 'pid' });
    await expect(v.verify(await factory.mint({ consumerOrgno: CUSTOMER }), { scope: 'portvakt:test' })).rejects.toMatchObject({ requirement: 'pid' });
    expect(thrownBy(() => v.recall(token, [{ scope: 'nav:a' }, { scopes: 'x' } as never]))).toMatchObject({ field: 'requirements[1].scopes' });
  });
});

describe('validateRequestRequirements()', () => {
  it('returns a frozen copy all the way down: the caller\'s objects changed afterwards change nothing', () => {
    const pidOf = (req: { params: { pid: string } }) => req.params.pid;
    const given = { consumers: [CUSTOMER], consent: { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } }, systemUser: { customers: [CUSTOMER] }, pid: pidOf };
    const copy = validateRequestRequirements(given);
    given.consumers.push(OTHER);
    given.consent.metadata.inntektsaar = '1999';
    given.systemUser.customers[0] = OTHER;
    expect(copy).toEqual({ consumers: [CUSTOMER], consent: { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } }, systemUser: { customers: [CUSTOMER] }, pid: pidOf });
    expect(Object.isFrozen(copy) && Object.isFrozen(copy.consumers) && Object.isFrozen(copy.consent) && Object.isFrozen((copy.consent as { metadata: object }).metadata)).toBe(true);
    expect(thrownBy(() => validateRequestRequirements('nav:read', 'route '))).toMatchObject({ field: 'route' });
  });

  it('keeps a requirement a class\'s getter or a prototype gives, so a guard enforces it, pid function and all', async () => {
    class RouteRequirements {
      get scope(): string {
        return 'nav:write';
      }
      readonly pid = (req: { params: { pid: string } }) => req.params.pid;
    }
    const copy = validateRequestRequirements(new RouteRequirements());
    expect(copy.scope).toBe('nav:write');
    const inherited = validateRequestRequirements(Object.create({ consumers: [CUSTOMER] }) as object);
    expect((inherited as { consumers?: unknown }).consumers).toEqual([CUSTOMER]);
    const factory = createTokenFactory();
    const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks } });
    const token = await factory.mint({ scope: 'nav:read', pid: '01019000083' });
    const request = { headers: { authorization: `Bearer ${token}` }, params: { pid: '01019000083' } };
    for (const requirements of [copy, new RouteRequirements()]) {
      await expect(Promise.resolve().then(() => verifyRequest(verifier, { ...request }, requirements as never))).rejects.toMatchObject({ status: 403 });
    }
  });
});
