import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import util from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientClosedError, ConfigurationError, createMaskinportenClient, defineMaskinportenClient, fromEnv } from '@portvakt/core';
import type * as core from '@portvakt/core';
import type { DeclaredMaskinportenClient, MaskinportenClientOptions } from '@portvakt/core';
import { generateClientKey } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { CUSTOMER, ORG, key, manualClock, startSim, until } from './harness.js';

let sim: MaskinportenSimulator | undefined;
const declared: DeclaredMaskinportenClient[] = [];
afterEach(async () => {
  // Closing one declaration of a name closes the process's client of that name.
  await Promise.all(declared.splice(0).map((d) => d.close()));
  await sim?.close();
  sim = undefined;
});

let names = 0;
/** A name no other test uses: the registry is process-wide, as it is in an app. */
const freshName = () => `declared-test-${++names}`;

function declare(options: MaskinportenClientOptions | (() => MaskinportenClientOptions), name: string): DeclaredMaskinportenClient {
  const client = defineMaskinportenClient(options, { name });
  declared.push(client);
  return client;
}

const optionsFor = (s: MaskinportenSimulator, overrides: Partial<MaskinportenClientOptions> = {}): MaskinportenClientOptions => ({
  clientId: 'client-1',
  environment: s.environment(),
  key: { jwk: key.privateJwk },
  scope: 'test:scope',
  ...overrides,
});

/** The variables NAIS would inject, pointing at the simulator. */
const envFor = (s: MaskinportenSimulator): Record<string, string> => ({
  MASKINPORTEN_CLIENT_ID: 'client-1',
  MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk),
  MASKINPORTEN_SCOPES: 'test:scope',
  MASKINPORTEN_ISSUER: s.issuer,
  MASKINPORTEN_TOKEN_ENDPOINT: s.tokenEndpoint,
});

describe('declared at module level, validated at the first call', () => {
  it('declares with no variables set, and the first call fails with the error construction gives', async () => {
    const env: Record<string, string | undefined> = {};
    const client = declare(() => fromEnv(env), freshName());
    const expected = (() => {
      try {
        createMaskinportenClient(fromEnv(env));
      } catch (error) {
        return error as ConfigurationError;
      }
      throw new Error('construction should have failed');
    })();
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('MASKINPORTEN_CLIENT_ID');
    expect((error as ConfigurationError).message).toBe(expected.message);
    // The synchronous members throw it as construction would.
    expect(() => client.clientId).toThrow(expected.message);
    expect(() => client.setKey({ jwk: key.privateJwk })).toThrow(expected.message);
  });

  it('reads the options again after a failure: nothing failed is kept', async () => {
    sim = await startSim();
    const env: Record<string, string | undefined> = {};
    const client = declare(() => fromEnv(env), freshName());
    await expect(client.getToken()).rejects.toBeInstanceOf(ConfigurationError);
    Object.assign(env, envFor(sim));
    expect((await client.getToken()).scope).toBe('test:scope');
    expect(client.clientId).toBe('client-1');
    expect(client.issuer).toBe(sim.issuer);
    expect(client.certificate).toBeUndefined();
  });

  it('validates an invalid literal option at the first call, naming the field', async () => {
    const client = declare({ clientId: 'c', environment: 'test', key: { jwk: key.privateJwk }, grantLifetime: 500 }, freshName());
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('grantLifetime');
  });

  it('reads an options object at the first call, and owns what it read', async () => {
    sim = await startSim();
    const options = optionsFor(sim, { scope: 'a' });
    const client = declare(options, freshName());
    options.scope = 'b'; // before the first call: counts
    expect((await client.getToken()).scope).toBe('b');
    options.scope = 'c'; // after: the client has what it read
    options.clientId = 'someone-else';
    expect((await client.getToken()).scope).toBe('b');
    expect(client.clientId).toBe('client-1');
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('takes frozen options', async () => {
    sim = await startSim();
    const client = declare(Object.freeze(optionsFor(sim)), freshName());
    expect((await client.getToken()).scope).toBe('test:scope');
  });

  it('refuses an options function that returns a Promise, at the first call', async () => {
    const client = declare((async () => fromEnv({})) as never, freshName());
    await expect(client.getToken()).rejects.toThrow(/Invalid option "options": the options function returned a Promise/);
  });

  it('refuses what cannot be options or a name at once', () => {
    expect(() => defineMaskinportenClient(null as never)).toThrow(ConfigurationError);
    expect(() => defineMaskinportenClient('fromEnv' as never)).toThrow(/Invalid option "options"/);
    expect(() => defineMaskinportenClient(fromEnv, { name: '' })).toThrow(/Invalid option "name"/);
    expect(() => defineMaskinportenClient(fromEnv, { name: 'has space' })).toThrow(/Invalid option "name"/);
    expect(() => defineMaskinportenClient(fromEnv, null as never)).toThrow(/Invalid option "settings"/);
  });
});

describe('one client per name in the process', () => {
  it('shares one client, and one token request, between declarations of a name', async () => {
    sim = await startSim();
    const name = freshName();
    const env = envFor(sim);
    const routeHandler = declare(() => fromEnv(env), name);
    const serverComponent = declare(() => fromEnv(env), name);
    const [a, b] = await Promise.all([routeHandler.getToken(), serverComponent.getToken()]);
    expect(a).toBe(b);
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('shares it with a declaration in another copy of the package (a Next.js layer, a dev reload)', async () => {
    sim = await startSim();
    const name = freshName();
    const env = envFor(sim);
    const first = declare(() => fromEnv(env), name);
    const token = await first.getToken();
    vi.resetModules();
    const copy: typeof core = await import('@portvakt/core');
    expect(copy.defineMaskinportenClient).not.toBe(defineMaskinportenClient); // really another copy
    const reloaded = copy.defineMaskinportenClient(() => copy.fromEnv(env), { name });
    declared.push(reloaded);
    expect(await reloaded.getToken()).toBe(token);
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('refuses a second declaration of a name with other options, naming what differs and no value', async () => {
    sim = await startSim();
    const name = freshName();
    const skatt = declare(optionsFor(sim, { scope: 'a' }), name);
    const token = await skatt.getToken();
    const nav = declare(optionsFor(sim, { scope: 'b', key: { jwk: { ...key.privateJwk, kid: 'other' } } }), name);
    const error = await nav.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('name');
    expect((error as ConfigurationError).message).toContain(`named "${name}" already exists`);
    expect((error as ConfigurationError).message).toContain('(key.jwk, scope differ)');
    expect((error as ConfigurationError).message).not.toContain(String(key.privateJwk.d));
    // The first one is untouched, and the second works under its own name.
    expect(await skatt.getToken()).toBe(token);
    const own = declare(optionsFor(sim, { scope: 'b' }), freshName());
    expect((await own.getToken()).scope).toBe('b');
    expect(sim.tokenRequestCount()).toBe(2);
  });

  it('compares functions by kind, not identity: each module copy makes its own', async () => {
    sim = await startSim();
    const name = freshName();
    const a = declare(optionsFor(sim, { clock: { now: () => Date.now() } }), name);
    const b = declare(optionsFor(sim, { clock: { now: () => Date.now() } }), name);
    expect(await a.getToken()).toBe(await b.getToken());
    const c = declare(optionsFor(sim), name);
    await expect(c.getToken()).rejects.toThrow('(clock.now differ)');
  });
});

describe('what two declarations of a name are compared by: what the client uses', () => {
  /** A claim of a token the simulator issued. */
  const claimsOf = (token: { accessToken: string }): Record<string, unknown> => JSON.parse(Buffer.from(token.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  const systemUserOrg = (token: { accessToken: string }) => (claimsOf(token).authorization_details as { systemuser_org: { ID: string } }[] | undefined)?.[0]?.systemuser_org.ID;
  const refusal = async (client: DeclaredMaskinportenClient) => {
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('name');
    return (error as ConfigurationError).message;
  };

  it('tells two customers apart when the system user is a class instance (a tenant record of the app)', async () => {
    sim = await startSim();
    class Customer {
      readonly orgno: string;
      constructor(orgno: string) {
        this.orgno = orgno;
      }
    }
    const name = freshName();
    const forA = declare(optionsFor(sim, { defaults: { systemUser: new Customer(ORG) } }), name);
    const forB = declare(optionsFor(sim, { defaults: { systemUser: new Customer(CUSTOMER) } }), name);
    expect(systemUserOrg(await forA.getToken())).toBe(`0192:${ORG}`);
    const message = await refusal(forB);
    expect(message).toContain('(defaults.systemUser differ)');
    expect(message).not.toContain(CUSTOMER);
    expect(message).not.toContain(ORG);
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('tells two options objects apart when they are class instances', async () => {
    sim = await startSim();
    class Options {
      constructor(values: MaskinportenClientOptions) {
        Object.assign(this, values);
      }
    }
    const name = freshName();
    const first = declare(new Options(optionsFor(sim)) as MaskinportenClientOptions, name);
    const second = declare(new Options(optionsFor(sim, { clientId: 'client-2', scope: 'a' })) as MaskinportenClientOptions, name);
    await first.getToken();
    expect(await refusal(second)).toContain('(clientId, scope differ)');
  });

  it('sees the defaults a Proxy hides from enumeration, because the client would use them', async () => {
    sim = await startSim();
    const name = freshName();
    const plain = declare(optionsFor(sim, { scope: 'a' }), name);
    const target = optionsFor(sim, { scope: 'a', defaults: { consumerOrg: CUSTOMER } });
    const hiding = new Proxy(target, { ownKeys: (t) => Reflect.ownKeys(t).filter((k) => k !== 'defaults') });
    const proxied = declare(hiding, name);
    expect(claimsOf(await plain.getToken()).consumer_org).toBeUndefined();
    expect(await refusal(proxied)).toContain('(defaults.consumerOrg differ)');
  });

  it('reads a getter once: the client uses the answer that was compared', async () => {
    sim = await startSim();
    const name = freshName();
    let reads = 0;
    const base = optionsFor(sim, { scope: 'a' });
    // Answers "no defaults" the first time, a customer after that.
    const shifting = Object.defineProperty({ ...base }, 'defaults', { enumerable: true, get: () => (reads++ === 0 ? undefined : { consumerOrg: CUSTOMER }) });
    const first = declare(shifting, name);
    const second = declare(base, name); // no defaults: the same configuration as what the first read
    const token = await first.getToken();
    expect(await second.getToken()).toBe(token);
    expect(claimsOf(token).consumer_org).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('compares the normalised configuration: one scope and one key written two ways are one client', async () => {
    sim = await startSim();
    const name = freshName();
    const a = declare(optionsFor(sim, { scope: 'a test:scope', key: { jwk: key.privateJwk } }), name);
    const b = declare(optionsFor(sim, { scope: ['test:scope', 'a', 'a'], key: { jwk: JSON.stringify(key.privateJwk) } }), name);
    expect(await b.getToken()).toBe(await a.getToken());
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('tells two keys with one kid apart by their public key, naming no key material', async () => {
    sim = await startSim();
    const other = generateClientKey({ kid: key.kid });
    const name = freshName();
    const a = declare(optionsFor(sim), name);
    const b = declare(optionsFor(sim, { key: { jwk: other.privateJwk } }), name);
    await a.getToken();
    const message = await refusal(b);
    expect(message).toContain('(key.jwk differ)');
    for (const secret of [key.privateJwk.d, other.privateJwk.d, other.privateJwk.n]) expect(message).not.toContain(String(secret));
  });

  it('a followed key file is the same client after a rotation written there; a file read once is not', async () => {
    sim = await startSim();
    const next = generateClientKey({ kid: 'rotated-key' });
    const dir = mkdtempSync(join(tmpdir(), 'portvakt-declared-'));
    try {
      const file = join(dir, 'key.json');
      writeFileSync(file, JSON.stringify(key.privateJwk));
      const quiet = { watch: false, pollInterval: 3_600_000 };
      const followed = freshName();
      const readOnce = freshName();
      const a = declare(optionsFor(sim, { key: { file, follow: quiet } }), followed);
      const c = declare(optionsFor(sim, { key: { file, follow: false } }), readOnce);
      const token = await a.getToken();
      await c.getToken();
      writeFileSync(file, JSON.stringify(next.privateJwk)); // the key is rotated in its file
      const b = declare(optionsFor(sim, { key: { file, follow: quiet } }), followed);
      expect(await b.getToken()).toBe(token);
      const d = declare(optionsFor(sim, { key: { file, follow: false } }), readOnce);
      expect(await refusal(d)).toContain('(key.file differ)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps no object of the caller: the fingerprint is digests of option paths', async () => {
    sim = await startSim();
    const name = freshName();
    const systemUser = { orgno: ORG };
    const client = declare(optionsFor(sim, { defaults: { systemUser } }), name);
    await client.getToken();
    systemUser.orgno = CUSTOMER; // the app reuses its object for the next customer
    expect(systemUserOrg(await client.getToken({ scope: 'a' }))).toBe(`0192:${ORG}`);
    const entry = (globalThis as unknown as Record<symbol, Map<string, { fingerprint: Map<string, string> }>>)[Symbol.for('@portvakt/core:declared-clients@1')]!.get(name)!;
    for (const [path, value] of entry.fingerprint) {
      expect(path).toMatch(/^[\w.]+$/);
      expect(value).toMatch(/^[\w-]{43}$/);
    }
  });
});

describe('close, events and what it shows', () => {
  it('close() ends the shared client; the next call starts a new one with a fresh token', async () => {
    sim = await startSim();
    const name = freshName();
    const a = declare(optionsFor(sim), name);
    const b = declare(optionsFor(sim), name);
    const first = await a.getToken();
    expect(await b.getToken()).toBe(first);
    sim.inject({ kind: 'delay', ms: 2000 });
    const pending = b.getToken({ scope: 'a' });
    await until(() => sim!.tokenRequestCount() === 2, 'the second request to reach Maskinporten');
    await a.close();
    await expect(pending).rejects.toBeInstanceOf(ClientClosedError);
    const fresh = await b.getToken();
    expect(fresh.accessToken).not.toBe(first.accessToken);
    expect(await a.getToken()).toBe(fresh);
    await a.close();
    await a.close(); // twice is fine
  });

  it('invalidate() on a declaration that never created a client drops nothing and creates nothing', async () => {
    const client = declare(() => {
      throw new Error('must not be read');
    }, freshName());
    expect(client.invalidate('some-token')).toBe(false);
    expect(JSON.stringify(client)).toBe(`{"name":"${client.name}","created":false}`);
  });

  it('invalidate() drops the shared token, so the next call fetches a new one', async () => {
    sim = await startSim();
    const name = freshName();
    const a = declare(optionsFor(sim), name);
    const b = declare(optionsFor(sim), name);
    const token = await a.getToken();
    expect(b.invalidate(token)).toBe(true);
    expect((await a.getToken()).accessToken).not.toBe(token.accessToken);
    expect(sim.tokenRequestCount()).toBe(2);
  });

  it('passes the client\'s events to listeners added before and after it was created, and off() removes them', async () => {
    const clock = manualClock();
    sim = await startSim({ clock });
    const client = declare(optionsFor(sim, { clock, transport: { maxAttempts: 1 } }), freshName());
    const before: string[] = [];
    const after: string[] = [];
    const removed: string[] = [];
    const remove = (e: { code: string }) => removed.push(e.code);
    client.on('refreshError', (e) => before.push(e.code));
    client.on('refreshError', remove);
    const token = await client.getToken();
    client.on('refreshError', (e) => after.push(e.code));
    client.off('refreshError', remove);
    sim.inject({ kind: 'status', status: 503 }, { times: Infinity });
    // Past the latest refresh point (60 s ± 10 % of the 120 s token: at most 72 s) and before the
    // safety margin: served, and refreshed in the background whatever the jitter drew.
    clock.set(token.issuedAtMs + 90_000);
    expect(await client.getToken()).toBe(token);
    await until(() => before.length > 0 && after.length > 0, 'the refresh error');
    expect(before[0]).toBe('ERR_PORTVAKT_ENDPOINT_UNAVAILABLE');
    expect(after[0]).toBe('ERR_PORTVAKT_ENDPOINT_UNAVAILABLE');
    expect(removed).toEqual([]);
  });

  it('shows neither key nor token in util.inspect or JSON', async () => {
    sim = await startSim();
    const client = declare(optionsFor(sim), freshName());
    expect(util.inspect(client)).toBe(`DeclaredMaskinportenClient { name: '${client.name}', created: false }`);
    const token = await client.getToken();
    const shown = [util.inspect(client, { depth: Infinity, showHidden: true }), JSON.stringify(client), String(client)];
    for (const text of shown) {
      expect(text).not.toContain(token.accessToken);
      expect(text).not.toContain(String(key.privateJwk.d));
    }
    expect(shown[0]).toContain("clientId: 'client-1'");
    // The registry on globalThis is not enumerable: nothing that walks globalThis meets the clients.
    expect(util.inspect(globalThis, { depth: 2 })).not.toContain('client-1');
  });
});

describe('on an edge runtime', () => {
  it('the "edge-light" export condition gets a module that stops with what to do', async () => {
    const { exports } = (await import('../../package.json', { with: { type: 'json' } })).default;
    expect(exports['.']['edge-light']).toBe('./dist/cjs/edge-runtime.cjs');
    expect(exports['./internal']['edge-light']).toBe('./dist/cjs/edge-runtime.cjs');
    await expect(import('../../src/edge-runtime.cts')).rejects.toThrow("@portvakt/core needs the Node.js runtime, and this code was bundled for an edge runtime. In Next.js, remove `export const runtime = 'edge'`");
  });
});
