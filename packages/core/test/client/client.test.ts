import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, AccessToken, CertificateError, ClientClosedError, DIAGNOSTICS_CHANNELS, EndpointUnavailableError, TokenEndpointError, createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient, StoredToken, TokenStore } from '@portvakt/core';
import { createTestPki } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { CUSTOMER, ORG, clientFor, key, manualClock, startSim, until } from './harness.js';

let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = undefined;
  sim = undefined;
});

describe('single-flight and the cache key', () => {
  it('serves 1,000 concurrent cold callers with exactly 1 token request', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => client!.getToken()));
    expect(sim.tokenRequestCount()).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it('makes exactly 4 requests for 4 distinct keys, and other keys never wait on one', async () => {
    sim = await startSim();
    client = clientFor(sim);
    sim.inject({ kind: 'delay', ms: 2000 }); // the first key to be fetched is slow
    const slow = client.getToken({ scope: 'a' });
    await until(() => sim!.tokenRequestCount() === 1, 'the request for a to reach Maskinporten');
    const fast = await Promise.all(['b', 'c', 'd'].flatMap((scope) => Array.from({ length: 50 }, () => client!.getToken({ scope }))));
    expect(sim.issuedTokenCount()).toBe(3); // b, c, d done while a is still in flight
    await slow;
    expect(sim.tokenRequestCount()).toBe(4);
    expect(new Set(fast.map((t) => t.scope))).toEqual(new Set(['b', 'c', 'd']));
  });

  it('shares one token between scope "a b" and "b a"', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const [x, y, z] = await Promise.all([client.getToken({ scope: 'a b' }), client.getToken({ scope: 'b a' }), client.getToken({ scope: ['b', 'a', 'a'] })]);
    expect(sim.tokenRequestCount()).toBe(1);
    expect(x.accessToken).toBe(y.accessToken);
    expect(z.accessToken).toBe(x.accessToken);
    expect(sim.requests[0]?.grant?.claims.scope).toBe('a b');
  });

  it('keeps per-customer and system-user tokens apart', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const own = await client.getToken({ scope: 'a' });
    const delegated = await client.getToken({ scope: 'a', consumerOrg: CUSTOMER });
    const su = await client.getToken({ scope: 'a', systemUser: { orgno: CUSTOMER } });
    expect(new Set([own.accessToken, delegated.accessToken, su.accessToken]).size).toBe(3);
    expect(sim.requests.map((r) => r.grant?.claims.consumer_org)).toEqual([undefined, CUSTOMER, undefined]);
  });

  it('sends a distinct jti in every POST, retries included', async () => {
    sim = await startSim();
    client = clientFor(sim);
    sim.inject({ kind: 'status', status: 503 }, { times: 2 });
    await client.getToken({ scope: 'a' });
    await client.getToken({ scope: 'b' });
    const t = await client.getToken({ scope: 'c' });
    client.invalidate(t);
    await client.getToken({ scope: 'c' });
    const jtis = sim.requests.filter((r) => r.path === '/token').map((r) => r.grant?.claims.jti);
    expect(jtis).toHaveLength(6);
    expect(new Set(jtis).size).toBe(6);
  });
});

describe('refresh-ahead and outages (injected clock)', () => {
  it('refreshes in the background at about half the lifetime, blocking no caller', async () => {
    const clock = manualClock();
    sim = await startSim({ clock });
    client = clientFor(sim, { clock });
    const first = await client.getToken();
    clock.advance(80_000); // past the refresh point (60 s ± 12 s jitter, so at most 72 s), before the margin (108 s)
    sim.inject({ kind: 'delay', ms: 1500 });
    const trigger = await client.getToken(); // starts the background refresh, answered from memory
    await until(() => sim!.tokenRequestCount() === 2, 'the refresh to reach Maskinporten');
    const during = await Promise.all(Array.from({ length: 200 }, () => client!.getToken()));
    expect(sim.issuedTokenCount()).toBe(1); // every caller answered while the refresh is still running
    expect([trigger, ...during].every((t) => t === first)).toBe(true);
    expect(sim.tokenRequestCount()).toBe(2); // exactly one background refresh
    await until(() => sim!.issuedTokenCount() === 2, 'the background refresh');
    await until(() => sim!.requests.at(-1)?.status === 200, 'the refresh response');
    await new Promise((r) => setTimeout(r, 20));
    const after = await client.getToken();
    expect(after.accessToken).not.toBe(first.accessToken);
  });

  it('keeps serving a valid token through an outage, backing off refreshes, then blocks only inside the margin', async () => {
    const clock = manualClock();
    sim = await startSim({ clock });
    client = clientFor(sim, { clock, transport: { maxAttempts: 1 } });
    const refreshErrors: string[] = [];
    client.on('refreshError', (err) => refreshErrors.push(err.code));
    const token = await client.getToken();
    sim.inject({ kind: 'status', status: 503 }, { times: Infinity });
    let calls = 0;
    for (let t = 60_000; t < 108_000; t += 2_000) {
      clock.set(token.issuedAtMs + t);
      const got = await Promise.all(Array.from({ length: 20 }, () => client!.getToken()));
      calls += got.length;
      expect(got.every((g) => g === token)).toBe(true);
      await new Promise((r) => setImmediate(r));
    }
    expect(calls).toBe(480);
    expect(refreshErrors.length).toBeGreaterThan(0);
    expect(refreshErrors.every((c) => c === 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE')).toBe(true);
    expect(sim.tokenRequestCount() - 1).toBeLessThan(15); // backed off, not one attempt per call
    clock.set(token.issuedAtMs + 110_000); // inside the last margin: the caller must wait, and the outage shows
    await expect(client.getToken()).rejects.toBeInstanceOf(EndpointUnavailableError);
    sim.clearFaults();
    expect((await client.getToken()).accessToken).not.toBe(token.accessToken);
  });

  it('fetches a new token when minValidity asks for more than is left', async () => {
    const clock = manualClock();
    sim = await startSim({ clock });
    client = clientFor(sim, { clock, cache: { refreshAhead: 1 } });
    const first = await client.getToken();
    clock.advance(50_000);
    expect(await client.getToken({ minValidity: 60 })).toBe(first); // 70 s left
    clock.advance(15_000);
    const second = await client.getToken({ minValidity: 100 }); // 55 s left, under the cap of half the lifetime
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(sim.tokenRequestCount()).toBe(2);
    // Asking for more than any 120 s token can give does not fetch on every call.
    for (let i = 0; i < 5; i++) await client.getToken({ minValidity: 600 });
    expect(sim.tokenRequestCount()).toBe(2);
  });
});

describe('failures, aborts, invalidation, bounds', () => {
  it('tries an OAuth error exactly once, gives every waiting caller the error, and does not poison the key', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => client!.getToken({ scope: 'not-registered' })));
    expect(sim.tokenRequestCount()).toBe(1);
    const err = (results[0] as PromiseRejectedResult).reason as TokenEndpointError;
    expect(err).toBeInstanceOf(TokenEndpointError);
    expect([err.error, err.mpCode, err.status]).toEqual(['invalid_scope', 'MP-200', 400]);
    expect(err.hint).toMatch(/self-service/);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: 'MP-130 Invalid assertion' } });
    await expect(client.getToken()).rejects.toBeInstanceOf(TokenEndpointError);
    expect((await client.getToken()).tokenType).toBe('Bearer');
  });

  it('honours 429 with Retry-After and then succeeds', async () => {
    sim = await startSim();
    client = clientFor(sim);
    sim.inject({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const token = await client.getToken();
    expect(token.tokenType).toBe('Bearer');
    const [first, second] = sim.requests;
    expect([first?.status, second?.status]).toEqual([429, 200]);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('lets one caller abort its wait while the others get the token', async () => {
    sim = await startSim();
    client = clientFor(sim);
    sim.inject({ kind: 'delay', ms: 300 });
    const controller = new AbortController();
    const aborted = client.getToken({ signal: controller.signal });
    const other = client.getToken();
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    expect((await other).tokenType).toBe('Bearer');
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('invalidates only while the cache still holds that token', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const first = await client.getToken();
    expect(client.invalidate(first)).toBe(true);
    const second = await client.getToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(client.invalidate(first)).toBe(false); // a stale 401 does not drop the fresh token
    expect(client.invalidate(first.accessToken)).toBe(false);
    expect(await client.getToken()).toBe(second);
    expect(sim.tokenRequestCount()).toBe(2);
  });

  it('bounds the cache as an LRU', async () => {
    sim = await startSim();
    client = clientFor(sim, { cache: { maxEntries: 3 } });
    for (const scope of ['a', 'b', 'c']) await client.getToken({ scope });
    await client.getToken({ scope: 'a' }); // a is now the most recent; b the least
    await client.getToken({ scope: 'd' }); // evicts b
    expect(sim.tokenRequestCount()).toBe(4);
    await client.getToken({ scope: 'a' });
    await client.getToken({ scope: 'c' });
    expect(sim.tokenRequestCount()).toBe(4);
    await client.getToken({ scope: 'b' });
    expect(sim.tokenRequestCount()).toBe(5);
  });

  it('refuses getToken after close()', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    await client.close();
    await expect(client.getToken()).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('shared store, discovery, certificates, diagnostics', () => {
  function mapStore(map: Map<string, StoredToken>): TokenStore {
    return {
      async load(k, fetch, { minValidUntil }) {
        const hit = map.get(k);
        if (hit && hit.expiresAt >= minValidUntil) return hit;
        const fresh = await fetch();
        map.set(k, fresh);
        return fresh;
      },
    };
  }

  it('reads a shared store on a local miss, so two clients make one request', async () => {
    sim = await startSim();
    const shared = new Map<string, StoredToken>();
    client = clientFor(sim, { cache: { store: mapStore(shared) } });
    const other = clientFor(sim, { cache: { store: mapStore(shared) } });
    const a = await client.getToken();
    const b = await other.getToken();
    expect(a.accessToken).toBe(b.accessToken);
    expect(sim.tokenRequestCount()).toBe(1);
    expect([...shared.keys()][0]).toMatch(/^[0-9a-f]{64}$/);
    await other.close();
  });

  it('falls back to its own fetch when the store fails', async () => {
    sim = await startSim();
    client = clientFor(sim, { cache: { store: { load: async () => { throw new Error('redis down'); } } } });
    expect((await client.getToken()).tokenType).toBe('Bearer');
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('discovers the token endpoint from RFC 8414 metadata', async () => {
    sim = await startSim();
    client = clientFor(sim, { environment: { metadataUrl: sim.metadataUrl } });
    expect(client.issuer).toBeUndefined();
    await client.getToken();
    expect(client.issuer).toBe(sim.issuer);
    expect(sim.requests.map((r) => r.path)).toEqual(['/.well-known/oauth-authorization-server', '/token']);
  });

  it('gets tokens with an enterprise certificate from PKCS#12, and warns 30 days before expiry', async () => {
    const pki = createTestPki();
    const cert = pki.issueEnterpriseCertificate({ orgno: ORG, notAfter: new Date(Date.now() + 10 * 86_400_000) });
    sim = await startSim({ trustedCaPems: pki.trustedCaPems });
    sim.addClient({ clientId: 'cert-client', orgno: ORG, scopes: ['a'], acceptCertificates: true });
    client = clientFor(sim, { clientId: 'cert-client', key: { pkcs12: cert.toPkcs12('pw'), passphrase: 'pw' }, scope: 'a' });
    const warnings: number[] = [];
    client.on('certificateExpiring', (e) => warnings.push(e.daysLeft));
    const token = await client.getToken();
    expect(token.tokenType).toBe('Bearer');
    expect(sim.requests[0]?.grant?.header).toEqual({ alg: 'RS256', x5c: cert.x5c });
    expect(warnings).toEqual([9]);
    expect(client.certificate?.orgno).toBe(ORG);
  });

  it('refuses a production certificate against the test environment at construction', () => {
    const prod = createTestPki({ environment: 'prod' }).issueEnterpriseCertificate({ orgno: ORG });
    expect(() => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { certificateChainPem: prod.chainPem, privateKeyPem: prod.privateKeyPem } })).toThrow(CertificateError);
  });

  it('publishes fetch and cache events without secrets', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const events: [string, unknown][] = [];
    const subs = Object.values(DIAGNOSTICS_CHANNELS).map((name) => {
      const fn = (message: unknown) => events.push([name, message]);
      diagnostics.subscribe(name, fn);
      return () => diagnostics.unsubscribe(name, fn);
    });
    try {
      const token = await client.getToken();
      await client.getToken();
      const names = events.map(([n]) => n);
      expect(names).toEqual(['portvakt:cache:miss', 'portvakt:token:fetch:start', 'portvakt:token:fetch:end', 'portvakt:cache:hit', 'portvakt:cache:hit:count']);
      expect(events[2]?.[1]).toMatchObject({ clientId: 'client-1', scope: 'test:scope', issuer: sim.issuer });
      expect(JSON.stringify(events)).not.toContain(token.accessToken);
    } finally {
      subs.forEach((u) => u());
    }
  });

  it('returns a token object that hides its value', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const token = await client.getToken();
    expect(token).toBeInstanceOf(AccessToken);
    expect(token.authorization).toBe(`Bearer ${token.accessToken}`);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBe(120_000);
    expect(key.kid).toBe('client-key');
  });
});
