import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, PortvaktError, createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClientOptions } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { key, startSim } from './client/harness.js';

let sim: MaskinportenSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

const valid = (): MaskinportenClientOptions => ({
  clientId: 'client-1',
  environment: { issuer: sim.issuer, tokenEndpoint: sim.tokenEndpoint },
  key: { jwk: key.privateJwk },
  scope: 'test:scope',
});

type Mutation = (o: Record<string, unknown>) => void;
const rows: [string, Mutation, string][] = [
  ['options not an object', (o) => { for (const k of Object.keys(o)) delete o[k]; o.__notObject = true; }, '__notObject'],
  ['unknown top-level option (typo)', (o) => { o.scopes = ['a']; }, 'scopes'],
  ['missing clientId', (o) => { delete o.clientId; }, 'clientId'],
  ['empty clientId', (o) => { o.clientId = ''; }, 'clientId'],
  ['clientId with spaces', (o) => { o.clientId = 'my client'; }, 'clientId'],
  ['clientId a number', (o) => { o.clientId = 42; }, 'clientId'],
  ['missing environment', (o) => { delete o.environment; }, 'environment'],
  ['unknown environment preset', (o) => { o.environment = 'staging'; }, 'environment'],
  ['http issuer on a public host', (o) => { o.environment = { issuer: 'http://maskinporten.no/', tokenEndpoint: 'https://maskinporten.no/token' }; }, 'environment.issuer'],
  ['http token endpoint on a public host', (o) => { o.environment = { issuer: 'https://maskinporten.no/', tokenEndpoint: 'http://maskinporten.no/token' }; }, 'environment.tokenEndpoint'],
  ['token endpoint not a URL', (o) => { o.environment = { issuer: 'https://maskinporten.no/', tokenEndpoint: 'token' }; }, 'environment.tokenEndpoint'],
  ['metadata URL over http', (o) => { o.environment = { metadataUrl: 'http://example.com/.well-known/oauth-authorization-server' }; }, 'environment.metadataUrl'],
  ['metadata TTL negative', (o) => { o.environment = { metadataUrl: sim.metadataUrl, metadataTtl: -1 }; }, 'environment.metadataTtl'],
  ['missing key', (o) => { delete o.key; }, 'key'],
  ['key of an unknown form', (o) => { o.key = { secret: 'x' }; }, 'key'],
  ['JWK not JSON', (o) => { o.key = { jwk: '{not json' }; }, 'key.jwk'],
  ['PEM without kid', (o) => { o.key = { pem: key.privateKeyPem }; }, 'key.kid'],
  ['PEM that is not PEM', (o) => { o.key = { pem: 'abc', kid: 'k' }; }, 'key.pem'],
  ['PKCS#12 as a path string', (o) => { o.key = { pkcs12: './cert.p12', passphrase: 'x' }; }, 'key.pkcs12'],
  ['PKCS#12 without passphrase', (o) => { o.key = { pkcs12: Buffer.from('x') }; }, 'key.passphrase'],
  ['custom signer without sign()', (o) => { o.key = { signer: { alg: 'RS256', kid: 'k' } }; }, 'key.signer'],
  ['algorithm ES256', (o) => { o.algorithm = 'ES256'; }, 'algorithm'],
  ['scope a number', (o) => { o.scope = 7; }, 'scope'],
  ['scope blank', (o) => { o.scope = '   '; }, 'scope'],
  ['defaults.consumerOrg bad check digit', (o) => { o.defaults = { consumerOrg: '910753615' }; }, 'defaults.consumerOrg'],
  ['defaults.pid too short', (o) => { o.defaults = { pid: '123' }; }, 'defaults.pid'],
  ['defaults with scope inside', (o) => { o.defaults = { scope: 'x' }; }, 'defaults.scope'],
  ['defaults.systemUser.orgno invalid', (o) => { o.defaults = { systemUser: { orgno: '1' } }; }, 'defaults.systemUser.orgno'],
  ['grantLifetime above 120', (o) => { o.grantLifetime = 300; }, 'grantLifetime'],
  ['grantLifetime zero', (o) => { o.grantLifetime = 0; }, 'grantLifetime'],
  ['cache not an object', (o) => { o.cache = 5; }, 'cache'],
  ['cache.maxEntries zero', (o) => { o.cache = { maxEntries: 0 }; }, 'cache.maxEntries'],
  ['cache.refreshAhead above 1', (o) => { o.cache = { refreshAhead: 2 }; }, 'cache.refreshAhead'],
  ['cache.jitter negative', (o) => { o.cache = { jitter: -0.1 }; }, 'cache.jitter'],
  ['cache.minMargin a string', (o) => { o.cache = { minMargin: '5' }; }, 'cache.minMargin'],
  ['cache.store without load()', (o) => { o.cache = { store: {} }; }, 'cache.store'],
  ['cache unknown key', (o) => { o.cache = { ttl: 5 }; }, 'cache.ttl'],
  ['transport.attemptTimeout negative', (o) => { o.transport = { attemptTimeout: -1 }; }, 'transport.attemptTimeout'],
  ['transport.maxAttempts 0', (o) => { o.transport = { maxAttempts: 0 }; }, 'transport.maxAttempts'],
  ['transport.fetch not a function', (o) => { o.transport = { fetch: 'undici' }; }, 'transport.fetch'],
  ['clock without now()', (o) => { o.clock = {}; }, 'clock'],
  ['certificateExpiryWarningDays negative', (o) => { o.certificateExpiryWarningDays = -1; }, 'certificateExpiryWarningDays'],
];

describe('invalid configurations fail at construction, naming the field', () => {
  it(`covers at least 30 cases (${rows.length})`, () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  it.each(rows)('%s', (_name, mutate, field) => {
    const before = sim.requests.length;
    const options = valid() as unknown as Record<string, unknown>;
    mutate(options);
    const input = options.__notObject ? 'not an object' : options;
    let error: unknown;
    try {
      createMaskinportenClient(input as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PortvaktError);
    if (field === '__notObject') {
      expect((error as ConfigurationError).field).toBe('options');
    } else {
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).field).toBe(field);
      expect((error as Error).message).toContain(field);
    }
    expect(sim.requests.length).toBe(before); // no network call was made
  });

  it('accepts the valid form', async () => {
    const client = createMaskinportenClient(valid());
    expect((await client.getToken()).tokenType).toBe('Bearer');
    await client.close();
  });
});
