/**
 * Maskinporten's own signing keys, as the simulator and the token factory hold them: one key signs,
 * and the key set at `/jwk` publishes it with the one it replaced, so a rotation can be rehearsed
 * the way Maskinporten does it (docs/maskinporten-rules.md §1.1: it rotates its signing key; APIs select
 * the key by `kid`).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, generateKeyPairSync } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import type { IssuerKey } from './access-token.js';
import { issuerCertificateX5c } from './issuer-certificate.js';

/** The algorithms Maskinporten signs access tokens with (docs/maskinporten-rules.md §3.3). */
export type SigningAlgorithm = 'RS256' | 'RS384' | 'RS512';

/** A signing key of any of Maskinporten's algorithms; `publicKeyPem` for forging tests. */
export interface SigningKey extends Omit<IssuerKey, 'publicJwk'> {
  alg: SigningAlgorithm;
  publicJwk: JsonWebKey & { kid: string; alg: SigningAlgorithm; use: 'sig'; x5c: string[] };
  publicKeyPem: string;
}

/** RFC 7638 thumbprint of an RSA public JWK, as the key's `kid`. */
function thumbprint(jwk: { n: string; e: string }): string {
  return createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
}

// The generator encodes both halves itself (public JWK, private PEM) before any JavaScript can
// run, and every KeyObject here is imported afresh from those encodings: no KeyObject from the
// generator is ever exported, which is what can deadlock on Node 20.20 when a GC starts in
// between (see fixtures/keys.ts).
const ENCODINGS = { modulusLength: 2048, publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;

function signingKeyOf(generated: unknown, privateKeyPem: unknown, options: { alg?: SigningAlgorithm; kid?: string }): SigningKey {
  // Node's typings have no overload for a JWK public key encoding; the value is a JWK.
  const { n, e } = generated as { n: string; e: string };
  const alg = options.alg ?? 'RS256';
  const kid = options.kid ?? thumbprint({ n, e });
  const publicKeyPem = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  const privateKey = createPrivateKey(privateKeyPem as string);
  // Maskinporten's key set carries a certificate per key (docs/maskinporten-rules.md §1.3).
  const jwk = { kty: 'RSA', n, e, kid, alg, use: 'sig' as const, x5c: issuerCertificateX5c(privateKey, publicKeyPem, 'Portvakt Maskinporten simulator') };
  return { kid, alg, privateKey, publicJwk: jwk, publicKeyPem };
}

/**
 * A new 2048-bit RSA signing key, synchronously.
 * @example
 * ```ts
 * const key = createSigningKey({ alg: 'RS384' });
 * key.publicJwk; // { kty: 'RSA', n, e, kid, alg: 'RS384', use: 'sig' }
 * ```
 */
export function createSigningKey(options: { alg?: SigningAlgorithm; kid?: string } = {}): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', ENCODINGS);
  return signingKeyOf(publicKey, privateKey, options);
}

/**
 * A new 2048-bit RSA signing key, generated off the main thread.
 * @example
 * ```ts
 * const key = await createSigningKeyAsync();
 * ```
 */
export function createSigningKeyAsync(options: { alg?: SigningAlgorithm; kid?: string } = {}): Promise<SigningKey> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', ENCODINGS, (error, publicKey, privateKey) => {
      if (error) reject(error);
      else resolve(signingKeyOf(publicKey, privateKey, options));
    });
  });
}

/**
 * Options of `rotateSigningKey()`.
 * @example
 * ```ts
 * await sim.rotateSigningKey({ dropPrevious: true } satisfies RotateSigningKeyOptions);
 * ```
 */
export interface RotateSigningKeyOptions {
  /** Publish only the new key, at once (an emergency rotation); default false: the old one stays published until the next rotation or `dropPreviousSigningKey()`. */
  dropPrevious?: boolean;
}

/** The keys of one issuer: the one that signs, and the one it replaced while that is still published. */
export interface SigningKeyRing {
  /** The key new tokens are signed with. */
  readonly current: IssuerKey;
  /** What `/jwk` publishes: the current key first, then the previous one, if still published. */
  published(): JsonWebKey[];
  /** Signs with a new key from now on; see {@link RotateSigningKeyOptions}. Resolves with the new kid. */
  rotate(options?: RotateSigningKeyOptions): Promise<string>;
  /** Stops publishing the previous key. */
  dropPrevious(): void;
}

/**
 * A key ring starting with `first`.
 * @example
 * ```ts
 * const ring = createSigningKeyRing(createIssuerKey());
 * await ring.rotate();
 * ring.published().length; // 2
 * ```
 */
export function createSigningKeyRing(first: IssuerKey): SigningKeyRing {
  let current: IssuerKey = first;
  let previous: IssuerKey | undefined;
  return {
    get current() {
      return current;
    },
    published: () => (previous === undefined ? [current.publicJwk] : [current.publicJwk, previous.publicJwk]),
    async rotate(options = {}) {
      const next = await createSigningKeyAsync({ alg: 'RS256' });
      previous = options.dropPrevious ? undefined : current;
      current = next as IssuerKey;
      return next.kid;
    },
    dropPrevious() {
      previous = undefined;
    },
  };
}
