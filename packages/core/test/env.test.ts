import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { fromEnv } from '@portvakt/core';
import { generateClientKey } from '@portvakt/testing';
import { ConfigurationError } from '../src/errors.js';

// generateClientKey never exports a KeyObject the generator made (that can deadlock Node 20.20).
const clientKey = generateClientKey({ kid: 'my-kid' });
const jwk = { ...clientKey.privateJwk, use: 'sig' };
const pem = clientKey.privateKeyPem;
const dir = mkdtempSync(join(tmpdir(), 'portvakt-env-'));
const pemPath = join(dir, 'key.pem');
const p12Path = join(dir, 'cert.p12');
const chainPath = join(dir, 'chain.pem');
// fromEnv passes PKCS#12 bytes on unparsed (the key loader parses them), so any bytes show the round trip.
const p12Bytes = Buffer.from([0x30, 0x82, 0x01, 0x02, 0xde, 0xad, 0xbe, 0xef]);
writeFileSync(pemPath, pem);
writeFileSync(p12Path, p12Bytes);
writeFileSync(chainPath, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nais = {
  MASKINPORTEN_CLIENT_ID: '238259d7-f0ab-4bd5-b253-0f0159375096',
  MASKINPORTEN_CLIENT_JWK: JSON.stringify(jwk),
  MASKINPORTEN_SCOPES: 'nav:aareg/v1 skatteetaten:testscope',
  MASKINPORTEN_WELL_KNOWN_URL: 'https://test.maskinporten.no/.well-known/oauth-authorization-server',
  MASKINPORTEN_ISSUER: 'https://test.maskinporten.no/',
  MASKINPORTEN_TOKEN_ENDPOINT: 'https://test.maskinporten.no/token',
};

function failure(env: Record<string, string | undefined>): ConfigurationError {
  try {
    fromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected fromEnv to throw');
}

const base = { MASKINPORTEN_CLIENT_ID: 'client-1', MASKINPORTEN_ENVIRONMENT: 'test' };

describe('fromEnv with the NAIS variables', () => {
  it('reads client id, JWK, scopes and the well-known URL', () => {
    expect(fromEnv(nais)).toEqual({
      clientId: '238259d7-f0ab-4bd5-b253-0f0159375096',
      environment: { metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server' },
      key: { jwk },
      scope: ['nav:aareg/v1', 'skatteetaten:testscope'],
    });
  });

  it('reads process.env by default', () => {
    for (const [name, value] of Object.entries(nais)) vi.stubEnv(name, value);
    expect(fromEnv().clientId).toBe(nais.MASKINPORTEN_CLIENT_ID);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('splits scopes on spaces, commas and newlines and drops duplicates', () => {
    expect(fromEnv({ ...nais, MASKINPORTEN_SCOPES: ' a:b, c:d,,\na:b\te:f ' }).scope).toEqual(['a:b', 'c:d', 'e:f']);
    expect(fromEnv({ ...nais, MASKINPORTEN_SCOPES: ' , ' }).scope).toBeUndefined();
    expect('scope' in fromEnv({ ...nais, MASKINPORTEN_SCOPES: undefined })).toBe(false);
  });

  it('takes MASKINPORTEN_KID for a JWK without a kid, and refuses one that is not the JWK\'s own', () => {
    const { kid: _kid, ...withoutKid } = jwk;
    expect(fromEnv({ ...nais, MASKINPORTEN_CLIENT_JWK: JSON.stringify(withoutKid), MASKINPORTEN_KID: 'other' }).key).toEqual({ jwk: withoutKid, kid: 'other' });
    expect(fromEnv({ ...nais, MASKINPORTEN_KID: 'my-kid' }).key).toEqual({ jwk, kid: 'my-kid' });
    const refused = failure({ ...nais, MASKINPORTEN_KID: 'other' });
    expect(refused.field).toBe('MASKINPORTEN_KID');
    expect(refused.message).toMatch(/"other" but the JWK's own kid is "my-kid".*Drop MASKINPORTEN_KID, or correct it/);
  });
});

describe('environment precedence', () => {
  it('well-known URL beats issuer + token endpoint beats the preset', () => {
    expect(fromEnv({ ...nais, MASKINPORTEN_ENVIRONMENT: 'test' }).environment).toEqual({ metadataUrl: nais.MASKINPORTEN_WELL_KNOWN_URL });
    expect(fromEnv({ ...nais, MASKINPORTEN_WELL_KNOWN_URL: undefined, MASKINPORTEN_ENVIRONMENT: 'test' }).environment).toEqual({
      issuer: 'https://test.maskinporten.no/',
      tokenEndpoint: 'https://test.maskinporten.no/token',
    });
    expect(fromEnv({ MASKINPORTEN_CLIENT_ID: 'c', MASKINPORTEN_CLIENT_JWK: nais.MASKINPORTEN_CLIENT_JWK, MASKINPORTEN_ENVIRONMENT: 'prod' }).environment).toBe('prod');
  });

  it('keeps a simulator issuer verbatim', () => {
    const env = { ...base, MASKINPORTEN_CLIENT_JWK: nais.MASKINPORTEN_CLIENT_JWK, MASKINPORTEN_ENVIRONMENT: undefined, MASKINPORTEN_ISSUER: 'http://127.0.0.1:7000', MASKINPORTEN_TOKEN_ENDPOINT: 'http://127.0.0.1:7000/token' };
    expect(fromEnv(env).environment).toEqual({ issuer: 'http://127.0.0.1:7000', tokenEndpoint: 'http://127.0.0.1:7000/token' });
  });

  it.each([
    [{ MASKINPORTEN_ENVIRONMENT: 'prod' }, 'MASKINPORTEN_ENVIRONMENT', /other environment's metadata URL/],
    [{ MASKINPORTEN_WELL_KNOWN_URL: undefined, MASKINPORTEN_ENVIRONMENT: 'prod' }, 'MASKINPORTEN_ENVIRONMENT', /other environment's issuer/],
    [{ MASKINPORTEN_WELL_KNOWN_URL: undefined, MASKINPORTEN_TOKEN_ENDPOINT: undefined }, 'MASKINPORTEN_TOKEN_ENDPOINT', /is required with MASKINPORTEN_ISSUER/],
    [{ MASKINPORTEN_WELL_KNOWN_URL: undefined, MASKINPORTEN_ISSUER: '' }, 'MASKINPORTEN_ISSUER', /is required with MASKINPORTEN_TOKEN_ENDPOINT/],
    [{ MASKINPORTEN_WELL_KNOWN_URL: undefined, MASKINPORTEN_ISSUER: undefined, MASKINPORTEN_TOKEN_ENDPOINT: undefined }, 'MASKINPORTEN_WELL_KNOWN_URL', /no environment is configured/],
    [{ MASKINPORTEN_WELL_KNOWN_URL: 'http://test.maskinporten.no/.well-known/oauth-authorization-server' }, 'MASKINPORTEN_WELL_KNOWN_URL', /https/],
    [{ MASKINPORTEN_WELL_KNOWN_URL: undefined, MASKINPORTEN_ISSUER: 'https://test.maskinporten.no' }, 'MASKINPORTEN_ISSUER', /trailing slash/],
    [{ MASKINPORTEN_WELL_KNOWN_URL: undefined, MASKINPORTEN_TOKEN_ENDPOINT: 'test.maskinporten.no/token' }, 'MASKINPORTEN_TOKEN_ENDPOINT', /not an absolute URL/],
    [{ MASKINPORTEN_ENVIRONMENT: 'staging' }, 'MASKINPORTEN_ENVIRONMENT', /"test" or "prod"/],
  ])('%j -> %s', (overrides, field, message) => {
    const error = failure({ ...nais, ...overrides });
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});

describe('keys', () => {
  it('reads a PEM key from text, converting literal \\n', () => {
    const escaped = pem.replace(/\n/g, '\\n');
    expect(fromEnv({ ...base, MASKINPORTEN_KID: 'k1', MASKINPORTEN_PRIVATE_KEY: escaped }).key).toEqual({ pem, kid: 'k1', passphrase: undefined });
    expect(fromEnv({ ...base, MASKINPORTEN_KID: 'k1', MASKINPORTEN_PRIVATE_KEY: pem, MASKINPORTEN_PRIVATE_KEY_PASSPHRASE: 'pw' }).key).toEqual({ pem, kid: 'k1', passphrase: 'pw' });
  });

  it('gives a PEM key file as a { file } key, which the client follows', () => {
    expect(fromEnv({ ...base, MASKINPORTEN_KID: 'k1', MASKINPORTEN_PRIVATE_KEY_PATH: pemPath }).key).toEqual({ file: pemPath, kid: 'k1' });
    expect(fromEnv({ ...base, MASKINPORTEN_KID: 'k1', MASKINPORTEN_PRIVATE_KEY_PATH: ` ${pemPath} `, MASKINPORTEN_PRIVATE_KEY_PASSPHRASE: 'pw' }).key).toEqual({ file: pemPath, kid: 'k1', passphrase: 'pw' });
  });

  it('gives a JWK file (MASKINPORTEN_CLIENT_JWK_PATH, NAIS\'s mounted secret) as a { file } key, over MASKINPORTEN_CLIENT_JWK', () => {
    const jwkPath = join(dir, 'MASKINPORTEN_CLIENT_JWK');
    writeFileSync(jwkPath, JSON.stringify(jwk));
    expect(fromEnv({ ...base, MASKINPORTEN_CLIENT_JWK_PATH: jwkPath }).key).toEqual({ file: jwkPath });
    // NAIS sets both: the file wins, since it follows a new key.
    expect(fromEnv({ ...base, MASKINPORTEN_CLIENT_JWK: JSON.stringify(jwk), MASKINPORTEN_CLIENT_JWK_PATH: jwkPath, MASKINPORTEN_KID: 'my-kid' }).key).toEqual({ file: jwkPath, kid: 'my-kid' });
    // A kid the JWK in the file contradicts is refused now, naming the variable.
    expect(failure({ ...base, MASKINPORTEN_CLIENT_JWK_PATH: jwkPath, MASKINPORTEN_KID: 'k9' })).toMatchObject({ field: 'MASKINPORTEN_KID', message: expect.stringMatching(/"k9" but the JWK's own kid is "my-kid"/) });
    expect(failure({ ...base, MASKINPORTEN_CLIENT_JWK_PATH: join(dir, 'nope') }).field).toBe('MASKINPORTEN_CLIENT_JWK_PATH');
    expect(failure({ ...base, MASKINPORTEN_CLIENT_JWK_PATH: jwkPath, MASKINPORTEN_PKCS12_PATH: p12Path }).message).toMatch(/one key only/);
  });

  it('reads a PKCS#12 bundle from a file or base64, with an empty passphrase allowed', () => {
    expect(fromEnv({ ...base, MASKINPORTEN_PKCS12_PATH: p12Path, MASKINPORTEN_PKCS12_PASSPHRASE: 'secret' }).key).toEqual({ file: p12Path, passphrase: 'secret' });
    const wrapped = p12Bytes.toString('base64').replace(/(.{4})/g, '$1\n');
    expect(fromEnv({ ...base, MASKINPORTEN_PKCS12_BASE64: wrapped, MASKINPORTEN_PKCS12_PASSPHRASE: '' }).key).toEqual({ pkcs12: new Uint8Array(p12Bytes), passphrase: '' });
  });

  it('takes MASKINPORTEN_KID with a certificate registered in self-service (the grant then carries kid, not x5c)', () => {
    expect(fromEnv({ ...base, MASKINPORTEN_PKCS12_PATH: p12Path, MASKINPORTEN_PKCS12_PASSPHRASE: 'secret', MASKINPORTEN_KID: 'cert-kid' }).key).toEqual({ file: p12Path, passphrase: 'secret', kid: 'cert-kid' });
    expect(fromEnv({ ...base, MASKINPORTEN_CERTIFICATE_PATH: chainPath, MASKINPORTEN_PRIVATE_KEY_PATH: pemPath, MASKINPORTEN_KID: 'cert-kid' }).key).toEqual({ file: pemPath, certificateFile: chainPath, kid: 'cert-kid' });
  });

  it('reads a certificate chain with its private key: two files as a { file, certificateFile } key, a mix of text and a file read once', () => {
    expect(fromEnv({ ...base, MASKINPORTEN_CERTIFICATE_PATH: chainPath, MASKINPORTEN_PRIVATE_KEY_PATH: pemPath, MASKINPORTEN_PRIVATE_KEY_PASSPHRASE: 'pw' }).key).toEqual({ file: pemPath, certificateFile: chainPath, passphrase: 'pw' });
    expect(fromEnv({ ...base, MASKINPORTEN_CERTIFICATE_PATH: chainPath, MASKINPORTEN_PRIVATE_KEY: pem, MASKINPORTEN_PRIVATE_KEY_PASSPHRASE: 'pw' }).key).toEqual({
      certificateChainPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      privateKeyPem: pem,
      passphrase: 'pw',
    });
  });

  it.each([
    [{}, 'MASKINPORTEN_CLIENT_JWK', /no signing key/],
    [{ MASKINPORTEN_CLIENT_JWK: '  ' }, 'MASKINPORTEN_CLIENT_JWK', /no signing key/],
    [{ MASKINPORTEN_PRIVATE_KEY: pem }, 'MASKINPORTEN_KID', /is required with MASKINPORTEN_PRIVATE_KEY/],
    [{ MASKINPORTEN_PRIVATE_KEY_PATH: pemPath }, 'MASKINPORTEN_KID', /is required with MASKINPORTEN_PRIVATE_KEY_PATH/],
    [{ MASKINPORTEN_KID: 'k', MASKINPORTEN_PRIVATE_KEY: pem, MASKINPORTEN_PRIVATE_KEY_PATH: pemPath }, 'MASKINPORTEN_PRIVATE_KEY_PATH', /not both/],
    [{ MASKINPORTEN_CLIENT_JWK: JSON.stringify(jwk), MASKINPORTEN_PKCS12_PATH: p12Path }, 'MASKINPORTEN_PKCS12_PATH', /one key only/],
    [{ MASKINPORTEN_CLIENT_JWK: JSON.stringify(jwk), MASKINPORTEN_KID: 'k', MASKINPORTEN_PRIVATE_KEY: pem }, 'MASKINPORTEN_PRIVATE_KEY', /one key only/],
    [{ MASKINPORTEN_PKCS12_PATH: p12Path }, 'MASKINPORTEN_PKCS12_PASSPHRASE', /is required/],
    [{ MASKINPORTEN_PKCS12_PATH: p12Path, MASKINPORTEN_PKCS12_BASE64: 'AAAA', MASKINPORTEN_PKCS12_PASSPHRASE: 'x' }, 'MASKINPORTEN_PKCS12_BASE64', /not both/],
    [{ MASKINPORTEN_PKCS12_BASE64: 'not base64!', MASKINPORTEN_PKCS12_PASSPHRASE: 'x' }, 'MASKINPORTEN_PKCS12_BASE64', /not base64/],
    [{ MASKINPORTEN_PKCS12_PATH: join(dir, 'missing.p12'), MASKINPORTEN_PKCS12_PASSPHRASE: 'x' }, 'MASKINPORTEN_PKCS12_PATH', /cannot read the file .*missing\.p12.*ENOENT/],
    [{ MASKINPORTEN_CERTIFICATE_PATH: chainPath }, 'MASKINPORTEN_PRIVATE_KEY', /is required with MASKINPORTEN_CERTIFICATE/],
    [{ MASKINPORTEN_CLIENT_JWK: '[{"kty":"RSA"}]' }, 'MASKINPORTEN_CLIENT_JWK', /one JWK object/],
  ])('%j -> %s', (overrides, field, message) => {
    const error = failure({ ...base, ...overrides });
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('never echoes a broken JWK (it is a private key)', () => {
    const broken = `${JSON.stringify(jwk).slice(0, -1)},`;
    const error = failure({ ...base, MASKINPORTEN_CLIENT_JWK: broken });
    expect(error.field).toBe('MASKINPORTEN_CLIENT_JWK');
    const d = String(jwk.d);
    for (const view of [String(error), error.stack ?? '', JSON.stringify(error), inspect(error, { depth: Infinity })]) {
      expect(view).not.toContain(d.slice(0, 20));
    }
  });
});

describe('other variables', () => {
  it('requires MASKINPORTEN_CLIENT_ID', () => {
    expect(failure({ ...nais, MASKINPORTEN_CLIENT_ID: undefined }).field).toBe('MASKINPORTEN_CLIENT_ID');
    expect(failure({ ...nais, MASKINPORTEN_CLIENT_ID: ' ' }).field).toBe('MASKINPORTEN_CLIENT_ID');
  });

  it('reads MASKINPORTEN_ALGORITHM', () => {
    expect(fromEnv({ ...nais, MASKINPORTEN_ALGORITHM: 'RS512' }).algorithm).toBe('RS512');
    expect(failure({ ...nais, MASKINPORTEN_ALGORITHM: 'ES256' }).field).toBe('MASKINPORTEN_ALGORITHM');
  });
});
