/**
 * Public types shared by the whole core. Behaviour lives in the area folders (grant/, keys/,
 * certificates/, environments/, cache/, transport/, origins/); this file only names shapes.
 */
import type { JsonWebKey } from 'node:crypto';

/**
 * RSA PKCS#1 v1.5 algorithms Maskinporten accepts for grants (docs/maskinporten-rules.md §2.1).
 * @example
 * ```ts
 * const alg: GrantAlgorithm = 'RS256';
 * ```
 */
export type GrantAlgorithm = 'RS256' | 'RS384' | 'RS512';

/**
 * Something that signs a grant. Implement it to keep a key in a KMS or HSM: the private key never
 * enters the process. Exactly one of `kid` (a key registered with Digdir) or `x5c` (an enterprise
 * certificate chain, leaf first, standard base64 DER, no root) must be set.
 *
 * @example
 * ```ts
 * import type { Signer } from '@portvakt/core';
 * const kmsSigner: Signer = {
 *   alg: 'RS256',
 *   kid: 'my-registered-key',
 *   async sign(data) {
 *     const { Signature } = await kms.sign({ KeyId, Message: data, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' });
 *     return Signature;
 *   },
 * };
 * ```
 */
export interface Signer {
  readonly alg: GrantAlgorithm;
  readonly kid?: string | undefined;
  readonly x5c?: readonly string[] | undefined;
  /** Signs the JWS signing input (`base64url(header).base64url(claims)`) and returns the raw signature. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * A key kept in a file, as a secret mount or a key store puts it. The form is read from the
 * content: a private JWK (or a JWK set with one private key), a PEM private key (give `kid`), a
 * PEM certificate chain with its key (in `file`, or the chain in `certificateFile`), or a PKCS#12
 * bundle (give `passphrase`). See `readKeyFile`.
 *
 * @example
 * ```ts
 * const source: KeyFileSource = { file: '/var/run/secrets/maskinporten/key.pem', kid: 'acme-2026-11' };
 * ```
 */
export interface KeyFileSource {
  /** The key file's path. Kubernetes mounts a secret as a symlink; it is followed. */
  file: string;
  /**
   * The kid registered with Digdir, for a key that carries none: needed with a PEM key; with a
   * certificate, signs with kid instead of x5c. A JWK's own kid is its kid: a different one here is
   * refused, and a followed file's new JWK is taken under its own. New key material under this kid
   * in a followed file is not taken (a client holds one key per kid): give a new key a new kid.
   */
  kid?: string | undefined;
  /** Of a PKCS#12 bundle or an encrypted PEM key. */
  passphrase?: string | undefined;
  /** A PEM certificate chain in a file of its own (the key in `file`). */
  certificateFile?: string | undefined;
}

/**
 * How a client follows its key file (the `follow` field of a `{ file }` key).
 *
 * @example
 * ```ts
 * const follow: KeyFileFollowOptions = { pollInterval: 30_000 };
 * createMaskinportenClient({ clientId, environment: 'prod', key: { file: '/secrets/key.json', follow } });
 * ```
 */
export interface KeyFileFollowOptions {
  /** Milliseconds between reads of the file, whether or not the folder can be watched; default 10 000. */
  pollInterval?: number | undefined;
  /** Watch the folders for changes (default true); false reads on the poll only. */
  watch?: boolean | undefined;
}

/**
 * Where the signing key comes from. One of:
 * - `{ jwk }`: a private RSA JWK (object or JSON string), signing under its own `kid`; give `kid`
 *   only for a JWK without one (a `kid` that differs from the JWK's own is refused).
 * - `{ pem, kid }`: a PEM private key, PKCS#8 or PKCS#1, optionally encrypted (`passphrase`).
 * - `{ pkcs12, passphrase }`: a .p12/.pfx enterprise certificate bundle (Buypass, Commfides): the
 *   grant carries `x5c`.
 * - `{ certificateChainPem, privateKeyPem }`: a PEM certificate chain (leaf first) and its key.
 * - `{ signer }`: your own {@link Signer}.
 * - `{ file, kid?, passphrase?, certificateFile?, follow? }`: a key kept in a file, in any of the
 *   forms above ({@link KeyFileSource}). The client follows the file (`follow`, default on): a new
 *   key written there is taken without a restart, as `setKey()` takes one.
 *
 * @example
 * ```ts
 * const key: KeyInput = { jwk: process.env.MASKINPORTEN_CLIENT_JWK! };
 * ```
 */
export type KeyInput =
  | { jwk: JsonWebKey | string; kid?: string | undefined }
  | { pem: string; kid: string; passphrase?: string | undefined }
  | { pkcs12: Uint8Array; passphrase: string; kid?: string | undefined }
  | { certificateChainPem: string; privateKeyPem: string; passphrase?: string | undefined; kid?: string | undefined }
  | { signer: Signer }
  | (KeyFileSource & { follow?: boolean | KeyFileFollowOptions | undefined });

/**
 * A system user (Altinn systembruker) to act for: the customer's organisation number.
 * @example
 * ```ts
 * await client.getToken({ scope: 'skatteetaten:x', systemUser: { orgno: '310000000', externalRef: 'branch-1' } satisfies SystemUserRequest });
 * ```
 */
export interface SystemUserRequest {
  /** The customer's 9-digit organisation number. */
  orgno: string;
  /** The system user's external reference, when the customer has several for one system. */
  externalRef?: string | undefined;
}

/**
 * What token to get: the claims that make a token different. Everything here is part of the
 * cache key.
 *
 * @example
 * ```ts
 * const request: TokenRequest = { scope: ['skatteetaten:testscope'], consumerOrg: '910753614' };
 * ```
 */
export interface TokenRequest {
  /** One scope, a space-separated list, or an array. Sorted and de-duplicated. */
  scope?: string | readonly string[] | undefined;
  /** Audience restriction (RFC 8707): one resource as a string, several as an array. */
  resource?: string | readonly string[] | undefined;
  /** Act for a customer through Altinn delegation: the customer's 9-digit organisation number. */
  consumerOrg?: string | undefined;
  /** End-user restricted token: an 11-digit fødselsnummer/d-nummer. */
  pid?: string | undefined;
  /** Altinn system user token. */
  systemUser?: SystemUserRequest | undefined;
  /** A consent token (Altinn samtykke): the consent request and the party who consented. */
  consent?: ConsentRequest | undefined;
  /**
   * The legacy `iss_onbehalfof` claim. Deprecated by Digdir and to be removed; mutually exclusive
   * with `consumerOrg`. Use Altinn delegation (`consumerOrg`) or a system user instead.
   * @deprecated
   */
  onBehalfOf?: string | undefined;
}

/**
 * A consent to act on, for a consent token (docs/maskinporten-rules.md §5.4): the consent request's UUID
 * and the party who consented, as Altinn's URN (`urn:altinn:person:identifier-no:<pid>` or
 * `urn:altinn:organization:identifier-no:<orgno>`).
 *
 * @example
 * ```ts
 * await client.getToken({ scope: 'bank:loan', consent: { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356' } satisfies ConsentRequest });
 * ```
 */
export interface ConsentRequest {
  /** The consent request's UUID. */
  id: string;
  /** `urn:altinn:person:identifier-no:<11 digits>` or `urn:altinn:organization:identifier-no:<9 digits>`. */
  from: string;
}

/**
 * A bearer token as adapters hand it out: what {@link AccessToken} offers, as a plain structural
 * type. Declarations that users merge into framework types (`req.maskinporten` in Express) use it,
 * so the ESM and CommonJS builds of a package declare the very same type.
 *
 * @example
 * ```ts
 * const token: BearerToken = await client.getToken();
 * headers.set('authorization', token.authorization);
 * ```
 */
export interface BearerToken {
  readonly tokenType: string;
  readonly accessToken: string;
  /** `<token_type> <access_token>`, ready for an `Authorization` header. */
  readonly authorization: string;
  readonly scope: string;
  readonly expiresAt: Date;
  /** Seconds left at `nowMs` (default now). */
  expiresIn(nowMs?: number): number;
}

/**
 * Options of one `getToken()` call.
 *
 * @example
 * ```ts
 * const token = await client.getToken({ scope: 'nav:aareg', minValidity: 60, signal: AbortSignal.timeout(5000) });
 * ```
 */
export interface GetTokenOptions extends TokenRequest {
  /** The token must stay valid at least this many seconds after it is returned (capped at half the token lifetime). */
  minValidity?: number | undefined;
  /** Ends this caller's wait (a shared fetch goes on for the others). */
  signal?: AbortSignal | undefined;
}

/**
 * A clock in epoch milliseconds; inject one in tests.
 * @example
 * ```ts
 * let now = Date.now();
 * const clock: Clock = { now: () => now }; // move `now` in tests
 * ```
 */
export interface Clock {
  now(): number;
}

/**
 * The serialisable form of a token, as a {@link TokenStore} keeps it.
 * @example
 * ```ts
 * const stored: StoredToken = { accessToken, tokenType: 'Bearer', expiresAt: Date.now() + 120_000, issuedAt: Date.now(), scope: 'nav:test' };
 * ```
 */
export interface StoredToken {
  accessToken: string;
  tokenType: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Epoch milliseconds: when the request that got it was sent. */
  issuedAt: number;
  scope: string;
}

/**
 * A shared token store behind the in-process cache (for example `@portvakt/redis`). Core calls
 * `load` on a local miss; the store returns a shared token that is valid until at least
 * `minValidUntil`, or coordinates with other processes and calls `fetch` itself. A store must
 * never make a call fail because the store is slow or down: it then calls `fetch`. Core also
 * guards this: if `load` rejects, core fetches on its own.
 *
 * Honouring `minValidUntil` is part of the contract. When the token `load` returns is valid long
 * enough but already inside the client's safety margin (the larger of `cache.minMargin` and
 * `cache.marginRatio` of its lifetime, at most half the lifetime), core calls `load` once more with
 * `minValidUntil` one millisecond past that token's expiry, so the store fetches a newer one (once
 * for the fleet) instead of every call reading the store again. If that fetch fails, the call
 * fails with its error, as it would without a store.
 *
 * `key` is a SHA-256 hex digest of the cache key, so no claim value (a `pid`, say) reaches the store.
 *
 * @example
 * ```ts
 * const store: TokenStore = {
 *   async load(key, fetch, { minValidUntil }) {
 *     const have = await mine.get(key);
 *     if (have !== undefined && have.expiresAt >= minValidUntil) return have;
 *     const fresh = await fetch();
 *     await mine.set(key, fresh);
 *     return fresh;
 *   },
 * };
 * ```
 */
export interface TokenStore {
  load(key: string, fetch: () => Promise<StoredToken>, context: { minValidUntil: number; signal?: AbortSignal | undefined }): Promise<StoredToken>;
  /** Drop `key` if it still holds `accessToken`. */
  invalidate?(key: string, accessToken: string): Promise<void>;
  /** Release connections and timers. */
  close?(): Promise<void>;
}
