// Promises that an adversarial review broke (issue 11) and the error messages users meet (issue 10):
// each test here failed on the code as it landed.
import util from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientClosedError, ConfigurationError, EndpointUnavailableError, MalformedResponseError, PortvaktError, createMaskinportenClient, fromEnv } from '@portvakt/core';
import type { MaskinportenClient, MaskinportenClientOptions, StoredToken, TokenStore } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { CUSTOMER, ORG, clientFor, key, startSim } from './harness.js';

let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = undefined;
  sim = undefined;
});

const settle = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('close()', () => {
  it('ends a token fetch in flight at once: the caller gets ClientClosedError, nothing keeps the process alive', async () => {
    sim = await startSim();
    client = clientFor(sim, { transport: { attemptTimeout: 30_000, deadline: 60_000 } });
    sim.inject({ kind: 'hang' });
    const pending = settle(client.getToken());
    await expect.poll(() => sim!.tokenRequestCount()).toBe(1);
    await client.close();
    // Without the abort this would wait for the 30 s attempt timeout, past the test's own timeout.
    expect(await pending).toBeInstanceOf(ClientClosedError);
    await expect(client.getToken()).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('getToken() options', () => {
  it.each([
    [{ consumer_org: '910753614' }, 'consumer_org'],
    [{ scopes: ['a'] }, 'scopes'],
    ['nav:b', 'options'],
    [{ signal: 'x' }, 'signal'],
    [{ minValidity: '30' }, 'minValidity'],
    [{ systemUser: { orgno: '910753614', external_ref: 'x' } }, 'systemUser.external_ref'],
  ])('refuses %j naming %s, and sends nothing', async (options, field) => {
    sim = await startSim();
    client = clientFor(sim);
    const error = await settle(client.getToken(options as never));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
    expect(sim.tokenRequestCount()).toBe(0);
  });
});

describe('the default claims are the client\'s own', () => {
  it('a caller that changes its defaults object afterwards (the next customer) changes no token the client asks for', async () => {
    sim = await startSim();
    const systemUser = { orgno: ORG };
    const resource = ['https://api.example.no'];
    client = clientFor(sim, { defaults: { systemUser, resource } });
    systemUser.orgno = CUSTOMER;
    resource[0] = 'https://other.example.no';
    // With a scope of its own, the request is merged over the defaults at each call.
    const token = await client.getToken({ scope: 'a' });
    const claims = JSON.parse(Buffer.from(token.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { aud: unknown; authorization_details: { systemuser_org: { ID: string } }[] };
    expect(claims.authorization_details[0]!.systemuser_org.ID).toBe(`0192:${ORG}`);
    expect([claims.aud].flat()).toEqual(['https://api.example.no']);
  });
});

describe('hostile or broken token responses', () => {
  const ok = { access_token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', token_type: 'Bearer', expires_in: 120, scope: 'test:scope' };
  it.each([
    ['expires_in of 1e308', { ...ok, expires_in: 1e308 }],
    ['expires_in of more than a day', { ...ok, expires_in: 86_401 }],
    ['expires_in under a second', { ...ok, expires_in: 0.5 }],
    ['an access_token with CR LF', { ...ok, access_token: 'abc\r\nX-Injected: 1' }],
    ['an access_token with a space', { ...ok, access_token: 'abc def' }],
    ['token_type Basic', { ...ok, token_type: 'Basic' }],
    ['token_type DPoP', { ...ok, token_type: 'DPoP' }],
  ])('%s is refused with a typed error and not cached', async (_name, body) => {
    sim = await startSim();
    client = clientFor(sim, { transport: { maxAttempts: 1 } });
    sim.inject({ kind: 'status', status: 200, body });
    const error = await settle(client.getToken());
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(String(error)).not.toContain('X-Injected');
    // Not cached: the next call asks again and gets the simulator's real token.
    const token = await client.getToken();
    expect(token.tokenType).toBe('Bearer');
    expect(sim.tokenRequestCount()).toBe(2);
  });

  it('a lower-case "bearer" is accepted and sent as Bearer', async () => {
    sim = await startSim();
    client = clientFor(sim);
    sim.inject({ kind: 'status', status: 200, body: { ...ok, token_type: 'bearer' } });
    expect((await client.getToken()).authorization).toBe(`Bearer ${ok.access_token}`);
  });

  it('a very short lifetime still gets a minimal cache: 50 calls within a 2 s token make 1 request', async () => {
    sim = await startSim({ tokenLifetimeSeconds: 2 });
    client = clientFor(sim);
    for (let i = 0; i < 50; i++) await client.getToken();
    expect(sim.tokenRequestCount()).toBe(1);
  });
});

describe('secrets in the wrong place are never echoed', () => {
  const canaryJwk = JSON.stringify(key.privateJwk);
  const canaryPem = key.privateKeyPem;
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJjYW5hcnkiOiJ5ZXMifQ.c2lnbmF0dXJlLWNhbmFyeQ';
  const d = key.privateJwk.d as string;

  const expectClean = (error: unknown) => {
    expect(error).toBeInstanceOf(PortvaktError);
    for (const text of [String(error), (error as Error).stack ?? '', JSON.stringify(error), util.inspect(error, { depth: 5 })]) {
      expect(text).not.toContain(d.slice(0, 24));
      expect(text).not.toContain('MII');
      expect(text).not.toContain('eyJjYW5hcnki');
    }
  };
  const construct = (options: Record<string, unknown>) => {
    try {
      createMaskinportenClient({ clientId: 'c', environment: 'test', key: { jwk: key.privateJwk }, ...options } as never);
    } catch (error) {
      return error;
    }
    throw new Error('expected the options to be refused');
  };

  it.each([
    ['environment', canaryJwk], ['environment', canaryPem], ['environment', jwt],
    ['algorithm', canaryPem], ['algorithm', jwt], ['algorithm', 10n],
  ])('%s given a secret (%#)', (field, value) => {
    const error = construct({ [field]: value });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
    expectClean(error);
  });

  it.each([
    ['MASKINPORTEN_ENVIRONMENT', canaryJwk], ['MASKINPORTEN_ALGORITHM', canaryPem], ['MASKINPORTEN_ENVIRONMENT', jwt],
  ])('the variable %s holding a secret (%#)', (name, value) => {
    const env = { MASKINPORTEN_CLIENT_ID: 'c', MASKINPORTEN_CLIENT_JWK: canaryJwk, MASKINPORTEN_ENVIRONMENT: 'test', MASKINPORTEN_SCOPES: 's', [name]: value };
    const error = (() => {
      try {
        fromEnv(env);
      } catch (e) {
        return e;
      }
      throw new Error('expected fromEnv to refuse');
    })();
    expect((error as ConfigurationError).field).toBe(name);
    expectClean(error);
  });
});

describe('a key in the wrong field', () => {
  const refuse = (k: unknown) => {
    try {
      createMaskinportenClient({ clientId: 'c', environment: 'test', key: k as never });
    } catch (error) {
      return error as ConfigurationError;
    }
    throw new Error('expected the key to be refused');
  };

  it('a JWK given as key.pem points to { jwk }, and the message is whole', () => {
    for (const value of [JSON.stringify(key.privateJwk), key.privateJwk]) {
      const error = refuse({ pem: value, kid: 'k' });
      expect(error.field).toBe('key.pem');
      expect(error.message).toMatch(/looks like a JWK: pass it as \{ jwk \}/);
      expect(error.message).not.toContain(key.privateJwk.d as string);
    }
  });

  it('a PEM given as key.jwk points to { pem, kid }', () => {
    const error = refuse({ jwk: key.privateKeyPem });
    expect(error.field).toBe('key.jwk');
    expect(error.message).toMatch(/looks like a PEM key: pass it as \{ pem, kid \}/);
    expect(error.message).not.toContain('MII');
  });

  it('a PEM given as key.pkcs12 points to { pem, kid }', () => {
    expect(refuse({ pkcs12: key.privateKeyPem, passphrase: '' }).message).toMatch(/\{ pem, kid \}/);
  });

  it('a field that does not belong to the key form is named', () => {
    expect(refuse({ jwk: key.privateJwk, kidd: 'x' }).field).toBe('key.kidd');
    expect(refuse({ pem: key.privateKeyPem, kid: 'k', password: 'x' }).field).toBe('key.password');
  });

  it('redaction never eats the message\'s own text: PEM- and JWT-shaped input in every key field', () => {
    const shaped = [key.privateKeyPem, key.privateKeyPem.slice(0, 120), 'eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln', '-----BEGIN PRIVATE KEY-----'];
    const forms = (v: string) => [{ pem: v, kid: 'k' }, { jwk: v }, { jwk: { kty: 'RSA', d: v } }, { pem: key.privateKeyPem, kid: v }, { certificateChainPem: v, privateKeyPem: key.privateKeyPem }, { certificateChainPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', privateKeyPem: v }];
    for (const value of shaped) {
      for (const form of forms(value)) {
        let error: unknown;
        try {
          createMaskinportenClient({ clientId: 'c', environment: 'test', key: form as never });
        } catch (e) {
          error = e;
        }
        if (error === undefined) continue; // a valid combination
        const message = (error as Error).message;
        // The message ends as we wrote it: with a full stop, after our own words.
        expect(message.trimEnd()).toMatch(/[.)]$/);
        expect(message).not.toMatch(/\("\[redacted\]$/);
        expect(message).not.toContain('MIIE');
      }
    }
  });
});

describe('refresh-ahead with a shared store', () => {
  // A plain in-memory store, as a shared one behaves: it hands out what it has when that is valid
  // long enough, and fetches otherwise. `asked` records every minValidUntil it was given.
  function memoryStore(shared: Map<string, StoredToken>, asked: number[]): TokenStore {
    return {
      async load(k, fetch, { minValidUntil }) {
        asked.push(minValidUntil);
        const have = shared.get(k);
        if (have !== undefined && have.expiresAt >= minValidUntil) return have;
        const fresh = await fetch();
        shared.set(k, fresh);
        return fresh;
      },
    };
  }

  /**
   * One replica puts a 120 s token in a shared store and stops; `laterMs` later a new replica
   * (`client`) starts on the same store. Returns that replica's clock and what the store was asked.
   */
  async function lateReplica(laterMs: number, overrides: Partial<MaskinportenClientOptions> = {}) {
    let now = Date.now();
    const clock = { now: () => now };
    sim = await startSim({ tokenLifetimeSeconds: 120, clock });
    const asked: number[] = [];
    const store = memoryStore(new Map(), asked);
    const first = clientFor(sim, { clock, cache: { store, jitter: 0 } });
    const old = await first.getToken();
    await first.close();
    now += laterMs;
    client = clientFor(sim, { clock, cache: { store, jitter: 0 }, ...overrides });
    return { old, asked, now };
  }

  it('does not take a shared token already inside its safety margin: one newer token, then no store reads', async () => {
    // 10 s left: above the 5 s floor, inside the 12 s margin (10 % of 120 s).
    const { old, asked, now } = await lateReplica(110_000);
    const got = await client!.getToken();
    expect(got.accessToken).not.toBe(old.accessToken);
    expect(got.expiresAtMs).toBe(now + 120_000);
    expect(sim!.tokenRequestCount()).toBe(2);
    expect(asked.slice(1)).toEqual([now + 5_000, old.expiresAtMs + 1]); // the usual ask, then one for a newer token
    for (let i = 0; i < 50; i++) expect((await client!.getToken()).accessToken).toBe(got.accessToken);
    expect(asked).toHaveLength(3); // served from memory: no store read per call
    expect(sim!.tokenRequestCount()).toBe(2);
  });

  it('inside the margin while Maskinporten is down: the call fails with the fetch error, as without a store', async () => {
    const { asked } = await lateReplica(110_000, { transport: { maxAttempts: 1 } });
    sim!.inject({ kind: 'status', status: 503 }, { times: Infinity });
    for (let i = 0; i < 3; i++) await expect(client!.getToken()).rejects.toBeInstanceOf(EndpointUnavailableError);
    // Each call: the usual ask, the ask for a newer token, and one request to Maskinporten.
    expect(asked).toHaveLength(1 + 3 * 2);
    expect(sim!.tokenRequestCount()).toBe(1 + 3);
  });

  it('fetches on its own when the second ask returns nothing usable, once', async () => {
    sim = await startSim();
    const now = Date.now();
    const inMargin: StoredToken = { accessToken: 'shared-token', tokenType: 'Bearer', issuedAt: now - 110_000, expiresAt: now + 10_000, scope: 'test:scope' };
    const answers: unknown[] = [inMargin, { accessToken: 'x', expiresAt: 'soon' }];
    const store: TokenStore = { load: async () => answers.shift() as StoredToken };
    client = clientFor(sim, { cache: { store } });
    const got = await client.getToken();
    expect(got.accessToken).not.toBe('shared-token');
    expect(answers).toHaveLength(0);
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('takes a shared token outside its safety margin without asking twice', async () => {
    const { old, asked } = await lateReplica(100_000); // 20 s left: outside the 12 s margin
    expect((await client!.getToken()).accessToken).toBe(old.accessToken);
    expect(asked).toHaveLength(2);
    expect(sim!.tokenRequestCount()).toBe(1);
  });

  it('asks the store for a token newer than the one it replaces, so the fleet really renews', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    sim = await startSim({ tokenLifetimeSeconds: 20, clock });
    const shared = new Map<string, StoredToken>();
    const asked: number[] = [];
    const store = memoryStore(shared, asked);
    client = clientFor(sim, { clock, cache: { store, jitter: 0 } });
    const first = await client.getToken();
    now += 12_000; // past the refresh point (half of 20 s), outside the safety margin
    expect((await client.getToken()).accessToken).toBe(first.accessToken); // served at once...
    await expect.poll(() => sim!.tokenRequestCount()).toBe(2); // ...and renewed in the background
    expect(asked[1]).toBeGreaterThan(first.expiresAtMs);
    // The simulator counts the request before the client has stored its answer.
    await expect.poll(async () => (await client!.getToken()).accessToken).not.toBe(first.accessToken);
    expect(sim.tokenRequestCount()).toBe(2);
  });
});
