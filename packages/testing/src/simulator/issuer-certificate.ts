// The certificate Maskinporten's key set carries for each signing key: its `/jwk` document has
// `x5c` beside `kid` (docs/maskinporten-rules.md §1.3), so the simulator's does too. Self-signed,
// since no API trusts it for more than the key it names; the structure comes from node-forge and
// the signature from node:crypto, which keeps a simulator start fast.
import { randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';

const DAY = 86_400_000;

/**
 * A self-signed certificate for an issuer's key pair, as one standard base64 DER string: the
 * `x5c` member of its public JWK.
 */
export function issuerCertificateX5c(privateKey: KeyObject, publicKeyPem: string, commonName: string, nowMs = Date.now()): string[] {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(nowMs - DAY);
  cert.validity.notAfter = new Date(nowMs + 365 * DAY);
  const name = [{ shortName: 'C', value: 'NO' }, { name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, critical: true }]);
  const oid = forge.pki.oids.sha256WithRSAEncryption as string;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  // getTBSCertificate is part of node-forge's API, missing from its type declarations.
  const { getTBSCertificate } = forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 };
  const tbs = Buffer.from(forge.asn1.toDer(getTBSCertificate(cert)).getBytes(), 'binary');
  cert.signature = sign('sha256', tbs, privateKey).toString('binary');
  return [Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary').toString('base64')];
}
