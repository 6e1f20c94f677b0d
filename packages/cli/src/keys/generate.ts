// A new client key, as Digdir's self-service takes it: RSA 2048, RS256 (docs/maskinporten-rules.md §4.2).
import { createPrivateKey, generateKeyPair } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { publicJwkOf } from './public-jwk.js';
import type { PublicJwk } from './public-jwk.js';

/** A generated key in the forms the CLI writes. */
export interface GeneratedKey {
  kid: string;
  /** The private JWK with `kid`, `alg` and `use`: what MASKINPORTEN_CLIENT_JWK holds. */
  privateJwk: JsonWebKey & { kid: string; alg: 'RS256'; use: 'sig' };
  /** PKCS#8 PEM of the same key. */
  privateKeyPem: string;
  publicJwk: PublicJwk;
}

/**
 * Generates an RSA 2048 RS256 key. Uses the async generator: on Node 20.20 the sync one can
 * deadlock when a JWK export follows it, and the JWK is exported from a key imported from the PEM.
 *
 * @example
 * ```ts
 * const key = await generateRs256Key('my-org-2026-11');
 * await writeFile('key.json', JSON.stringify(key.privateJwk), { mode: 0o600 });
 * ```
 */
export async function generateRs256Key(kid: string): Promise<GeneratedKey> {
  const privateKeyPem = await new Promise<string>((resolve, reject) => {
    generateKeyPair(
      'rsa',
      { modulusLength: 2048, publicExponent: 0x10001, publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (error, _publicKey, privateKey) => (error ? reject(error) : resolve(privateKey)),
    );
  });
  const jwk = createPrivateKey(privateKeyPem).export({ format: 'jwk' });
  const privateJwk = { ...jwk, kid, alg: 'RS256' as const, use: 'sig' as const };
  return { kid, privateJwk, privateKeyPem, publicJwk: publicJwkOf(privateJwk, kid) };
}
