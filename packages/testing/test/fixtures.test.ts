import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { TEST_CA_NAMES, createTestPki, generateClientKey } from '@portvakt/testing';

describe('generateClientKey', () => {
  it('gives matching private and public halves in every form', () => {
    const key = generateClientKey({ kid: 'k1', alg: 'RS384' });
    expect(key.publicJwk).toMatchObject({ kty: 'RSA', kid: 'k1', alg: 'RS384', use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
    const data = Buffer.from('hello');
    const pub = createPublicKey({ key: key.publicJwk, format: 'jwk' });
    for (const pem of [key.privateKeyPem, key.privateKeyPkcs1Pem]) {
      expect(verify('sha256', data, pub, sign('sha256', data, createPrivateKey(pem)))).toBe(true);
    }
    expect(key.encryptedPkcs1Pem('pw')).toContain('Proc-Type: 4,ENCRYPTED');
    expect(key.encryptedPrivateKeyPem('pw')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(() => createPrivateKey({ key: key.encryptedPrivateKeyPem('pw'), passphrase: 'wrong' })).toThrow();
  });
});

describe('createTestPki', () => {
  const pki = createTestPki();
  const prod = createTestPki({ environment: 'prod' });

  it('issues SEID 2.0 certificates with organizationIdentifier NTRNO-<orgno>, chained to the test CA', () => {
    const cert = pki.issueEnterpriseCertificate({ orgno: '991825827' });
    const leaf = new X509Certificate(cert.certificatePem);
    expect(leaf.subject).toMatch(/(organizationIdentifier|2\.5\.4\.97)=NTRNO-991825827/);
    expect(leaf.issuer).toContain(TEST_CA_NAMES.test.intermediate);
    const inter = new X509Certificate(Buffer.from(cert.x5c[1] as string, 'base64'));
    const root = new X509Certificate(pki.rootCertificatePem);
    expect(leaf.checkIssued(inter) && leaf.verify(inter.publicKey)).toBe(true);
    expect(inter.verify(root.publicKey)).toBe(true);
    expect(cert.x5c).toHaveLength(2);
    expect(new X509Certificate(Buffer.from(cert.x5c[0] as string, 'base64')).fingerprint256).toBe(leaf.fingerprint256);
  });

  it('issues SEID 1.0 certificates with serialNumber and a production CA name', () => {
    const cert = prod.issueEnterpriseCertificate({ orgno: '910753614', profile: 'seid1' });
    const leaf = new X509Certificate(cert.certificatePem);
    expect(leaf.subject).toContain('serialNumber=910753614');
    expect(leaf.issuer).toContain(TEST_CA_NAMES.prod.intermediate);
  });

  it('honours validity dates for expired and not-yet-valid certificates', () => {
    const notAfter = new Date(Date.now() - 86_400_000);
    const expired = pki.issueEnterpriseCertificate({ orgno: '991825827', notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter });
    expect(Date.parse(new X509Certificate(expired.certificatePem).validTo)).toBeLessThan(Date.now());
  });

  it('builds PKCS#12 bundles that open with the passphrase only', () => {
    const cert = pki.issueEnterpriseCertificate({ orgno: '991825827' });
    for (const algorithm of ['aes256', '3des'] as const) {
      const der = cert.toPkcs12('s3cret', { algorithm, friendlyName: 'signing' });
      const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), 's3cret');
      const certBag = forge.pki.oids.certBag as string;
      const certs = p12.getBags({ bagType: certBag })[certBag] ?? [];
      expect(certs).toHaveLength(2);
      expect(() => forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), 'wrong')).toThrow();
    }
  });
});
