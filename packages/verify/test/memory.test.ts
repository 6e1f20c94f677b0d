// What the verifier remembers: a token only once a call has accepted it. Every refusal, 401 or 403
// and whatever the reason, leaves the token out of the memory (through verify() and through
// verifyRequest(), with requirements at the verifier, the call and the request); a herd of calls
// with one new token shares one check.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier, verifyRequest } from '@portvakt/verify';
import type { MaskinportenVerifier, RequestRequirements, TokenRequirements, VerifiableRequest } from '@portvakt/verify';
import { manualClock, rejectionOf } from './support.js';

const factory = createTokenFactory();
const fixed = { issuer: factory.issuer, jwks: factory.jwks };
const CUSTOMER = '910753614';
const VENDOR = '991825827';
const PID = '05848998356';
const remembered = (verifier: MaskinportenVerifier): number => Number(/remembered tokens: (\d+)/.exec(inspect(verifier))?.[1]);

// [case, status, answer code, the token, the requirements of the call]
const REFUSED: [string, number, string, () => Promise<string>, TokenRequirements][] = [
  ['wrong_audience', 401, 'invalid_token', () => factory.mint({ audience: 'https://other.example.no/' }), { audience: 'https://api.example.no/' }],
  ['no aud where one is required', 401, 'invalid_token', () => factory.mint(), { audience: 'https://api.example.no/' }],
  ['bad_signature', 401, 'invalid_token', () => factory.forge({}, { signature: 'other-key' }), {}],
  ['tampered claims', 401, 'invalid_token', () => factory.forge({}, { signature: 'tampered' }), {}],
  ['wrong_issuer', 401, 'invalid_token', () => factory.mint({ iss: 'https://maskinporten.no/' }), {}],
  ['missing_claim', 401, 'invalid_token', () => factory.mint({ jti: undefined }), {}],
  ['invalid_claim (validTo "99999")', 401, 'invalid_token', () => factory.mint({ consent: { from: `urn:altinn:person:identifier-no:${PID}`, validTo: '99999' } }), {}],
  ['expired', 401, 'invalid_token', () => factory.mint({}, { now: Date.now() - 600_000 }), {}],
  ['consent_expired', 401, 'invalid_token', () => factory.mint({ consent: { from: `urn:altinn:person:identifier-no:${PID}`, validTo: '2024-01-01T00:00:00Z' } }), {}],
  ['malformed (padded)', 401, 'invalid_token', async () => `${await factory.mint()}==`, {}],
  ['insufficient_scope', 403, 'insufficient_scope', () => factory.mint({ scope: 'nav:read' }), { scope: 'nav:write' }],
  ['a consumer not served', 403, 'organization_not_allowed', () => factory.mint({ consumerOrgno: VENDOR }), { consumers: [CUSTOMER] }],
  ['a supplier not allowed', 403, 'organization_not_allowed', () => factory.mint({ consumerOrgno: CUSTOMER }), { suppliers: [VENDOR] }],
  ['an organisation policy saying no', 403, 'organization_not_allowed', () => factory.mint(), { organizationPolicy: async () => false }],
  ['no pid', 403, 'person_not_allowed', () => factory.mint(), { pid: true }],
  ['another person', 403, 'person_not_allowed', () => factory.mint({ pid: '01010199999' }), { pid: PID }],
  ['no consent', 403, 'consent_missing', () => factory.mint(), { consent: 'ske-inntekt' }],
  ['no system user', 403, 'system_user_not_allowed', () => factory.mint(), { systemUser: true }],
];

describe('a refused token is not in the memory afterwards', () => {
  it.each(REFUSED)('%s (%i %s), refused by verify()', async (_case, status, code, make, requirements) => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    const token = await make();
    const error = await rejectionOf(verifier.verify(token, requirements));
    expect(error).toMatchObject({ status });
    expect((error as unknown as { toProblem(): { code: string } }).toProblem().code).toBe(code);
    expect(verifier.recall(token)).toBeUndefined();
    expect(remembered(verifier)).toBe(0);
  });

  it.each(REFUSED)('%s (%i %s), with the requirement on the verifier, refused by verifyRequest()', async (_case, status, _code, make, requirements) => {
    const verifier = createMaskinportenVerifier({ environment: fixed, ...requirements });
    const token = await make();
    const error = await rejectionOf(Promise.resolve().then(() => verifyRequest(verifier, { headers: { authorization: `Bearer ${token}` } })));
    expect(error).toMatchObject({ status });
    expect(remembered(verifier)).toBe(0);
  });

  it('a policy that throws, a request that names another person, and a request policy saying no leave nothing either', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    const token = await factory.mint({ pid: PID });
    const request = (pid: string): VerifiableRequest & { pid: string } => ({ headers: { authorization: `Bearer ${token}` }, pid });
    const byPath: RequestRequirements<{ pid: string } & VerifiableRequest> = { pid: (req) => req.pid };
    await expect(Promise.resolve().then(() => verifyRequest(verifier, request('01010199999'), byPath))).rejects.toMatchObject({ requirement: 'pid' });
    await expect(verifier.verify(token, { organizationPolicy: () => { throw new Error('down'); } })).rejects.toThrow('down');
    await expect(Promise.resolve().then(() => verifyRequest(verifier, request(PID), { organizationPolicy: async (_claims, req) => req.headers.authorization === undefined }))).rejects.toMatchObject({ status: 403 });
    expect(remembered(verifier)).toBe(0);
    // Accepted at last: remembered, and then answered without a promise.
    await verifyRequest(verifier, request(PID), byPath);
    expect(remembered(verifier)).toBe(1);
    expect(verifyRequest(verifier, request(PID), byPath)).not.toBeInstanceOf(Promise);
  });

  it('a token accepted once stays remembered when another route refuses it, and is dropped when it expires', async () => {
    const clock = manualClock();
    const verifier = createMaskinportenVerifier({ environment: fixed, clock });
    const token = await factory.mint({ scope: 'nav:read' }, { now: clock.now(), lifetimeSeconds: 60 });
    await verifier.verify(token, { scope: 'nav:read' });
    await expect(verifier.verify(token, { scope: 'nav:write' })).rejects.toMatchObject({ status: 403 });
    expect(remembered(verifier)).toBe(1);
    clock.advance(70_000);
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'expired' });
    expect(remembered(verifier)).toBe(0);
  });
});

describe('a herd of calls with one new token', () => {
  it('shares one check: every call gets the same claims, each with its own requirements', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    const token = await factory.mint({ scope: 'nav:read', pid: PID });
    const calls = Array.from({ length: 200 }, (_, i) => verifier.verify(token, i % 2 === 0 ? { scope: 'nav:read' } : { scope: 'nav:write' }));
    const results = await Promise.allSettled(calls);
    const accepted = results.filter((r): r is PromiseFulfilledResult<Awaited<(typeof calls)[number]>> => r.status === 'fulfilled');
    expect(accepted).toHaveLength(100);
    expect(new Set(accepted.map((r) => r.value)).size).toBe(1); // one check: one claims object
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.status === 403)).toBe(true);
    expect(remembered(verifier)).toBe(1);
  });

  it('a forged token in a herd is refused for every caller, and leaves nothing in flight or remembered', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    const forged = await factory.forge({}, { signature: 'other-key' });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => verifier.verify(forged)));
    expect(results.every((r) => r.status === 'rejected' && r.reason.reason === 'bad_signature')).toBe(true);
    expect(remembered(verifier)).toBe(0);
    expect(inspect(verifier)).not.toContain('in flight');
  });

  it('with cache: false every call checks on its own', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed, cache: false });
    const token = await factory.mint();
    const claims = await Promise.all([verifier.verify(token), verifier.verify(token)]);
    expect(claims[0]).not.toBe(claims[1]);
  });
});

describe('a verifier of your own (any object with verify, recall and checkRequirements)', () => {
  it('has the request\'s own checks run by verifyRequest() after its verify()', async () => {
    const real = createMaskinportenVerifier({ environment: fixed });
    const own: MaskinportenVerifier = {
      issuer: real.issuer,
      // It checks the token and nothing it does not know of: the request's check is not its job.
      verify: (token) => real.verify(token),
      recall: () => undefined,
      checkRequirements: (claims, requirements) => real.checkRequirements(claims, requirements),
      ready: () => real.ready(),
    };
    const token = await factory.mint({ pid: PID });
    const byPath: RequestRequirements<{ pid: string } & VerifiableRequest> = Object.freeze({ pid: (req: { pid: string }) => req.pid });
    const request = (pid: string) => ({ headers: { authorization: `Bearer ${token}` }, pid });
    await expect(Promise.resolve().then(() => verifyRequest(own, request('01010199999'), byPath))).rejects.toMatchObject({ requirement: 'pid' });
    await expect(verifyRequest(own, request(PID), byPath)).resolves.toMatchObject({ pid: PID });
  });
});
