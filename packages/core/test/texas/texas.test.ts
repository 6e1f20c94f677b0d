// The Texas token source against the simulator's Texas (which follows nais/texas): one request per
// herd, the refresh after Texas' eviction, skip_cache once after invalidate(), Texas' errors kept
// and typed, bounded retries, requests Texas cannot serve refused before any request, caller
// objects copied, a still-valid token served while Texas is down, and the Altinn source on top.
import diagnostics from 'node:diagnostics_channel';
import util from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientClosedError, ConfigurationError, DIAGNOSTICS_CHANNELS, EndpointUnavailableError, TimeoutError, TokenEndpointError, createAltinnTokenSource, createTexasTokenSource } from '@portvakt/core';
import type { TexasTokenSource, TexasTokenSourceOptions } from '@portvakt/core';
import { createManualClock, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator, SimulatorTexas } from '@portvakt/testing';
import { CUSTOMER, until } from '../client/harness.js';

const ORG = '889640782';
const CONSENT = { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' };
const clock = createManualClock();
let sim: MaskinportenSimulator;
let texas: SimulatorTexas;
const sources: TexasTokenSource[] = [];

beforeAll(async () => {
  sim = await startMaskinportenSimulator({
    clock,
    tokenLifetimeSeconds: 300,
    texas: { client: { clientId: 'nais-app', orgno: ORG, scopes: ['nav:a', 'nav:b', 'altinn:read'], systemUsers: [{ orgno: CUSTOMER }, { orgno: CUSTOMER, externalRef: 'branch-1' }], consents: [CONSENT] } },
  });
  texas = sim.texas!;
});
afterAll(() => sim.close());
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  sim.reset();
});

function source(options: TexasTokenSourceOptions = {}): TexasTokenSource {
  const created = createTexasTokenSource({ endpoint: texas.tokenEndpoint, scope: 'nav:a', clock, cache: { jitter: 0 }, transport: { backoffBase: 1, backoffMax: 5 }, ...options });
  sources.push(created);
  return created;
}
/** What each request to Texas asked for, oldest first. */
const asked = () => sim.requests.filter((r) => r.path === '/api/v1/token').map((r) => r.texas?.request ?? {});
const texasSources = () => sim.requests.filter((r) => r.path === '/api/v1/token').map((r) => r.texas?.cache);
/** The token `source` serves once the background refresh of `old` has landed (bounded wait). */
async function refreshed(texasSource: TexasTokenSource, old: { accessToken: string }) {
  for (let i = 0; i < 500; i++) {
    const token = await texasSource.getToken();
    if (token.accessToken !== old.accessToken) return token;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out waiting for the refresh');
}
const rejection = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('resolved'), (error: unknown) => error as Error & Record<string, unknown>);

describe('createTexasTokenSource', () => {
  it('gets a Maskinporten token from Texas, with its lifetime from expires_in', async () => {
    const token = await source().getToken();
    expect(token.tokenType).toBe('Bearer');
    expect(token.scope).toBe('nav:a');
    expect(token.expiresAt.getTime()).toBe(clock.now() + 300_000);
    expect(JSON.parse(Buffer.from(token.accessToken.split('.')[1]!, 'base64url').toString())).toMatchObject({ client_id: 'nais-app', scope: 'nav:a' });
    expect(asked()).toEqual([{ identity_provider: 'maskinporten', target: 'nav:a' }]);
  });

  it('10,000 concurrent callers: 1 Texas request', async () => {
    const texasSource = source();
    const tokens = await Promise.all(Array.from({ length: 10_000 }, () => texasSource.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(texas.tokenRequestCount()).toBe(1);
    expect(await texasSource.getToken()).toBe(tokens[0]);
    expect(texas.tokenRequestCount()).toBe(1);
  });

  it('refreshes after Texas has let the token go, never before (no request gets the same token back)', async () => {
    const texasSource = source();
    const first = await texasSource.getToken();
    // Texas evicts a 300 s token at 180 s; the source refreshes at 182 s (300 - 120 + 2).
    clock.advance(181_000);
    expect(await texasSource.getToken()).toBe(first);
    expect(texas.tokenRequestCount()).toBe(1);
    clock.advance(1_000);
    expect(await texasSource.getToken()).toBe(first); // served while the refresh runs
    const second = await refreshed(texasSource, first);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(texasSources()).toEqual(['miss', 'miss']);
    expect(asked().every((body) => body.skip_cache === undefined)).toBe(true);
  });

  it('invalidate(): the next request asks Texas to skip its cache, once', async () => {
    const texasSource = source();
    const stale = await texasSource.getToken();
    expect(texasSource.invalidate(stale)).toBe(true);
    expect(texasSource.invalidate(stale)).toBe(false);
    const fresh = await texasSource.getToken();
    expect(fresh.accessToken).not.toBe(stale.accessToken);
    await texasSource.getToken();
    expect(texasSource.invalidate('a-token-it-never-had')).toBe(false);
    expect(asked().map((body) => body.skip_cache)).toEqual([undefined, true]);
    expect(texas.skipCacheCount()).toBe(1);
  });

  it('invalidate() while a request is under way: Texas giving back the refused token is asked once more, skipping it', async () => {
    const ownClock = createManualClock(clock.now());
    const texasSource = source({ clock: ownClock });
    const refused = await texasSource.getToken();
    // The source's clock passes its refresh point; Texas' (the simulator's) does not, so Texas
    // still holds the token and a slow refresh brings it back.
    ownClock.advance(183_000);
    sim.inject({ kind: 'delay', ms: 200 }, { path: '/api/v1/token' });
    await texasSource.getToken();
    await until(() => texas.tokenRequestCount() === 2, 'the refresh to start');
    expect(texasSource.invalidate(refused)).toBe(true);
    await until(() => texas.tokenRequestCount() === 3, 'the request that skips');
    const fresh = await texasSource.getToken();
    expect(fresh.accessToken).not.toBe(refused.accessToken);
    expect(asked().map((body) => body.skip_cache)).toEqual([undefined, undefined, true]);
  });

  it('keeps asking Texas to skip the refused token until a request gets through', async () => {
    const texasSource = source();
    const stale = await texasSource.getToken();
    texasSource.invalidate(stale);
    sim.inject({ kind: 'status', status: 500, body: { error: 'server_error', error_description: 'Failed to sign assertion' } }, { path: '/api/v1/token', times: 2 });
    await expect(texasSource.getToken()).rejects.toBeInstanceOf(EndpointUnavailableError);
    const fresh = await texasSource.getToken();
    expect(fresh.accessToken).not.toBe(stale.accessToken);
    expect(asked().map((body) => body.skip_cache)).toEqual([undefined, true, true, true]);
  });

  it("invalid_scope: a TokenEndpointError with Texas' code and description after 1 request, and a hint in NAIS' terms", async () => {
    const error = await rejection(source().getToken({ scope: 'nav:not-consumed' }));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ code: 'ERR_PORTVAKT_TOKEN_REJECTED', status: 400, error: 'invalid_scope', via: 'texas', mpCode: 'MP-200' });
    expect(error.errorDescription).toMatch(/^MP-200 Scope\(s\) not registered/);
    expect(error.hint).toMatch(/spec\.maskinporten\.scopes\.consumes/);
    expect(error.message).toMatch(/^NAIS Texas refused the token request \(HTTP 400, invalid_scope\): MP-200/);
    expect(texas.tokenRequestCount()).toBe(1);
  });

  it('"not enabled" names the NAIS manifest setting, after 1 request', async () => {
    texas.setMaskinportenEnabled(false);
    try {
      const error = await rejection(source().getToken());
      expect(error).toMatchObject({ error: 'invalid_request', errorDescription: "identity provider 'maskinporten' is not enabled", via: 'texas' });
      expect(error.hint).toMatch(/spec\.maskinporten\.enabled: true/);
      expect(texas.tokenRequestCount()).toBe(1);
    } finally {
      texas.setMaskinportenEnabled(true);
    }
  });

  it('Texas answering 500 for ever: 2 requests, then an EndpointUnavailableError with its description', async () => {
    sim.inject({ kind: 'status', status: 500, body: { error: 'server_error', error_description: 'Upstream request failed: connection refused' } }, { path: '/api/v1/token', times: Infinity });
    const error = await rejection(source().getToken());
    expect(error).toBeInstanceOf(EndpointUnavailableError);
    expect(error).toMatchObject({ attempts: 2, status: 500 });
    expect(error.message).toMatch(/HTTP 500, server_error: Upstream request failed: connection refused/);
    expect(texas.tokenRequestCount()).toBe(2);
    // The bound is the transport option.
    await expect(source({ transport: { maxAttempts: 4, backoffBase: 1, backoffMax: 2 } }).getToken()).rejects.toMatchObject({ attempts: 4 });
    expect(texas.tokenRequestCount()).toBe(6);
  });

  it('Maskinporten down behind Texas: Texas retries, answers 500, and the source gives up after its own bound', async () => {
    sim.inject({ kind: 'status', status: 503 }, { times: Infinity });
    await expect(source().getToken()).rejects.toBeInstanceOf(EndpointUnavailableError);
    expect(texas.tokenRequestCount()).toBe(2);
    expect(sim.tokenRequestCount()).toBe(8); // Texas' 4 attempts for each
  });

  it('Texas not answering: a TimeoutError after the bounded attempts', async () => {
    sim.inject({ kind: 'hang' }, { path: '/api/v1/token', times: Infinity });
    const error = await rejection(source({ transport: { attemptTimeout: 50, backoffBase: 1, backoffMax: 2 } }).getToken());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(texas.tokenRequestCount()).toBe(2);
  });

  it('Texas down with a valid token: no failed call, and the refresh backs off', async () => {
    const texasSource = source();
    const failures: unknown[] = [];
    texasSource.on('refreshError', (error) => failures.push(error));
    const token = await texasSource.getToken();
    sim.inject({ kind: 'drop' }, { path: '/api/v1/token', times: Infinity });
    clock.advance(200_000); // past the refresh point, before the safety margin
    for (let i = 0; i < 20; i++) expect(await texasSource.getToken()).toBe(token);
    await until(() => failures.length === 1, 'the failed refresh');
    expect(failures[0]).toBeInstanceOf(EndpointUnavailableError);
    for (let i = 0; i < 20; i++) expect(await texasSource.getToken()).toBe(token);
    expect(texas.tokenRequestCount()).toBe(3); // 1 + one refresh of 2 attempts, then it waits
  });

  it.each([
    ['consumerOrg', { consumerOrg: CUSTOMER }, /consumer_org, Altinn delegation.*nais\/texas#144.*createMaskinportenClient\(\)/],
    ['pid', { pid: '05848998356' }, /restricted to one person \(pid\).*createMaskinportenClient\(\)/],
    ['onBehalfOf', { onBehalfOf: 'legacy' }, /iss_onbehalfof.*createMaskinportenClient\(\)/],
    ['resource', { resource: ['https://one.example/', 'https://two.example/'] }, /one resource per token, not 2/],
  ])('%s: refused before any request, saying why and what to use', async (field, claims, message) => {
    const error = await rejection(source().getToken(claims));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(texas.tokenRequestCount()).toBe(0);
  });

  it('sends systemUser and consent as authorization_details, and resource as resource', async () => {
    const texasSource = source();
    await texasSource.getToken({ systemUser: { orgno: CUSTOMER, externalRef: 'branch-1' } });
    await texasSource.getToken({ consent: CONSENT, scope: 'nav:b' });
    const audience = await texasSource.getToken({ resource: ['https://api.example.no/'] });
    expect(asked()).toEqual([
      { identity_provider: 'maskinporten', target: 'nav:a', authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` }, externalRef: 'branch-1' }] },
      { identity_provider: 'maskinporten', target: 'nav:b', authorization_details: [{ type: 'urn:altinn:consent', id: CONSENT.id, from: CONSENT.from }] },
      { identity_provider: 'maskinporten', target: 'nav:a', resource: 'https://api.example.no/' },
    ]);
    expect(JSON.parse(Buffer.from(audience.accessToken.split('.')[1]!, 'base64url').toString()).aud).toBe('https://api.example.no/');
  });

  it("copies the caller's objects: changed, reused or frozen after the call, they change nothing", async () => {
    const texasSource = source();
    const claims = { systemUser: { orgno: CUSTOMER }, scope: ['nav:a'] };
    const first = await texasSource.getToken(claims);
    claims.systemUser.orgno = '991825827';
    claims.scope.push('nav:b');
    // The same claims as at the first call hit the cache; the refresh asks for them too.
    expect(await texasSource.getToken({ systemUser: { orgno: CUSTOMER }, scope: 'nav:a' })).toBe(first);
    clock.advance(183_000);
    await texasSource.getToken({ systemUser: { orgno: CUSTOMER }, scope: 'nav:a' });
    await until(() => texas.tokenRequestCount() === 2, 'the refresh');
    const frozen = Object.freeze({ scope: 'nav:b', systemUser: Object.freeze({ orgno: CUSTOMER }) });
    await texasSource.getToken(frozen);
    expect(asked().map((body) => [body.target, (body.authorization_details as { systemuser_org: { ID: string } }[])[0]?.systemuser_org.ID])).toEqual([
      ['nav:a', `0192:${CUSTOMER}`],
      ['nav:a', `0192:${CUSTOMER}`],
      ['nav:b', `0192:${CUSTOMER}`],
    ]);
  });

  it('keeps every token out of logs, errors and JSON', async () => {
    const texasSource = source();
    const token = await texasSource.getToken();
    for (const view of [String(token), JSON.stringify(token), util.inspect(token, { depth: Infinity }), util.inspect(texasSource), JSON.stringify(texasSource)]) {
      expect(view).not.toContain(token.accessToken);
    }
    expect(util.inspect(texasSource)).toBe(`TexasTokenSource { endpoint: '${texas.tokenEndpoint}' }`);
    sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: `bad token ${token.accessToken}` } }, { path: '/api/v1/token' });
    const error = await rejection(source({ scope: 'nav:b' }).getToken());
    expect(JSON.stringify(error)).not.toContain(token.accessToken);
    expect(util.inspect(error)).not.toContain(token.accessToken);
  });

  it('publishes the diagnostics events the client does', async () => {
    const seen: [string, Record<string, unknown>][] = [];
    const names = ['fetchStart', 'fetchEnd', 'fetchError', 'cacheHit', 'cacheMiss'] as const;
    const listeners = names.map((name) => {
      const listener = (message: unknown) => void seen.push([name, message as Record<string, unknown>]);
      diagnostics.subscribe(DIAGNOSTICS_CHANNELS[name], listener);
      return () => diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS[name], listener);
    });
    try {
      const texasSource = source({ clientId: 'my-client-id' });
      await texasSource.getToken();
      await texasSource.getToken();
      await rejection(texasSource.getToken({ scope: 'nav:not-consumed' }));
    } finally {
      for (const stop of listeners) stop();
    }
    expect(seen.map(([name]) => name)).toEqual(['cacheMiss', 'fetchStart', 'fetchEnd', 'cacheHit', 'cacheMiss', 'fetchStart', 'fetchError']);
    expect(seen[2]?.[1]).toMatchObject({ clientId: 'my-client-id', issuer: undefined, scope: 'nav:a', reason: 'miss', attempts: 1, fromStore: false, expiresIn: 300 });
    expect(seen[6]?.[1]).toMatchObject({ clientId: 'my-client-id', scope: 'nav:not-consumed', code: 'ERR_PORTVAKT_TOKEN_REJECTED', mpCode: 'MP-200', attempts: 1 });
  });

  it('close(): requests under way and later calls reject with ClientClosedError', async () => {
    const texasSource = source();
    sim.inject({ kind: 'hang' }, { path: '/api/v1/token' });
    const pending = texasSource.getToken();
    await until(() => texas.tokenRequestCount() === 1, 'the request');
    await texasSource.close();
    await expect(pending).rejects.toBeInstanceOf(ClientClosedError);
    await expect(texasSource.getToken()).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('is the Maskinporten source of the Altinn token source: Altinn exchange on top of Texas', async () => {
    const texasSource = source({ scope: 'altinn:read' });
    const altinn = createAltinnTokenSource({ maskinporten: texasSource, environment: { exchangeUrl: sim.altinnExchangeUrl }, clock });
    try {
      const [plain, su] = await Promise.all([altinn.getToken(), altinn.getToken({ systemUser: { orgno: CUSTOMER } })]);
      const claims = (t: { accessToken: string }) => JSON.parse(Buffer.from(t.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims(plain)).toMatchObject({ 'urn:altinn:authenticatemethod': 'maskinporten', client_id: 'nais-app', scope: 'altinn:read' });
      expect(claims(su).authorization_details).toEqual([expect.objectContaining({ type: 'urn:altinn:systemuser' })]);
      expect(texas.tokenRequestCount()).toBe(2);
      expect(sim.altinnExchangeCount()).toBe(2);
      await expect(altinn.getToken({ consumerOrg: CUSTOMER })).rejects.toMatchObject({ field: 'consumerOrg' });
    } finally {
      await altinn.close();
    }
  });
});
