import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { issuerCertificateX5c } from './issuer-certificate.js';

/** The simulator's (or token factory's) signing key, published at /jwk. */
export interface IssuerKey {
  kid: string;
  privateKey: KeyObject;
  /** With `x5c`, a certificate for the key, as Maskinporten's key set carries (docs/maskinporten-rules.md §1.3). */
  publicJwk: JsonWebKey & { kid: string; alg: 'RS256'; use: 'sig'; x5c?: string[] };
}

export function createIssuerKey(): IssuerKey {
  // The generator encodes both halves itself, before any JavaScript (and so any GC) can run, and
  // the KeyObjects are imported from those bytes: exporting a KeyObject the generator made can
  // deadlock Node 20.20 when a GC starts in between (see fixtures/keys.ts). The simulator and the
  // Altinn stand-in make one of these at every start.
  const { publicKey: spki, privateKey: pkcs8 } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  const kid = createHash('sha256').update(spki).digest('base64url').slice(0, 22);
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const x5c = issuerCertificateX5c(privateKey, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'Portvakt Maskinporten simulator');
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: 'RS256', use: 'sig', x5c } };
}

/** ISO 6523 organisation identifier as Maskinporten writes it (docs/maskinporten-rules.md §3.3). */
export function orgIdentifier(orgno: string) {
  return { authority: 'iso6523-actorid-upis', ID: `0192:${orgno}` };
}

/** Signs an access token shaped like Maskinporten's: RS256, `kid` header, claims of docs/maskinporten-rules.md §3.3. */
export async function signAccessToken(key: IssuerKey, claims: Record<string, unknown>, iat: number, exp: number): Promise<string> {
  return new SignJWT({ ...claims, token_type: 'Bearer', iat, exp, jti: randomBytes(32).toString('base64url') })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .sign(key.privateKey);
}
