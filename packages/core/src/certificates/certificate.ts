// Enterprise certificates (virksomhetssertifikat): organisation number, validity and which
// environment's CA issued them (docs/maskinporten-rules.md §4.1).
import { X509Certificate } from 'node:crypto';
import { CertificateError } from '../errors.js';

/**
 * What Portvakt reads from an enterprise certificate.
 * @example
 * ```ts
 * const info: CertificateInfo = inspectCertificate(pem);
 * console.log(info.orgno, info.environment, info.notAfter);
 * ```
 */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** From SEID 2.0 `organizationIdentifier` (`NTRNO-<orgno>`) or SEID 1.0 `serialNumber`. */
  orgno: string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** Which Maskinporten environment the issuing CA belongs to, from its name; `unknown` if not a known CA family. */
  environment: 'test' | 'prod' | 'unknown';
  /** base64url SHA-256 of the DER certificate (`x5t#S256`). */
  thumbprintS256: string;
}

// Buypass and Commfides name their test CAs with "Test"/"TEST" (e.g. "Buypass Class 3 Test4 CA G2
// ST Business", "Commfides Legal Person - G3 - TEST"); production CAs carry the same family names
// without it.
const CA_FAMILY = /\b(buypass|commfides)\b/i;
const TEST_MARK = /\btest\d*\b/i;

function field(dn: string, names: string[]): string[] {
  return dn
    .split('\n')
    .map((line) => line.split('='))
    .filter(([k]) => k !== undefined && names.includes(k))
    .map(([, ...v]) => v.join('='));
}

/**
 * Reads the organisation number, validity and CA environment of a certificate (PEM or DER).
 *
 * @example
 * ```ts
 * import { inspectCertificate } from '@portvakt/core';
 * const info = inspectCertificate(fs.readFileSync('cert.pem', 'utf8'));
 * console.log(info.orgno, info.notAfter, info.environment);
 * ```
 */
export function inspectCertificate(cert: string | Uint8Array | X509Certificate): CertificateInfo {
  let x509: X509Certificate;
  try {
    x509 = cert instanceof X509Certificate ? cert : new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  } catch (err) {
    throw new CertificateError('invalid', 'The certificate could not be parsed: give a PEM or DER X.509 certificate.', { cause: err });
  }
  const orgId = field(x509.subject, ['organizationIdentifier', '2.5.4.97']).map((v) => /^NTRNO-(\d{9})$/.exec(v)?.[1]).find(Boolean);
  const serial = field(x509.subject, ['serialNumber']).find((v) => /^\d{9}$/.test(v));
  const issuerCn = field(x509.issuer, ['CN', 'O']).join(' ');
  const environment = CA_FAMILY.test(issuerCn) ? (TEST_MARK.test(issuerCn) ? 'test' : 'prod') : 'unknown';
  return {
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    orgno: orgId ?? serial,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    environment,
    thumbprintS256: Buffer.from(x509.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url'),
  };
}

/**
 * Refuses a certificate Maskinporten would refuse: expired, not yet valid, without an
 * organisation number, or from the other environment's CA (MP-120). `custom` environments skip
 * the CA check; certificates from unknown CAs pass it (Maskinporten decides).
 *
 * @example
 * ```ts
 * // internal (src/certificates); inspectCertificate is public
 * import { assertCertificateUsable, inspectCertificate } from './certificates/index.js';
 * assertCertificateUsable(inspectCertificate(pem), 'prod', Date.now());
 * ```
 */
export function assertCertificateUsable(info: CertificateInfo, target: 'test' | 'prod' | 'custom', nowMs: number): void {
  if (nowMs > info.notAfter.getTime()) {
    throw new CertificateError('expired', `The enterprise certificate expired on ${info.notAfter.toISOString()}; order a new one from your CA.`);
  }
  if (nowMs < info.notBefore.getTime()) {
    throw new CertificateError('not_yet_valid', `The enterprise certificate is not valid before ${info.notBefore.toISOString()}.`);
  }
  if (info.orgno === undefined) {
    throw new CertificateError('no_organization_number', 'The certificate has no organisation number (organizationIdentifier NTRNO-<orgno> or serialNumber): it is not an enterprise certificate.');
  }
  if (target !== 'custom' && info.environment !== 'unknown' && info.environment !== target) {
    throw new CertificateError(
      'wrong_environment',
      info.environment === 'test'
        ? 'A test certificate cannot be used against production Maskinporten: use your production enterprise certificate.'
        : 'A production certificate cannot be used against test Maskinporten: order a test certificate from your CA.',
    );
  }
}

/**
 * Whole days until the certificate expires (negative once expired).
 *
 * @example
 * ```ts
 * import { daysUntilExpiry } from '@portvakt/core';
 * if (daysUntilExpiry(info, Date.now()) < 30) console.warn('renew the certificate');
 * ```
 */
export function daysUntilExpiry(info: CertificateInfo, nowMs: number): number {
  return Math.floor((info.notAfter.getTime() - nowMs) / 86_400_000);
}
