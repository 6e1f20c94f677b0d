// Key rotation without a restart: client.setKey().
import { afterEach, describe, expect, it } from 'vitest';
import { ClientClosedError, ConfigurationError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { createTestPki, generateClientKey } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { identityOf } from '../keys/harness.js';
import { ORG, clientFor, key, startSim, until } from './harness.js';

const next = generateClientKey({ kid: 'client-key-2' });
let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = undefined;
  sim = undefined;
});

describe('client.setKey()', () => {
  it('signs every new token with the new key; tokens of the old key are not served for it', async () => {
    sim = await startSim();
    sim.addClient({ clientId: 'client-1', orgno: ORG, scopes: ['test:scope'], jwks: [key.publicJwk, next.publicJwk] });
    client = clientFor(sim);
    const old = await client.getToken();
    expect(client.setKey({ jwk: next.privateJwk })).toBe(identityOf('client-key-2', next.publicJwk));
    const fresh = await client.getToken();
    expect(fresh.accessToken).not.toBe(old.accessToken);
    expect(sim.requests.map((r) => r.grant?.header.kid)).toEqual(['client-key', 'client-key-2']);
    expect(old.expiresIn()).toBeGreaterThan(0); // the old token stays valid for whoever holds it
  });

  it('a fetch in flight finishes with the key it started with, and a loop of calls sees no failure', async () => {
    sim = await startSim();
    sim.addClient({ clientId: 'client-1', orgno: ORG, scopes: ['test:scope'], jwks: [key.publicJwk, next.publicJwk] });
    client = clientFor(sim);
    sim.inject({ kind: 'delay', ms: 300 });
    const inFlight = client.getToken();
    await until(() => sim!.tokenRequestCount() === 1, 'the first request to arrive');
    client.setKey({ jwk: next.privateJwk });
    const results = await Promise.allSettled([inFlight, ...Array.from({ length: 50 }, () => client!.getToken())]);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(sim.requests.map((r) => r.grant?.header.kid)).toEqual(['client-key', 'client-key-2']);
  });

  it('validates the new key like the option, and keeps the old one when it is refused', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    expect(() => client!.setKey({ pem: 'not a key', kid: 'k' })).toThrow(ConfigurationError);
    const expired = createTestPki().issueEnterpriseCertificate({ orgno: ORG, notBefore: new Date(Date.now() - 9e8), notAfter: new Date(Date.now() - 8.64e7) });
    expect(() => client!.setKey({ certificateChainPem: expired.chainPem, privateKeyPem: expired.privateKeyPem })).toThrow(/expired/);
    await client.getToken();
    expect(sim.tokenRequestCount()).toBe(1);
    await client.close();
    expect(() => client!.setKey({ jwk: next.privateJwk })).toThrow(ClientClosedError);
  });
});
