// A self-signed TLS certificate for 127.0.0.1 and localhost, for stand-ins whose real SDK refuses
// plain http (MSAL takes only an https authority). The SDK is given `ca` to trust it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A loopback server certificate: `key` and `cert` for `https.createServer`, `ca` to trust it. */
export interface LoopbackTlsCertificate {
  readonly key: string;
  readonly cert: string;
  /** The same certificate: a client trusts it as its own root. */
  readonly ca: string;
}

export function createLoopbackTlsCertificate(): LoopbackTlsCertificate {
  // PEM from the generator, never an export of a KeyObject it made (Node 20.20 can deadlock there).
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: 'portvakt loopback stand-in' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return { key: privateKey, cert: pem, ca: pem };
}
