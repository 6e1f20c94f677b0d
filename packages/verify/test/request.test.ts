// verifyRequest(): the flow the Express middleware and the Nest guard share, tested on plain
// request objects, and the HTTP answer each refusal carries (toProblem, problemOf).
import { describe, expect, it } from 'vitest';
import { problemOf } from '@portvakt/core';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier, InsufficientScopeError, InvalidTokenError, KeySetUnavailableError, MissingTokenError, OrganizationNotAllowedError, verifyRequest } from '@portvakt/verify';
import type { VerifiableRequest } from '@portvakt/verify';

const factory = createTokenFactory();
const CUSTOMER = '910753614';
const newVerifier = () => createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks } });

describe('verifyRequest', () => {
  it('verifies, puts the claims on the request, and answers a second pass with the same verifier from them', async () => {
    const verifier = newVerifier();
    const request: VerifiableRequest = { headers: { authorization: `Bearer ${await factory.mint({ scope: 'a:read a:write', consumerOrgno: CUSTOMER })}` } };
    const first = verifyRequest(verifier, request, { scope: 'a:read' });
    expect(first).toBeInstanceOf(Promise);
    const claims = await first;
    expect(request.maskinportenToken).toBe(claims);
    // A route's own requirement after the router's: checked against the claims, no promise.
    expect(verifyRequest(verifier, request, { scope: 'a:write' })).toBe(claims);
    expect(() => verifyRequest(verifier, request, { scope: 'a:admin' })).toThrow(InsufficientScopeError);
  });

  it('a remembered token is answered without a promise; a list of requirements all apply', async () => {
    const verifier = newVerifier();
    const token = await factory.mint({ scope: 'a:read', consumerOrgno: CUSTOMER });
    await verifyRequest(verifier, { headers: { authorization: `Bearer ${token}` } });
    const again: VerifiableRequest = { headers: { authorization: `Bearer ${token}` } };
    const claims = verifyRequest(verifier, again, [{ scope: 'a:read' }, { consumers: [CUSTOMER] }]);
    expect(claims).not.toBeInstanceOf(Promise);
    expect(again.maskinportenToken).toBe(claims);
    expect(() => verifyRequest(verifier, { headers: { authorization: `Bearer ${token}` } }, [{ scope: 'a:read' }, { consumers: ['974760673'] }])).toThrow(OrganizationNotAllowedError);
  });

  it('claims set by another verifier, or by anyone else, are not trusted: the token is verified', async () => {
    const mine = newVerifier();
    const other = newVerifier();
    const token = await factory.mint({ scope: 'a:read' });
    const request: VerifiableRequest = { headers: { authorization: `Bearer ${token}` } };
    await verifyRequest(other, request);
    const forged = request.maskinportenToken!;
    const claims = await verifyRequest(mine, request);
    expect(claims).not.toBe(forged);
    const planted: VerifiableRequest = { headers: {}, maskinportenToken: forged };
    expect(() => verifyRequest(mine, planted)).toThrow(MissingTokenError);
  });

  it('a copy of a verified request (Object.assign, spread, structuredClone) is not verified: its own header is', async () => {
    const verifier = newVerifier();
    const request: VerifiableRequest = { headers: { authorization: `Bearer ${await factory.mint({ scope: 'a:read' })}` } };
    await verifyRequest(verifier, request);
    expect(request.maskinportenToken).toBeDefined();
    // Every own member copied, symbols included, and the header replaced: the copy has claims but
    // was never verified, so its own (absent) token decides.
    const copies: VerifiableRequest[] = [
      Object.assign({}, request, { headers: {} }),
      { ...request, headers: {} },
      { ...structuredClone(request), headers: {} },
    ];
    for (const copy of copies) {
      expect(copy.maskinportenToken).toBeDefined();
      expect(() => verifyRequest(verifier, copy)).toThrow(MissingTokenError);
    }
    // The request itself is still recognised: a second pass answers from its claims, without a promise.
    expect(verifyRequest(verifier, request, { scope: 'a:read' })).toBe(request.maskinportenToken);
  });

  it('claims replaced on a verified request are not taken as verified: the header token decides again', async () => {
    const verifier = newVerifier();
    const narrow = await factory.mint({ scope: 'a:read', consumerOrgno: CUSTOMER });
    const request: VerifiableRequest = { headers: { authorization: `Bearer ${narrow}` } };
    const verified = await verifyRequest(verifier, request);
    // Wider claims from another request with the same verifier, put on this one afterwards.
    const wide = await verifyRequest(verifier, { headers: { authorization: `Bearer ${await factory.mint({ scope: 'a:read a:admin' })}` } });
    request.maskinportenToken = wide;
    expect(() => verifyRequest(verifier, request, { scope: 'a:admin' })).toThrow(InsufficientScopeError);
    // The token in the header decides: its own claims go back on the request.
    expect(verifyRequest(verifier, request, { scope: 'a:read' })).toBe(verified);
    expect(request.maskinportenToken).toBe(verified);
    // A copy of the verified claims, widened (not the verified object itself), is not taken either.
    request.maskinportenToken = { ...verified, scopes: [...verified.scopes, 'a:admin'] };
    expect(() => verifyRequest(verifier, request, { scope: 'a:admin' })).toThrow(InsufficientScopeError);
  });

  it('refusals without I/O are thrown at once; a bad signature rejects', async () => {
    const verifier = newVerifier();
    expect(() => verifyRequest(verifier, { headers: {} })).toThrow(MissingTokenError);
    expect(() => verifyRequest(verifier, { headers: { authorization: ['Bearer a', 'Bearer b'] } })).toThrow(InvalidTokenError);
    const token = await factory.mint({ scope: 'a:read' });
    const tampered = `${token.slice(0, -4)}AAAA`;
    await expect(verifyRequest(verifier, { headers: { authorization: `Bearer ${tampered}` } })).rejects.toBeInstanceOf(InvalidTokenError);
  });
});

describe('the HTTP answer of each refusal', () => {
  it.each([
    [new MissingTokenError(), 401, 'token_missing', 'Bearer'],
    [new InvalidTokenError('expired', 'x'), 401, 'invalid_token', 'Bearer error="invalid_token", error_description="The access token expired"'],
    [new InsufficientScopeError(['a:b'], ['a:b']), 403, 'insufficient_scope', 'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="a:b"'],
    [new OrganizationNotAllowedError('supplier', 'x'), 403, 'organization_not_allowed', 'Bearer error="insufficient_scope", error_description="The supplier organisation is not allowed"'],
    [new KeySetUnavailableError('down'), 503, 'key_set_unavailable', undefined],
  ] as const)('%s', (error, status, code, challenge) => {
    const problem = error.toProblem();
    expect(problemOf(error)).toEqual(problem);
    expect(problem).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String) });
    expect(problem.headers['www-authenticate']).toBe(challenge);
    expect(Object.isFrozen(problem)).toBe(true);
  });
});
