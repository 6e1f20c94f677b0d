// The key set against the simulator over real HTTP on 127.0.0.1: one fetch for a herd of first
// verifications, refetches on unknown kids bounded by the cooldown, verification through an
// outage of the key endpoint, and rotation: a new key picked up, a dropped key refused.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenFactory, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createMaskinportenClient } from '@portvakt/core';
import { createMaskinportenVerifier, KeySetUnavailableError } from '@portvakt/verify';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenVerifier } from '@portvakt/verify';
import { manualClock, rejectionOf } from './support.js';
import type { ManualClock } from './support.js';

const ORG = '991825827';
const key = generateClientKey({ kid: 'verify-key' });
let sim: MaskinportenSimulator;
let client: MaskinportenClient;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ tokenLifetimeSeconds: 3600, clients: [{ clientId: 'api-consumer', orgno: ORG, scopes: ['nav:test'], jwks: [key.publicJwk] }] });
  client = createMaskinportenClient({ clientId: 'api-consumer', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:test' });
});
afterAll(async () => {
  await client.close();
  await sim.close();
});
beforeEach(() => sim.clearFaults());

/** A new token from the simulator, signed with its current key. */
async function simulatorToken(): Promise<string> {
  const token = await client.getToken();
  client.invalidate(token);
  return token.accessToken;
}

const jwkFetches = () => sim.requests.filter((r) => r.path === '/jwk').length;
/** Tokens that pass every check before the key lookup, with a kid the simulator never had. */
const strangers = createTokenFactory({ issuer: 'placeholder' });
let strangerCount = 0;
const unknownKidToken = () => strangers.forge({ iss: sim.issuer, scope: 'nav:test' }, { header: { kid: `made-up-${++strangerCount}` } });

function verifierFor(clock: ManualClock, keySet: { cooldown?: number; maxAge?: number; timeout?: number } = {}): MaskinportenVerifier {
  return createMaskinportenVerifier({ environment: { issuer: sim.issuer, jwksUri: sim.jwksUri }, clock, keySet, scope: 'nav:test' });
}

describe('the first verifications', () => {
  it('10 000 concurrent first verifications make one key-set fetch', async () => {
    const token = await simulatorToken();
    const verifier = createMaskinportenVerifier({ environment: { issuer: sim.issuer, jwksUri: sim.jwksUri } });
    const before = jwkFetches();
    const results = await Promise.all(Array.from({ length: 10_000 }, () => verifier.verify(token)));
    expect(results.every((claims) => claims.consumerOrg === ORG)).toBe(true);
    expect(jwkFetches() - before).toBe(1);
  });

  it('a failed first load fails every waiter with 503, is not cached, and is retried at most once a second', async () => {
    const clock = manualClock();
    const verifier = verifierFor(clock);
    const token = await simulatorToken();
    const before = jwkFetches();
    sim.inject({ kind: 'status', status: 503 }, { path: '/jwk' });
    const errors = await Promise.all(Array.from({ length: 100 }, () => rejectionOf(verifier.verify(token))));
    expect(errors.every((e) => e instanceof KeySetUnavailableError && e.status === 503 && e.wwwAuthenticate === undefined)).toBe(true);
    expect(errors[0]?.cause).toMatchObject({ code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE', status: 503 });
    expect(jwkFetches() - before).toBe(1);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(KeySetUnavailableError); // within the second: no fetch
    expect(jwkFetches() - before).toBe(1);
    clock.advance(1000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ consumerOrg: ORG });
    expect(jwkFetches() - before).toBe(2);
  });

  it('ready() loads the key set up front, once', async () => {
    const verifier = verifierFor(manualClock());
    const before = jwkFetches();
    await verifier.ready();
    await verifier.ready();
    await verifier.verify(await simulatorToken());
    expect(jwkFetches() - before).toBe(1);
  });
});

describe('unknown kids and the cooldown', () => {
  it('a flood of unknown kids refetches at most once per cooldown, and each is refused 401 unknown_key', async () => {
    const clock = manualClock();
    // A fetch timeout far above what a loaded machine needs: a timed-out refetch would be a 503.
    const verifier = verifierFor(clock, { cooldown: 30, timeout: 60_000 });
    const valid = await simulatorToken();
    await verifier.verify(valid);
    const before = jwkFetches();
    const fetchTimes: number[] = [];
    const start = clock.now();
    // Three simulated minutes, 25 forged tokens a second, a valid one among them.
    for (let second = 0; second < 180; second++) {
      const errors = await Promise.all(Array.from({ length: 25 }, async () => rejectionOf(verifier.verify(await unknownKidToken()))));
      expect(errors.map((e) => `${e.reason} ${e.status}`).filter((answer) => answer !== 'unknown_key 401')).toEqual([]);
      await expect(verifier.verify(valid)).resolves.toBeTruthy();
      while (fetchTimes.length < jwkFetches() - before) fetchTimes.push(clock.now());
      clock.advance(1000);
    }
    // The first load was at `start`; after that one refetch per 30 s at most: at 30, 60, ..., 150 s.
    expect(fetchTimes.length).toBeLessThanOrEqual(Math.floor(180 / 30));
    expect(fetchTimes.length).toBeGreaterThan(0);
    for (const [i, at] of fetchTimes.entries()) expect(at - (fetchTimes[i - 1] ?? start)).toBeGreaterThanOrEqual(30_000);
  });

  it('cooldown 0 refetches for every unknown kid, one fetch for a burst', async () => {
    const verifier = verifierFor(manualClock(), { cooldown: 0 });
    await verifier.verify(await simulatorToken());
    const before = jwkFetches();
    await Promise.all(Array.from({ length: 20 }, async () => rejectionOf(verifier.verify(await unknownKidToken()))));
    expect(jwkFetches() - before).toBe(1);
    await rejectionOf(verifier.verify(await unknownKidToken()));
    expect(jwkFetches() - before).toBe(2);
  });
});

describe('the key endpoint down', () => {
  it.each([
    ['answering 503', { kind: 'status', status: 503 } as const],
    ['dropping connections', { kind: 'drop' } as const],
    ['hanging (timeout)', { kind: 'hang' } as const],
    ['answering HTML', { kind: 'malformed', body: '<html>down</html>', contentType: 'text/html' } as const],
    ['redirecting elsewhere', { kind: 'redirect', status: 302, location: 'https://evil.example/jwk' } as const],
  ])('with a cached set, tokens keep verifying; an unknown kid is 503 (%s)', async (_name, fault) => {
    const clock = manualClock();
    const verifier = verifierFor(clock, { cooldown: 30, maxAge: 60, timeout: 300 });
    const token = await simulatorToken();
    await verifier.verify(token);
    const before = jwkFetches();
    sim.inject(fault, { path: '/jwk', times: Infinity });
    clock.advance(61_000); // past maxAge: a background refresh starts, and fails
    await expect(verifier.verify(token)).resolves.toMatchObject({ consumerOrg: ORG });
    await vi.waitFor(async () => {
      // The failed refresh is known once an unknown kid is answered 503 rather than 401.
      const error = await rejectionOf(verifier.verify(await unknownKidToken()));
      expect(error).toBeInstanceOf(KeySetUnavailableError);
      expect(error.status).toBe(503);
    });
    clock.advance(31_000); // past the cooldown: the unknown kid refetches, and that fails too
    await expect(verifier.verify(token)).resolves.toMatchObject({ consumerOrg: ORG });
    await expect(verifier.verify(await unknownKidToken())).rejects.toBeInstanceOf(KeySetUnavailableError);
    expect(jwkFetches() - before).toBeGreaterThanOrEqual(2);
    sim.clearFaults();
    clock.advance(31_000);
    await expect(verifier.verify(await unknownKidToken())).rejects.toMatchObject({ reason: 'unknown_key', status: 401 });
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });
});

describe('rotation', () => {
  it('a new key is picked up on its first token; a dropped key stops verifying after the refetch', async () => {
    const clock = manualClock();
    const verifier = verifierFor(clock, { cooldown: 30 });
    const oldToken = await simulatorToken();
    await verifier.verify(oldToken);

    const newKid = await sim.rotateSigningKey();
    const published = (await (await fetch(sim.jwksUri)).json()) as { keys: { kid: string }[] };
    expect(published.keys.map((k) => k.kid)[0]).toBe(newKid);
    expect(published.keys).toHaveLength(2);
    const newToken = await simulatorToken();
    clock.advance(30_000);
    await expect(verifier.verify(newToken)).resolves.toBeTruthy(); // unknown kid: refetched
    await expect(verifier.verify(oldToken)).resolves.toBeTruthy(); // still published

    await sim.rotateSigningKey({ dropPrevious: true }); // an emergency rotation: only the newest key
    const newestToken = await simulatorToken();
    clock.advance(30_000);
    await expect(verifier.verify(newestToken)).resolves.toBeTruthy();
    for (const gone of [oldToken, newToken]) await expect(verifier.verify(gone)).rejects.toMatchObject({ reason: 'unknown_key', status: 401 });
  });

  it('a key dropped without a new one stops verifying once maxAge has passed', async () => {
    const clock = manualClock();
    const verifier = verifierFor(clock, { cooldown: 30, maxAge: 600 });
    const before = await simulatorToken();
    await sim.rotateSigningKey();
    const after = await simulatorToken();
    await verifier.verify(before);
    await verifier.verify(after);
    sim.dropPreviousSigningKey();
    const fetched = jwkFetches();
    clock.advance(601_000);
    await expect(verifier.verify(after)).resolves.toBeTruthy(); // served, while a refresh starts
    await vi.waitFor(() => expect(jwkFetches()).toBe(fetched + 1));
    await vi.waitFor(async () => expect((await rejectionOf(verifier.verify(before))).reason).toBe('unknown_key'));
    await expect(verifier.verify(after)).resolves.toBeTruthy();
  });

  it('a new key seen within the cooldown of a refetch is picked up once the cooldown has passed', async () => {
    const clock = manualClock();
    const verifier = verifierFor(clock, { cooldown: 30 });
    await verifier.verify(await simulatorToken());
    await sim.rotateSigningKey();
    const token = await simulatorToken();
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'unknown_key' });
    clock.advance(30_000);
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });
});

describe('discovery', () => {
  it('reads the issuer and jwks_uri from the metadata, and keeps a stale document when it cannot be refetched', async () => {
    const clock = manualClock();
    const verifier = createMaskinportenVerifier({ environment: { metadataUrl: sim.metadataUrl, metadataTtl: 60 }, clock, keySet: { cooldown: 1, maxAge: 30 } });
    expect(verifier.issuer).toBeUndefined();
    const metadataFetches = () => sim.requests.filter((r) => r.path === '/.well-known/oauth-authorization-server').length;
    const meta = metadataFetches();
    const token = await simulatorToken();
    await expect(verifier.verify(token)).resolves.toMatchObject({ issuer: sim.issuer });
    expect(verifier.issuer).toBe(sim.issuer);
    expect(metadataFetches() - meta).toBe(1);
    // The metadata endpoint down: the key set is still refreshed from the known jwks_uri.
    sim.inject({ kind: 'status', status: 500 }, { path: '/.well-known/oauth-authorization-server', times: Infinity });
    const jwk = jwkFetches();
    clock.advance(61_000);
    await verifier.verify(token);
    await vi.waitFor(() => expect(jwkFetches()).toBe(jwk + 1));
    expect(metadataFetches() - meta).toBe(2);
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });

  it('refuses a token from another issuer once the metadata is read', async () => {
    const verifier = createMaskinportenVerifier({ environment: { metadataUrl: sim.metadataUrl } });
    const foreign = await strangers.forge({ iss: 'https://test.maskinporten.no/' }, {});
    await expect(verifier.verify(foreign)).rejects.toMatchObject({ reason: 'wrong_issuer' });
    await expect(verifier.verify(foreign)).rejects.toMatchObject({ reason: 'wrong_issuer' });
  });

  it('a failed first metadata fetch is a 503', async () => {
    sim.inject({ kind: 'status', status: 503 }, { path: '/.well-known/oauth-authorization-server' });
    const verifier = createMaskinportenVerifier({ environment: { metadataUrl: sim.metadataUrl } });
    await expect(verifier.verify(await simulatorToken())).rejects.toMatchObject({ code: 'ERR_PORTVAKT_KEY_SET_UNAVAILABLE', status: 503 });
  });

  it('the client environment with jwksUri added works for the verifier', async () => {
    const verifier = createMaskinportenVerifier({ environment: { ...sim.environment(), jwksUri: sim.jwksUri } });
    await expect(verifier.verify(await simulatorToken())).resolves.toMatchObject({ clientId: 'api-consumer' });
  });
});
