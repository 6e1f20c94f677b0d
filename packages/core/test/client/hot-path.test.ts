// The cache hit's shortcuts, tested as callers treat the objects they pass: getToken({ scope })
// finds its slot by the scope string, never by the options object, so an object reused and
// changed between calls is read afresh; a slot kept for a scope never serves an entry the cache
// has let go (evicted, invalidated, of an old key, closed).
import { afterEach, describe, expect, it } from 'vitest';
import { ClientClosedError, ConfigurationError, createTexasTokenSource } from '@portvakt/core';
import type { GetTokenOptions, MaskinportenClient, TexasTokenSource } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { CUSTOMER, ORG, clientFor, key, startSim } from './harness.js';

let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
let texas: TexasTokenSource | undefined;
afterEach(async () => {
  await texas?.close();
  await client?.close();
  await sim?.close();
  client = texas = sim = undefined;
});

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { scope: string; consumer: { ID: string } };
const refusal = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('resolved'), (error: unknown) => error as ConfigurationError);

describe('options read by name, as the caller\'s code reads them', () => {
  it('a claim from a getter or a prototype is honoured: the token is for that customer', async () => {
    sim = await startSim();
    client = clientFor(sim);
    class Request {
      readonly scope = 'a';
      get consumerOrg(): string {
        return CUSTOMER;
      }
    }
    const own = await client.getToken({ scope: 'a' });
    const viaGetter = await client.getToken(new Request());
    const viaPrototype = await client.getToken(Object.create({ consumerOrg: CUSTOMER }, { scope: { value: 'a', enumerable: true } }) as GetTokenOptions);
    for (const token of [viaGetter, viaPrototype]) {
      expect(token.accessToken).not.toBe(own.accessToken);
      expect(claimsOf(token.accessToken).consumer.ID).toBe(`0192:${CUSTOMER}`);
    }
    expect(claimsOf(own.accessToken).consumer.ID).toBe(`0192:${ORG}`);
  });

  it('minValidity from a getter and a signal that is not enumerable are read, not skipped by the scope shortcut', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken({ scope: 'a' });
    class Demanding {
      readonly scope = 'a';
      get minValidity(): unknown {
        return 'soon';
      }
    }
    // Both would be a hit by the scope alone; read, each is refused with its field.
    expect((await refusal(client.getToken(new Demanding() as GetTokenOptions))).field).toBe('minValidity');
    const typed = Object.defineProperty({ scope: 'a' }, 'minValidity', { value: 'soon', enumerable: false });
    expect((await refusal(client.getToken(typed))).field).toBe('minValidity');
    // A scope not yet cached with an aborted signal: the call is aborted, nothing is fetched.
    const aborted = Object.defineProperty({ scope: 'b' }, 'signal', { value: AbortSignal.abort(), enumerable: false });
    const error = await client.getToken(aborted).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.name).toBe('AbortedError');
  });
});

describe('getToken({ scope }) with an options object the caller reuses', () => {
  it('a scope changed between calls gets the token of the new scope, and the old one is still a hit', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const options: GetTokenOptions = { scope: 'a' };
    const a = await client.getToken(options);
    options.scope = 'b';
    const b = await client.getToken(options);
    expect(claimsOf(a.accessToken).scope).toBe('a');
    expect(claimsOf(b.accessToken).scope).toBe('b');
    options.scope = 'a';
    expect(await client.getToken(options)).toBe(a);
    options.scope = 'b a';
    expect(claimsOf((await client.getToken(options)).accessToken).scope).toBe('a b');
    expect(sim.tokenRequestCount()).toBe(3);
  });

  it('a member added after a hit is read on the next call: a misspelt one refused, a claim honoured, minValidity read', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const options: Record<string, unknown> = { scope: 'a' };
    const own = await client.getToken(options);
    expect(await client.getToken(options)).toBe(own);
    options.consumer_org = CUSTOMER;
    const error = await refusal(client.getToken(options));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.field).toBe('consumer_org');
    delete options.consumer_org;
    options.consumerOrg = CUSTOMER;
    const customers = await client.getToken(options);
    expect(customers.accessToken).not.toBe(own.accessToken);
    expect(claimsOf(customers.accessToken).consumer.ID).toBe(`0192:${CUSTOMER}`);
    delete options.consumerOrg;
    expect(await client.getToken(options)).toBe(own);
    options.minValidity = 'soon';
    expect((await refusal(client.getToken(options))).field).toBe('minValidity');
    options.minValidity = 30;
    expect(await client.getToken(options)).toBe(own);
    expect(sim.tokenRequestCount()).toBe(2);
  });

  it('a scope that does not validate is refused every time, and nothing is remembered for it', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken({ scope: 'a' });
    for (let i = 0; i < 2; i++) {
      expect((await refusal(client.getToken({ scope: '  ' }))).field).toBe('scope');
      expect((await refusal(client.getToken({ scope: ['a', 7] as never }))).field).toBe('scope');
    }
    expect(sim.tokenRequestCount()).toBe(1);
  });

  it('takes a frozen options object, and one whose scope is a getter is read once per call', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const frozen = Object.freeze({ scope: 'a' });
    const a = await client.getToken(frozen);
    expect(await client.getToken(frozen)).toBe(a);
    let reads = 0;
    const scopes = ['a', 'b'];
    const changing = { get scope() { return scopes[reads++ % 2] as string; } };
    expect(claimsOf((await client.getToken(changing)).accessToken).scope).toBe('a');
    expect(claimsOf((await client.getToken(changing)).accessToken).scope).toBe('b');
    expect(reads).toBe(2);
  });
});

describe('a slot kept for a scope never serves what the cache let go', () => {
  it('evicted: with room for one token, alternating scopes fetch every time', async () => {
    sim = await startSim();
    client = clientFor(sim, { cache: { maxEntries: 1 } });
    for (const scope of ['a', 'b', 'a', 'b']) await client.getToken({ scope });
    expect(sim.tokenRequestCount()).toBe(4);
    expect(claimsOf((await client.getToken({ scope: 'b' })).accessToken).scope).toBe('b');
    expect(sim.tokenRequestCount()).toBe(4);
  });

  it('invalidated: the next call for the scope fetches a new token', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const first = await client.getToken({ scope: 'a' });
    expect(client.invalidate(first)).toBe(true);
    const second = await client.getToken({ scope: 'a' });
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(await client.getToken({ scope: 'a' })).toBe(second);
    expect(sim.tokenRequestCount()).toBe(2);
  });

  it('of the old key: after setKey() the scope gets a token signed with the new key', async () => {
    const next = generateClientKey({ kid: 'client-key-2' });
    sim = await startSim();
    sim.addClient({ clientId: 'client-1', orgno: ORG, scopes: ['a'], jwks: [key.publicJwk, next.publicJwk] });
    client = clientFor(sim);
    const old = await client.getToken({ scope: 'a' });
    client.setKey({ jwk: next.privateJwk });
    const fresh = await client.getToken({ scope: 'a' });
    expect(fresh.accessToken).not.toBe(old.accessToken);
    expect(sim.requests.map((r) => r.grant?.header.kid)).toEqual(['client-key', 'client-key-2']);
  });

  it('closed: the scope is refused with ClientClosedError', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken({ scope: 'a' });
    await client.close();
    await expect(client.getToken({ scope: 'a' })).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('the Texas source shares the shortcut', () => {
  it('a reused options object: a changed scope asks Texas for it, a misspelt member is refused', async () => {
    sim = await startMaskinportenSimulator({ texas: { client: { clientId: 'nais-app', orgno: ORG, scopes: ['nav:a', 'nav:b'] } } });
    texas = createTexasTokenSource({ endpoint: sim.texas!.tokenEndpoint, scope: 'nav:a' });
    const options: Record<string, unknown> = { scope: 'nav:a' };
    const a = await texas.getToken(options);
    expect(await texas.getToken(options)).toBe(a);
    options.scope = 'nav:b';
    expect(claimsOf((await texas.getToken(options)).accessToken).scope).toBe('nav:b');
    options.skip_cache = true;
    expect((await refusal(texas.getToken(options))).field).toBe('skip_cache');
    expect(sim.texas!.tokenRequestCount()).toBe(2);
  });
});
