// Skyporten's presets (docs/maskinporten-rules.md §5.9): an issuer without the trailing slash, an
// OpenID configuration document; no certificate is refused before Skyporten sees it (kind custom).
import { describe, expect, it } from 'vitest';
import { fromEnv, SKYPORTEN_ENVIRONMENTS } from '@portvakt/core';
import { generateClientKey } from '@portvakt/testing';
import { createEnvironmentSource, planVerifierEnvironment } from '../../src/environments/index.js';
import { ConfigurationError } from '../../src/errors.js';

function fieldAndMessage(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return { field: (error as ConfigurationError).field, message: (error as ConfigurationError).message };
  }
  throw new Error('expected a ConfigurationError');
}

describe('Skyporten presets', () => {
  it('has the issuers of Digdir\'s Skyporten page, without the trailing slash', () => {
    expect(SKYPORTEN_ENVIRONMENTS).toEqual({
      test: {
        issuer: 'https://test.sky.maskinporten.no',
        tokenEndpoint: 'https://test.sky.maskinporten.no/token',
        jwksUri: 'https://test.sky.maskinporten.no/jwk',
        metadataUrl: 'https://test.sky.maskinporten.no/.well-known/openid-configuration',
      },
      prod: {
        issuer: 'https://sky.maskinporten.no',
        tokenEndpoint: 'https://sky.maskinporten.no/token',
        jwksUri: 'https://sky.maskinporten.no/jwk',
        metadataUrl: 'https://sky.maskinporten.no/.well-known/openid-configuration',
      },
    });
    expect(Object.isFrozen(SKYPORTEN_ENVIRONMENTS)).toBe(true);
    expect(Object.isFrozen(SKYPORTEN_ENVIRONMENTS.prod)).toBe(true);
  });

  it.each([
    ['skyporten-test', 'test'],
    ['skyporten-prod', 'prod'],
  ] as const)('%s resolves to the slash-less issuer of Skyporten %s without any network call', async (name, which) => {
    let calls = 0;
    const counting = ((input: string | URL | Request, init?: RequestInit) => {
      calls++;
      return fetch(input, init);
    }) as typeof fetch;
    const source = createEnvironmentSource(name, { fetch: counting, clock: Date });
    const endpoints = SKYPORTEN_ENVIRONMENTS[which];
    expect(source.issuer).toBe(endpoints.issuer);
    expect(source.issuer?.endsWith('/')).toBe(false);
    await expect(source.resolve()).resolves.toEqual({ issuer: endpoints.issuer, tokenEndpoint: endpoints.tokenEndpoint, kind: 'custom' });
    expect(calls).toBe(0);
  });

  it('gives the verifier Skyporten\'s key set', () => {
    expect(planVerifierEnvironment('skyporten-test')).toEqual({ form: 'fixed', issuer: 'https://test.sky.maskinporten.no', kind: 'custom', jwksUri: 'https://test.sky.maskinporten.no/jwk' });
  });

  it('refuses a Skyporten issuer with the trailing slash (Skyporten answers "Invalid JWT claim aud"), naming the exact issuer', () => {
    const { field, message } = fieldAndMessage(() => createEnvironmentSource({ issuer: 'https://test.sky.maskinporten.no/', tokenEndpoint: 'https://test.sky.maskinporten.no/token' }, { fetch, clock: Date }));
    expect(field).toBe('environment.issuer');
    expect(message).toMatch(/exactly "https:\/\/test\.sky\.maskinporten\.no" \(NO trailing slash/);
    expect(fieldAndMessage(() => createEnvironmentSource({ issuer: 'https://sky.maskinporten.no/token', tokenEndpoint: 'https://sky.maskinporten.no/token' }, { fetch, clock: Date })).message).toMatch(/exactly "https:\/\/sky\.maskinporten\.no"/);
  });

  it('accepts the exact Skyporten issuer explicitly', async () => {
    const source = createEnvironmentSource({ issuer: 'https://sky.maskinporten.no', tokenEndpoint: 'https://sky.maskinporten.no/token' }, { fetch, clock: Date });
    expect((await source.resolve()).issuer).toBe('https://sky.maskinporten.no');
  });

  it.each([
    ['skyporten', /'skyporten-test' and 'skyporten-prod'/],
    ['sky-test', /'skyporten-test' and 'skyporten-prod'/],
    ['Skyporten-Test', /lower case/],
  ])('hints at the preset names for %s', (value, message) => {
    expect(fieldAndMessage(() => createEnvironmentSource(value, { fetch, clock: Date })).message).toMatch(message);
  });

  it('is what MASKINPORTEN_ENVIRONMENT=skyporten-test gives fromEnv(), and a typo names the four presets', () => {
    const key = generateClientKey({ kid: 'sky-kid' });
    const env = { MASKINPORTEN_CLIENT_ID: 'sky-client', MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk), MASKINPORTEN_ENVIRONMENT: 'skyporten-test' };
    expect(fromEnv(env).environment).toBe('skyporten-test');
    const { field, message } = fieldAndMessage(() => fromEnv({ ...env, MASKINPORTEN_ENVIRONMENT: 'sky' }));
    expect(field).toBe('MASKINPORTEN_ENVIRONMENT');
    expect(message).toMatch(/"skyporten-test" or "skyporten-prod"/);
  });
});
