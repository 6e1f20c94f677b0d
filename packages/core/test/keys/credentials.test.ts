import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { CertificateError, ConfigurationError, KeyError, daysUntilExpiry, inspectCertificate, loadSigner } from '@portvakt/core';
import { assertCertificateUsable } from '../../src/certificates/index.js';
import type { KeyInput, LoadedSigner } from '@portvakt/core';
import { createTestPki, generateClientKey } from '@portvakt/testing';
import { identityOf } from './harness.js';

const key = generateClientKey({ kid: 'k-1' });
const pki = createTestPki();
const prodPki = createTestPki({ environment: 'prod' });
const cert = pki.issueEnterpriseCertificate({ orgno: '991825827' });
const data = Buffer.from('header.payload');

async function verifies(signer: LoadedSigner, publicKeyPem: string | ReturnType<typeof createPublicKey>, hash = 'sha256') {
  const signature = await signer.sign(data);
  return verify(hash, data, publicKeyPem, signature);
}

describe('loadSigner: every key form', () => {
  const pub = createPublicKey({ key: key.publicJwk, format: 'jwk' });
  const forms: [string, KeyInput][] = [
    ['JWK object', { jwk: key.privateJwk }],
    ['JWK JSON string', { jwk: JSON.stringify(key.privateJwk) }],
    ['PKCS#8 PEM', { pem: key.privateKeyPem, kid: 'k-1' }],
    ['PKCS#1 PEM', { pem: key.privateKeyPkcs1Pem, kid: 'k-1' }],
    ['encrypted PKCS#8 PEM', { pem: key.encryptedPrivateKeyPem('pw'), kid: 'k-1', passphrase: 'pw' }],
    ['encrypted PKCS#1 PEM', { pem: key.encryptedPkcs1Pem('pw'), kid: 'k-1', passphrase: 'pw' }],
  ];
  it.each(forms)('%s gives a kid signer whose signature verifies', async (_name, input) => {
    const signer = loadSigner(input);
    expect(signer).toMatchObject({ alg: 'RS256', kid: 'k-1', identity: identityOf('k-1', key.publicJwk) });
    expect(signer.x5c).toBeUndefined();
    expect(await verifies(signer, pub)).toBe(true);
  });

  it('takes alg from the JWK or the option, and signs with the matching hash', async () => {
    expect(loadSigner({ jwk: { ...key.privateJwk, alg: 'RS512' } }).alg).toBe('RS512');
    const s = loadSigner({ jwk: key.privateJwk }, { alg: 'RS384' });
    expect(await verifies(s, pub, 'sha384')).toBe(true);
    // A configured kid is for a JWK without one; the one it has, it is registered under.
    expect(loadSigner({ jwk: { ...key.privateJwk, kid: undefined }, kid: 'other' }).kid).toBe('other');
    expect(loadSigner({ jwk: key.privateJwk, kid: 'k-1' }).kid).toBe('k-1');
  });

  it.each(['aes256', '3des'] as const)('PKCS#12 (%s) gives an x5c signer with leaf + intermediate and no root', async (algorithm) => {
    const signer = loadSigner({ pkcs12: cert.toPkcs12('p12-pass', { algorithm }), passphrase: 'p12-pass' });
    expect(signer.kid).toBeUndefined();
    expect(signer.x5c).toEqual(cert.x5c);
    expect(signer.identity).toBe(`x5t#S256:${cert.thumbprintS256}`);
    expect(signer.certificate?.orgno).toBe('991825827');
    expect(await verifies(signer, cert.certificatePem)).toBe(true);
  });

  it('reads a .p12 made by the openssl CLI', async (ctx) => {
    if (spawnSync('openssl', ['version']).status !== 0) ctx.skip(); // the openssl CLI is not on every machine
    const dir = mkdtempSync(path.join(tmpdir(), 'portvakt-p12-'));
    writeFileSync(path.join(dir, 'key.pem'), cert.privateKeyPem);
    writeFileSync(path.join(dir, 'chain.pem'), cert.chainPem);
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', path.join(dir, 'key.pem'), '-in', path.join(dir, 'chain.pem'), '-passout', 'pass:open-sesame', '-out', path.join(dir, 'bundle.p12')]);
    const signer = loadSigner({ pkcs12: readFileSync(path.join(dir, 'bundle.p12')), passphrase: 'open-sesame' });
    expect(signer.x5c).toEqual(cert.x5c);
    expect(await verifies(signer, cert.certificatePem)).toBe(true);
  });

  it('PEM chain + key gives an x5c signer, in leaf-first order whatever the input order', async () => {
    const reversed = pki.intermediateCertificatePem + cert.certificatePem + pki.rootCertificatePem;
    const signer = loadSigner({ certificateChainPem: reversed, privateKeyPem: cert.encryptedPrivateKeyPem('x'), passphrase: 'x' });
    expect(signer.x5c).toEqual(cert.x5c);
  });

  it('wraps a custom (KMS) signer without touching its key', async () => {
    const calls: Uint8Array[] = [];
    const signer = loadSigner({ signer: { alg: 'RS256', kid: 'kms-key', sign: async (d) => (calls.push(d), new Uint8Array([1, 2, 3])) } });
    expect(signer.identity).toBe('kid:kms-key');
    expect(await signer.sign(data)).toEqual(new Uint8Array([1, 2, 3]));
    expect(calls).toHaveLength(1);
  });
});

describe('loadSigner: refusals with a fix', () => {
  // Each pair comes out of the generator already encoded, and is exported only from an imported
  // KeyObject: exporting one the generator made can deadlock Node 20.20 when a GC starts in between.
  const spki = { type: 'spki', format: 'pem' } as const;
  const pkcs8 = { type: 'pkcs8', format: 'pem' } as const;
  const ec = { privateKey: createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: spki, privateKeyEncoding: pkcs8 }).privateKey) };
  const small = { privateKey: createPrivateKey(generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: spki, privateKeyEncoding: pkcs8 }).privateKey) };
  const pss = { privateKey: createPrivateKey(generateKeyPairSync('rsa-pss', { modulusLength: 2048, publicKeyEncoding: spki, privateKeyEncoding: pkcs8 }).privateKey) };
  const rows: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['an EC key', () => loadSigner({ pem: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), kid: 'k' }), KeyError, /RSA/],
    ['an EC JWK', () => loadSigner({ jwk: { ...ec.privateKey.export({ format: 'jwk' }), kid: 'k' } }), KeyError, /RSA/],
    ['RSA-PSS', () => loadSigner({ pem: pss.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), kid: 'k' }), KeyError, /RSA/],
    ['RSA 1024', () => loadSigner({ jwk: { ...small.privateKey.export({ format: 'jwk' }), kid: 'k' } }), KeyError, /2048/],
    ['a public JWK', () => loadSigner({ jwk: key.publicJwk }), KeyError, /public key/],
    ['a JWK Set', () => loadSigner({ jwk: { keys: [key.privateJwk] } as never }), ConfigurationError, /JWK Set/],
    ['a JWK without kid', () => loadSigner({ jwk: { ...key.privateJwk, kid: undefined } as never }), ConfigurationError, /key id/],
    ['a kid with spaces', () => loadSigner({ pem: key.privateKeyPem, kid: 'my key' }), ConfigurationError, /key id/],
    ['PEM without kid', () => loadSigner({ pem: key.privateKeyPem } as never), ConfigurationError, /kid/],
    ['an encrypted PEM without passphrase', () => loadSigner({ pem: key.encryptedPrivateKeyPem('pw'), kid: 'k' }), KeyError, /passphrase/],
    ['an encrypted PEM with the wrong passphrase', () => loadSigner({ pem: key.encryptedPrivateKeyPem('pw'), kid: 'k', passphrase: 'no' }), KeyError, /passphrase/],
    ['a PKCS#12 with the wrong passphrase', () => loadSigner({ pkcs12: cert.toPkcs12('right'), passphrase: 'wrong' }), KeyError, /Wrong passphrase/],
    ['a PKCS#12 given as a path', () => loadSigner({ pkcs12: 'cert.p12' as never, passphrase: 'x' }), ConfigurationError, /Buffer/],
    ['garbage as PKCS#12', () => loadSigner({ pkcs12: Buffer.from('not a p12'), passphrase: 'x' }), KeyError, /PKCS#12/],
    ['a chain whose certificate is not the key\'s', () => loadSigner({ certificateChainPem: cert.chainPem, privateKeyPem: key.privateKeyPem }), CertificateError, /matches the key/],
    ['alg ES256', () => loadSigner({ jwk: key.privateJwk }, { alg: 'ES256' as never }), ConfigurationError, /RS256/],
    ['a custom signer with kid and x5c', () => loadSigner({ signer: { alg: 'RS256', kid: 'a', x5c: ['AA=='], sign: async () => new Uint8Array() } }), ConfigurationError, /exactly one/],
  ];
  it.each(rows)('refuses %s', (_name, load, type, message) => {
    const err = (() => {
      try {
        load();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(type);
    expect(String((err as Error).message)).toMatch(message);
    expect(String((err as Error).message)).not.toMatch(/BEGIN|PRIVATE KEY-----/);
  });

  it('never shows key material when a signer is printed or serialised', () => {
    const signer = loadSigner({ jwk: key.privateJwk });
    const shown = `${util.inspect(signer, { depth: Infinity, showHidden: true })} ${JSON.stringify(signer)}`;
    expect(shown).not.toContain(String(key.privateJwk.d));
    expect(shown).not.toContain(String(key.privateJwk.p));
  });
});

describe('enterprise certificates', () => {
  it('reads the organisation number from SEID 2.0 and SEID 1.0 subjects', () => {
    expect(inspectCertificate(cert.certificatePem).orgno).toBe('991825827');
    const seid1 = pki.issueEnterpriseCertificate({ orgno: '910753614', profile: 'seid1' });
    expect(inspectCertificate(seid1.certificatePem).orgno).toBe('910753614');
  });

  it('classifies test and production CAs and refuses the wrong environment (MP-120)', () => {
    const test = inspectCertificate(cert.certificatePem);
    const prod = inspectCertificate(prodPki.issueEnterpriseCertificate({ orgno: '991825827' }).certificatePem);
    expect([test.environment, prod.environment]).toEqual(['test', 'prod']);
    expect(() => assertCertificateUsable(test, 'test', Date.now())).not.toThrow();
    expect(() => assertCertificateUsable(prod, 'prod', Date.now())).not.toThrow();
    expect(() => assertCertificateUsable(test, 'prod', Date.now())).toThrow(expect.objectContaining({ problem: 'wrong_environment' }));
    expect(() => assertCertificateUsable(prod, 'test', Date.now())).toThrow(expect.objectContaining({ problem: 'wrong_environment' }));
    expect(() => assertCertificateUsable(prod, 'custom', Date.now())).not.toThrow();
  });

  it('refuses expired and not-yet-valid certificates', () => {
    const day = 86_400_000;
    const expired = inspectCertificate(pki.issueEnterpriseCertificate({ orgno: '991825827', notBefore: new Date(Date.now() - 9 * day), notAfter: new Date(Date.now() - day) }).certificatePem);
    const future = inspectCertificate(pki.issueEnterpriseCertificate({ orgno: '991825827', notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 9 * day) }).certificatePem);
    expect(() => assertCertificateUsable(expired, 'test', Date.now())).toThrow(expect.objectContaining({ problem: 'expired' }));
    expect(() => assertCertificateUsable(future, 'test', Date.now())).toThrow(expect.objectContaining({ problem: 'not_yet_valid' }));
    expect(daysUntilExpiry(expired, Date.now())).toBeLessThan(0);
  });
});
