// Objects a caller hands to a token source, treated afterwards as callers do: changed for the next
// customer, reused, frozen. No token may reach a request for another customer through a cache
// slot, a background refresh or a 401 retry. And answers of the exchange that are expired or
// issued in the future are refused, not cached.
import { afterEach, describe, expect, it } from 'vitest';
import { MalformedResponseError, createAltinnTokenSource, createAuthorizedFetch, createMaskinportenClient, isValidOrganizationNumber } from '@portvakt/core';
import type { AltinnTokenSource, MaskinportenClient, TokenRequest } from '@portvakt/core';
import { startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { CUSTOMER, ORG, key, manualClock } from '../client/harness.js';

const EXCHANGE = '/authentication/api/v1/exchange/maskinporten' as const;
const OTHER_CUSTOMER = '974760673';
const CONSENT_A = { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' };
const CONSENT_B = { id: '1b8e6a09-9d73-4423-8fc5-73567775d07a', from: 'urn:altinn:person:identifier-no:05848998356' };

let sim: MaskinportenSimulator | undefined;
let maskinporten: MaskinportenClient | undefined;
let altinn: AltinnTokenSource | undefined;
let api: RecordingApi | undefined;
afterEach(async () => {
  await altinn?.close();
  await maskinporten?.close();
  await sim?.close();
  await api?.close();
  sim = maskinporten = altinn = api = undefined;
});

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
/** The customer (system user) or consent a token was issued for, read from the token itself. */
const subjectOf = (token: string): string => {
  const detail = (payloadOf(token).authorization_details as Record<string, unknown>[] | undefined)?.[0];
  if (detail === undefined) return 'none';
  const org = detail.systemuser_org as { ID?: string } | undefined;
  return org?.ID ?? String(detail.id ?? JSON.stringify(detail));
};

async function setUp(clock: { now(): number; advance(ms: number): void }) {
  expect(isValidOrganizationNumber(OTHER_CUSTOMER)).toBe(true);
  sim = await startMaskinportenSimulator({
    clients: [{ clientId: 'client-1', orgno: ORG, scopes: ['altinn:read'], jwks: [key.publicJwk], systemUsers: [{ orgno: CUSTOMER }, { orgno: CUSTOMER, externalRef: 'ref-1' }, { orgno: OTHER_CUSTOMER }], consents: [CONSENT_A, CONSENT_B] }],
    altinnTokenLifetimeSeconds: 100,
    tokenLifetimeSeconds: 100,
    clock,
  });
  maskinporten = createMaskinportenClient({ clientId: 'client-1', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'altinn:read', clock, cache: { jitter: 0 } });
  altinn = createAltinnTokenSource({ maskinporten, environment: { exchangeUrl: sim.altinnExchangeUrl }, maxAttempts: 1, clock, cache: { jitter: 0 } });
  return { sim, maskinporten, altinn };
}

/** Every way a caller may change what it passed, after the call. */
const mutations: { name: string; make: () => TokenRequest; change: (r: TokenRequest) => void; other: TokenRequest }[] = [
  {
    name: 'systemUser.orgno changed in place',
    make: () => ({ systemUser: { orgno: CUSTOMER } }),
    change: (r) => void ((r.systemUser as { orgno: string }).orgno = OTHER_CUSTOMER),
    other: { systemUser: { orgno: OTHER_CUSTOMER } },
  },
  {
    name: 'systemUser replaced on the same options object',
    make: () => ({ systemUser: { orgno: CUSTOMER } }),
    change: (r) => void (r.systemUser = { orgno: OTHER_CUSTOMER }),
    other: { systemUser: { orgno: OTHER_CUSTOMER } },
  },
  {
    name: 'consent.id changed in place',
    make: () => ({ consent: { ...CONSENT_A } }),
    change: (r) => void ((r.consent as { id: string }).id = CONSENT_B.id),
    other: { consent: { ...CONSENT_B } },
  },
];

describe('the Altinn token source owns the claims it keeps', () => {
  for (const m of mutations) {
    it(`${m.name}: the background refresh and later hits stay with the first customer`, async () => {
      const clock = manualClock();
      const { sim: s, altinn: a } = await setUp(clock);
      const claims = m.make();
      const first = await a.getToken(claims);
      const firstSubject = subjectOf(first.accessToken);
      m.change(claims);
      // Past half the lifetime: the hit refreshes in the background, with the slot's claims.
      clock.advance(60_000);
      await a.getToken(m.make());
      await expect.poll(() => s.altinnExchangeCount()).toBe(2);
      await expect.poll(async () => (await a.getToken(m.make())).accessToken).not.toBe(first.accessToken);
      for (let i = 0; i < 3; i++) expect(subjectOf((await a.getToken(m.make())).accessToken)).toBe(firstSubject);
      // The other customer's token is its own.
      const other = await a.getToken(m.other);
      expect(subjectOf(other.accessToken)).not.toBe(firstSubject);
      expect(subjectOf((await a.getToken(m.make())).accessToken)).toBe(firstSubject);
    });
  }

  it('a 401 from the exchange retried after the caller changed systemUser.orgno asks for the first customer', async () => {
    const clock = manualClock();
    const { sim: s, altinn: a } = await setUp(clock);
    const claims: TokenRequest = { systemUser: { orgno: CUSTOMER } };
    s.inject({ kind: 'status', status: 401 }, { path: EXCHANGE });
    const pending = a.getToken(claims);
    (claims.systemUser as { orgno: string }).orgno = OTHER_CUSTOMER;
    const token = await pending;
    expect(s.altinnExchangeCount()).toBe(2);
    expect(subjectOf(token.accessToken)).toBe(`0192:${CUSTOMER}`);
    expect(subjectOf((await a.getToken({ systemUser: { orgno: CUSTOMER } })).accessToken)).toBe(`0192:${CUSTOMER}`);
  });

  it('takes frozen claims, and claims in any member order share one slot', async () => {
    const clock = manualClock();
    const { sim: s, altinn: a } = await setUp(clock);
    const frozen = Object.freeze({ systemUser: Object.freeze({ orgno: CUSTOMER, externalRef: 'ref-1' }), scope: Object.freeze(['altinn:read']) });
    const t1 = await a.getToken(frozen);
    const t2 = await a.getToken({ scope: 'altinn:read', systemUser: { externalRef: 'ref-1', orgno: CUSTOMER } });
    expect(t2.accessToken).toBe(t1.accessToken);
    expect(s.altinnExchangeCount()).toBe(1);
  });
});

describe('the Maskinporten client and createAuthorizedFetch own the claims they keep', () => {
  it('the client: a changed systemUser after the call does not move the cached token', async () => {
    const clock = manualClock();
    const { maskinporten: mp } = await setUp(clock);
    const claims: TokenRequest = { systemUser: { orgno: CUSTOMER } };
    const first = await mp.getToken(claims);
    (claims.systemUser as { orgno: string }).orgno = OTHER_CUSTOMER;
    clock.advance(60_000);
    await mp.getToken({ systemUser: { orgno: CUSTOMER } });
    await expect.poll(async () => (await mp.getToken({ systemUser: { orgno: CUSTOMER } })).accessToken).not.toBe(first.accessToken);
    expect(subjectOf((await mp.getToken({ systemUser: { orgno: CUSTOMER } })).accessToken)).toBe(`0192:${CUSTOMER}`);
  });

  it('createAuthorizedFetch: options changed after creation (request.systemUser, scope array) change nothing', async () => {
    const clock = manualClock();
    const { maskinporten: mp } = await setUp(clock);
    api = await startRecordingApi();
    const scope = ['altinn:read'];
    const options = { scope, request: { systemUser: { orgno: CUSTOMER } } as TokenRequest, origins: [api.origin] };
    const apiFetch = createAuthorizedFetch(mp, options);
    (options.request.systemUser as { orgno: string }).orgno = OTHER_CUSTOMER;
    scope.push('altinn:other');
    options.origins.push('https://elsewhere.example');
    const response = await apiFetch(`${api.origin}/ok`);
    expect(response.status).toBe(200);
    const sent = api.authorizations.at(-1) as string;
    expect(subjectOf(sent.slice('Bearer '.length))).toBe(`0192:${CUSTOMER}`);
    expect(payloadOf(sent.slice('Bearer '.length)).scope).toBe('altinn:read');
  });
});

describe('arrays a caller changes in place after the call', () => {
  const RESOURCE_A = 'https://api.customer-a.example/';
  const RESOURCE_B = 'https://api.customer-b.example/';
  /** The audience and scope a token was issued for, read from the token itself. */
  const grantOf = (token: string) => {
    const payload = payloadOf(token);
    return { aud: payload.aud, scope: payload.scope };
  };
  const sources = [
    { name: 'the Maskinporten client', pick: (p: { maskinporten: MaskinportenClient; altinn: AltinnTokenSource }) => p.maskinporten },
    { name: 'the Altinn token source', pick: (p: { maskinporten: MaskinportenClient; altinn: AltinnTokenSource }) => p.altinn },
  ];
  for (const source of sources) {
    it(`${source.name}: a resource array and a scope array changed after the call move no token`, async () => {
      const clock = manualClock();
      const parts = await setUp(clock);
      const tokens = source.pick(parts);
      const resource = [RESOURCE_A];
      const scope = ['altinn:read'];
      const first = await tokens.getToken({ resource, scope });
      const issuedFor = grantOf(first.accessToken);
      expect(issuedFor.aud).toEqual([RESOURCE_A]);
      resource[0] = RESOURCE_B;
      scope.push('altinn:other');
      // Past half the lifetime: the hit refreshes in the background, with the slot's own copy.
      clock.advance(60_000);
      await tokens.getToken({ resource: [RESOURCE_A], scope: 'altinn:read' });
      await expect.poll(async () => (await tokens.getToken({ resource: [RESOURCE_A], scope: 'altinn:read' })).accessToken).not.toBe(first.accessToken);
      expect(grantOf((await tokens.getToken({ resource: [RESOURCE_A], scope: 'altinn:read' })).accessToken)).toEqual(issuedFor);
      // The other audience gets a token of its own, not the first one.
      const other = await tokens.getToken({ resource: [RESOURCE_B], scope: 'altinn:read' });
      expect(grantOf(other.accessToken).aud).toEqual([RESOURCE_B]);
    });
  }
});

describe('exchange answers out of time are refused', () => {
  const unsigned = (claims: Record<string, unknown>) =>
    `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2lnbmF0dXJl`;

  for (const [name, offsets] of [
    ['expired an hour ago (iat two hours ago)', { iat: -7200, exp: -3600 }],
    ['issued a day in the future', { iat: 86_400, exp: 86_400 + 600 }],
    ['expired, without iat', { exp: -10 }],
  ] as const) {
    it(`${name}: a typed error, nothing cached, the next answer is used`, async () => {
      const clock = manualClock();
      const { sim: s, altinn: a } = await setUp(clock);
      const now = Math.floor(clock.now() / 1000);
      const claims: Record<string, unknown> = { exp: now + offsets.exp, scope: 'altinn:read' };
      if ('iat' in offsets) claims.iat = now + offsets.iat;
      s.inject({ kind: 'malformed', status: 200, body: unsigned(claims), contentType: 'text/plain' }, { path: EXCHANGE });
      const error = await a.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect((error as Error).message).toMatch(/expired|future|lifetime/);
      const good = await a.getToken();
      expect(payloadOf(good.accessToken)['urn:altinn:authenticatemethod']).toBe('maskinporten');
      expect(s.altinnExchangeCount()).toBeGreaterThanOrEqual(1);
    });
  }

  it('a token issued 10 minutes ago with 60 s left is served at most 60 s past its exp', async () => {
    const clock = manualClock();
    const { sim: s, altinn: a } = await setUp(clock);
    const now = Math.floor(clock.now() / 1000);
    s.inject({ kind: 'malformed', status: 200, body: unsigned({ iat: now - 600, exp: now + 60 }), contentType: 'text/plain' }, { path: EXCHANGE });
    const token = await a.getToken();
    expect(token.expiresAt.getTime() - clock.now()).toBeLessThanOrEqual(120_000);
  });
});
