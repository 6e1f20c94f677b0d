import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

/** The simulator's (or token factory's) signing key, published at /jwk. */
export interface IssuerKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey & { kid: string; alg: 'RS256'; use: 'sig' };
}

export function createIssuerKey(): IssuerKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url').slice(0, 22);
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
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
