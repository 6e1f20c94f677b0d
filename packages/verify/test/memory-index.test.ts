// The verifier's memory is indexed by a token's last characters, and compared on the whole token:
// a token that only ends like a remembered one is verified in full (and refused when forged),
// two accepted tokens that end alike never answer for each other, and a remembered token is held
// to the requirements of each use, whatever it met before.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier, verifyRequest } from '@portvakt/verify';
import type { MaskinportenTokenClaims, VerifiableRequest } from '@portvakt/verify';
import { createFlow } from '../src/flow.js';
import { NO_REQUIREMENTS } from '../src/requirements.js';
import { manualClock, rejectionOf, thrownBy } from './support.js';

const factory = createTokenFactory();
const fixed = { issuer: factory.issuer, jwks: factory.jwks };
const remembered = (verifier: object): number => Number(/remembered tokens: (\d+)/.exec(inspect(verifier))?.[1]);

describe('a token that ends like a remembered one', () => {
  it('is verified in full and refused when its signature is another token\'s, and the remembered token is still served', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed, scope: 'nav:read' });
    const token = await factory.mint({ scope: 'nav:read' });
    const claims = await verifier.verify(token);
    const [header, , signature] = token.split('.');
    const [, otherPayload] = (await factory.mint({ scope: 'nav:read', consumerOrgno: '910753614' })).split('.');
    const spliced = `${header}.${otherPayload}.${signature}`;
    expect(spliced.slice(-24)).toBe(token.slice(-24));
    expect(await rejectionOf(verifier.verify(spliced))).toMatchObject({ status: 401, reason: 'bad_signature' });
    expect(verifier.recall(spliced)).toBeUndefined();
    const request: VerifiableRequest = { headers: { authorization: `Bearer ${spliced}` } };
    expect(await rejectionOf(Promise.resolve().then(() => verifyRequest(verifier, request)))).toMatchObject({ status: 401 });
    expect(request.maskinportenToken).toBeUndefined();
    // Longer, with the same end: not the remembered token either.
    expect(verifier.recall(`x${token}`)).toBeUndefined();
    expect(await rejectionOf(verifier.verify(`x${token}`))).toMatchObject({ status: 401 });
    expect(verifier.recall(token)).toBe(claims);
    expect(await verifier.verify(token)).toBe(claims);
    expect(remembered(verifier)).toBe(1);
  });

  it('two accepted tokens that end alike never answer for each other: the later one holds the place', async () => {
    const clock = manualClock();
    const validated: string[] = [];
    const claimsFor = (token: string): MaskinportenTokenClaims =>
      Object.freeze({ scopes: Object.freeze([]), issuedAt: clock.now(), expiresAt: clock.now() + 60_000, payload: Object.freeze({ sub: token }) }) as unknown as MaskinportenTokenClaims;
    const flow = createFlow({
      clock, toleranceMs: 0, maxEntries: 10, defaults: NO_REQUIREMENTS, epoch: () => 1,
      async validate(token) {
        validated.push(token);
        return { claims: claimsFor(token), epoch: 1 };
      },
    });
    const end = 'e'.repeat(30);
    const a = `a${end}`;
    const b = `b${end}`;
    const claimsA = await flow.verify(a);
    expect(flow.recall(a)).toBe(claimsA);
    expect(flow.recall(b)).toBeUndefined();
    const claimsB = await flow.verify(b);
    expect(claimsB.payload.sub).toBe(b);
    expect(flow.recall(b)).toBe(claimsB);
    expect(flow.recall(a)).toBeUndefined();
    const again = await flow.verify(a);
    expect(again.payload.sub).toBe(a);
    expect(validated).toEqual([a, b, a]);
    expect(flow.size).toBe(1);
  });
});

describe('a remembered token meets the requirements of each use', () => {
  it('requirements met once are checked again when another set asks, and refused there every time', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    const token = await factory.mint({ scope: 'nav:read', consumerOrgno: '910753614' });
    const claims = await verifier.verify(token);
    const read = Object.freeze({ scope: 'nav:read' });
    const write = Object.freeze({ scope: 'nav:write' });
    const otherConsumer = Object.freeze({ scope: 'nav:read', consumers: ['991825827'] });
    for (let i = 0; i < 2; i++) {
      expect(verifier.recall(token, read)).toBe(claims);
      expect(thrownBy(() => verifier.recall(token, write))).toMatchObject({ status: 403 });
      expect(thrownBy(() => verifier.recall(token, otherConsumer))).toMatchObject({ status: 403 });
      expect(await rejectionOf(verifier.verify(token, write))).toMatchObject({ status: 403 });
      expect(await verifier.verify(token, read)).toBe(claims);
    }
  });
});

describe('what a caller holds after a call', () => {
  it('requirements frozen only at the top are read afresh: a scope pushed onto their list later is required at once', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    const token = await factory.mint({ scope: 'nav:read' });
    const claims = await verifier.verify(token);
    const scopes = ['nav:read'];
    const requirements = Object.freeze({ scope: scopes });
    expect(verifier.recall(token, requirements)).toBe(claims);
    expect(await verifier.verify(token, requirements)).toBe(claims);
    const request = (): VerifiableRequest => ({ headers: { authorization: `Bearer ${token}` } });
    expect(await verifyRequest(verifier, request(), requirements)).toBe(claims);
    scopes.push('nav:write');
    for (let i = 0; i < 2; i++) {
      expect(thrownBy(() => verifier.recall(token, requirements))).toMatchObject({ status: 403 });
      expect(await rejectionOf(verifier.verify(token, requirements))).toMatchObject({ status: 403 });
      expect(await rejectionOf(Promise.resolve().then(() => verifyRequest(verifier, request(), requirements)))).toMatchObject({ status: 403 });
      expect(await rejectionOf(Promise.resolve().then(() => verifyRequest(verifier, request(), Object.freeze([requirements]))))).toMatchObject({ status: 403 });
    }
    // Frozen, but read through a prototype or a class's getter: read afresh on each call too.
    const proto: { scope: string } = { scope: 'nav:read' };
    const inherited = Object.freeze(Object.create(proto) as { scope: string });
    let current = 'nav:read';
    class Route {
      get scope(): string {
        return current;
      }
    }
    const route = Object.freeze(new Route());
    expect(verifier.recall(token, inherited)).toBe(claims);
    expect(verifier.recall(token, route)).toBe(claims);
    expect(await verifyRequest(verifier, request(), inherited)).toBe(claims);
    proto.scope = 'nav:write';
    current = 'nav:write';
    for (const changed of [inherited, route]) {
      expect(thrownBy(() => verifier.recall(token, changed))).toMatchObject({ status: 403 });
      expect(await rejectionOf(verifier.verify(token, changed))).toMatchObject({ status: 403 });
      expect(await rejectionOf(Promise.resolve().then(() => verifyRequest(verifier, request(), changed)))).toMatchObject({ status: 403 });
    }
    // Frozen all the way down: kept, and still exact.
    const deep = Object.freeze({ scope: Object.freeze(['nav:read']) });
    expect(verifier.recall(token, deep)).toBe(claims);
    expect(verifier.recall(token, deep)).toBe(claims);
  });

  it('the claims of a remembered token are frozen all the way down: a handler cannot change what the next request reads', async () => {
    const verifier = createMaskinportenVerifier({ environment: fixed });
    const token = await factory.mint({ scope: 'nav:read', consumerOrgno: '910753614', systemUser: { orgno: '910753614' } });
    const claims = await verifier.verify(token);
    const details = claims.payload.authorization_details as Record<string, unknown>[];
    const consumer = claims.payload.consumer as Record<string, unknown>;
    expect(Object.isFrozen(consumer)).toBe(true);
    expect(() => {
      consumer.ID = '0192:991825827';
    }).toThrow(TypeError);
    expect(Object.isFrozen(details)).toBe(true);
    expect(() => details.push({})).toThrow(TypeError);
    const detail = details[0] as Record<string, unknown>;
    expect(Object.isFrozen(detail)).toBe(true);
    expect(Object.isFrozen(detail.systemuser_org)).toBe(true);
    expect(() => (detail.systemuser_id as string[]).push('another')).toThrow(TypeError);
    const again = await verifier.verify(token);
    expect(again).toBe(claims);
    expect((again.payload.consumer as Record<string, unknown>).ID).toBe('0192:910753614');
  });
});
