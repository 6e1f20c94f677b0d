// The public half of a client key as self-service wants it, and its RFC 7638 thumbprint.
import { createHash, createPublicKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';

/** A public RSA JWK ready for upload: `kty`, `e`, `n`, `kid`, `alg`, `use` (docs/maskinporten-rules.md §4.2 and §8.9). */
export interface PublicJwk {
  kty: 'RSA';
  e: string;
  n: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

/** A JWK set as the self-service API reads and writes it. */
export interface PublicJwkSet {
  keys: PublicJwk[];
}

/**
 * The public JWK of a private key (a KeyObject or a private JWK), named `kid`.
 *
 * @example
 * ```ts
 * const jwks = { keys: [publicJwkOf(privateJwk, 'my-key')] };
 * ```
 */
export function publicJwkOf(key: KeyObject | JsonWebKey, kid: string): PublicJwk {
  const object = 'asymmetricKeyType' in key && typeof (key as KeyObject).export === 'function'
    ? createPublicKey(key as KeyObject)
    : createPublicKey({ key: { kty: 'RSA', n: (key as JsonWebKey).n, e: (key as JsonWebKey).e } as JsonWebKey, format: 'jwk' });
  const { n, e } = object.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new TypeError('publicJwkOf needs an RSA key');
  return { kty: 'RSA', e, n, kid, alg: 'RS256', use: 'sig' };
}

/**
 * RFC 7638 thumbprint (SHA-256, base64url) of an RSA public key: the key's identity independent
 * of its `kid`.
 *
 * @example
 * ```ts
 * jwkThumbprint({ kty: 'RSA', e: 'AQAB', n }); // '4i9H8E3qEBWBMt_4EnxL31JvtY5ehvruMH2MtSp-row' for §8.9
 * ```
 */
export function jwkThumbprint(jwk: { e?: unknown; n?: unknown }): string {
  return createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
}
