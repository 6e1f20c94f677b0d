/**
 * The verifier an API provider puts in front of its routes. The checks are those of docs/maskinporten-rules.md
 * §6, in this order: size and form, header (algorithm, `crit`, `kid`), claim types, issuer,
 * key, signature (jose), times, then the API's requirements (audience, scope, consumer, supplier).
 * The issuer is checked before the key is looked up, so tokens from another environment are
 * refused without touching the key set.
 */
import { compactVerify } from 'jose';
import { ConfigurationError } from '@portvakt/core';
import type { Clock } from '@portvakt/core';
import { inspectSymbol, numberOption, refuseUnknownOptions, validateClock } from '@portvakt/core/internal';
import { readClaims } from './claims.js';
import type { MaskinportenTokenClaims } from './claims.js';
import { decodeAccessToken } from './compact.js';
import { createKeySetSource } from './environment.js';
import type { VerifierEnvironmentOption } from './environment.js';
import { InvalidTokenError } from './errors.js';
import type { InvalidTokenReason } from './errors.js';
import { KeySetCache } from './key-set.js';
import type { KeySet } from './key-set.js';
import { combineRequirements, compileRequirements, enforceRequirements, NO_REQUIREMENTS, REQUIREMENT_KEYS } from './requirements.js';
import type { CompiledRequirements, TokenRequirements } from './requirements.js';

/**
 * The algorithms Maskinporten signs access tokens with: RSA PKCS#1 v1.5 (docs/maskinporten-rules.md §3.3;
 * RS256 only until 2023, RS384 and RS512 since). A key in the key set that names its `alg` is used
 * for that algorithm only.
 */
const ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512']);
const ALGORITHM_LIST = [...ALGORITHMS];

/**
 * Options of {@link createMaskinportenVerifier}. The requirements given here (`scope`, `audience`,
 * `consumers`, `suppliers`) apply to every `verify()`; those given to a call apply as well.
 *
 * @example
 * ```ts
 * const options: MaskinportenVerifierOptions = { environment: 'prod', scope: 'nav:aareg', clockTolerance: 5 };
 * ```
 */
export interface MaskinportenVerifierOptions extends TokenRequirements {
  /** `'test'`, `'prod'`, `{ metadataUrl }`, `{ issuer, jwksUri }` or `{ issuer, jwks }`. */
  environment: VerifierEnvironmentOption;
  /** Leeway on `exp`, `nbf` and `iat`, in seconds; default 5, at most 300. */
  clockTolerance?: number | undefined;
  keySet?: {
    /** An unknown `kid` refetches the key set at most once per this many seconds; default 30. */
    cooldown?: number | undefined;
    /** A key set older than this many seconds is refreshed in the background; default 3600. */
    maxAge?: number | undefined;
    /** Timeout of one fetch of the key set or the metadata, in milliseconds; default 5000. */
    timeout?: number | undefined;
  } | undefined;
  /**
   * Verified tokens are remembered until they expire (at most `maxEntries`, least recently used
   * first out), so a token presented again costs a lookup instead of a signature check. A
   * remembered token still has its expiry, the clock tolerance and every requirement checked on
   * each use, and is forgotten when the key set is replaced. `false` turns this off.
   */
  cache?: { maxEntries?: number | undefined } | false | undefined;
  /** `fetch` for the key set and the metadata; default the global one. */
  fetch?: typeof fetch | undefined;
  /** Clock in epoch milliseconds for `exp`/`iat` and the key-set timers; default `Date`. */
  clock?: Clock | undefined;
}

/**
 * Verifies Maskinporten access tokens for one environment.
 *
 * @example
 * ```ts
 * const verifier: MaskinportenVerifier = createMaskinportenVerifier({ environment: 'prod', scope: 'nav:aareg' });
 * const claims = await verifier.verify(token);
 * ```
 */
export interface MaskinportenVerifier {
  /** The issuer tokens must carry (with discovery, undefined until the metadata is read). */
  readonly issuer: string | undefined;
  /**
   * Verifies `token` and returns its claims, or throws a verification error (`InvalidTokenError`
   * 401, `InsufficientScopeError` or `OrganizationNotAllowedError` 403, `KeySetUnavailableError`
   * 503). `requirements` apply on top of the verifier's own.
   */
  verify(token: string, requirements?: TokenRequirements): Promise<MaskinportenTokenClaims>;
  /**
   * The claims of a token this verifier has verified and still remembers, checked as `verify()`
   * checks a remembered token (times, requirements; throwing the same errors); `undefined` when
   * the token is not remembered (or remembering is off), and then `verify()` is the way. Never
   * does I/O and never checks a signature, so an adapter's hot path can skip a promise.
   */
  recall(token: string, requirements?: TokenRequirements): MaskinportenTokenClaims | undefined;
  /**
   * Checks claims `verify()` returned against further requirements (a route's own scope after a
   * router-level verification), without verifying the token again. Throws like `verify()`.
   */
  checkRequirements(claims: MaskinportenTokenClaims, requirements: TokenRequirements): void;
  /** Loads the key set now (at start-up), so the first request does not wait for it. */
  ready(): Promise<void>;
}

const OPTION_KEYS = ['environment', 'clockTolerance', 'keySet', 'cache', 'fetch', 'clock', ...REQUIREMENT_KEYS] as const;
const KEY_SET_KEYS = ['cooldown', 'maxAge', 'timeout'] as const;

/** jose's error codes, mapped to our reasons. The jose error is not kept: it may carry the token's parts. */
function reasonOfJoseError(error: unknown): { reason: InvalidTokenReason; message: string } {
  switch ((error as { code?: unknown } | null)?.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return { reason: 'bad_signature', message: "The token's signature does not verify with Maskinporten's key for its kid." };
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return { reason: 'unknown_key', message: "No key in Maskinporten's key set fits the token's kid and alg." };
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return { reason: 'unsupported_algorithm', message: "The token's algorithm is not accepted." };
    default:
      return { reason: 'malformed', message: 'The token is not a well-formed signed JWT.' };
  }
}

/**
 * Creates a verifier for Maskinporten access tokens. Options are validated here, before any
 * network call (`ConfigurationError` naming the field); the key set is fetched on the first
 * `verify()` (or `ready()`) and cached by the rules in `verify/key-set.ts`.
 *
 * @example
 * ```ts
 * import { createMaskinportenVerifier, InsufficientScopeError } from '@portvakt/verify';
 *
 * const verifier = createMaskinportenVerifier({ environment: 'prod', scope: 'nav:aareg' });
 * await verifier.ready(); // optional: fetch the keys at start-up
 *
 * const claims = await verifier.verify(token, { consumers: ['910753614'] });
 * console.log(claims.consumerOrg, claims.scopes, claims.systemUser?.id);
 * ```
 */
export function createMaskinportenVerifier(options: MaskinportenVerifierOptions): MaskinportenVerifier {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError('options', "must be an object: { environment: 'test' | 'prod' | ..., scope? }.");
  }
  refuseUnknownOptions(options, OPTION_KEYS, '');
  if (options.environment === undefined) throw new ConfigurationError('environment', "is required: 'test', 'prod', { metadataUrl }, { issuer, jwksUri } or { issuer, jwks }.");
  const fetchImpl: unknown = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new ConfigurationError('fetch', 'must be a fetch function.');
  const clock = validateClock(options.clock);
  const toleranceMs = numberOption(options.clockTolerance, 'clockTolerance', { fallback: 5, min: 0, max: 300, unit: 'seconds' }) * 1000;
  const keySetIn: unknown = options.keySet ?? {};
  if (typeof keySetIn !== 'object' || keySetIn === null || Array.isArray(keySetIn)) throw new ConfigurationError('keySet', 'must be an object such as { cooldown: 30 }.');
  refuseUnknownOptions(keySetIn, KEY_SET_KEYS, 'keySet.');
  const keySetOptions = keySetIn as NonNullable<MaskinportenVerifierOptions['keySet']>;
  const cooldownMs = numberOption(keySetOptions.cooldown, 'keySet.cooldown', { fallback: 30, min: 0, max: 86_400, unit: 'seconds' }) * 1000;
  const maxAgeMs = numberOption(keySetOptions.maxAge, 'keySet.maxAge', { fallback: 3600, min: 1, max: 366 * 86_400, unit: 'seconds' }) * 1000;
  const timeoutMs = numberOption(keySetOptions.timeout, 'keySet.timeout', { fallback: 5000, min: 1, max: 120_000, unit: 'milliseconds' });
  const cacheIn: unknown = options.cache ?? {};
  if (cacheIn !== false && (typeof cacheIn !== 'object' || cacheIn === null || Array.isArray(cacheIn))) throw new ConfigurationError('cache', 'must be { maxEntries } or false.');
  if (cacheIn !== false) refuseUnknownOptions(cacheIn, ['maxEntries'], 'cache.');
  const maxEntries = cacheIn === false ? 0 : numberOption((cacheIn as { maxEntries?: unknown }).maxEntries, 'cache.maxEntries', { fallback: 1000, min: 1, max: 1_000_000, unit: 'entries' });
  if (!Number.isInteger(maxEntries)) throw new ConfigurationError('cache.maxEntries', 'must be a whole number of entries.');
  const defaults = compileRequirements({ scope: options.scope, audience: options.audience, consumers: options.consumers, suppliers: options.suppliers }, '');
  const source = createKeySetSource(options.environment, { fetch: fetchImpl as typeof fetch, clock, timeoutMs });
  const keys = new KeySetCache({ source, clock, cooldownMs, maxAgeMs, algorithms: ALGORITHMS });
  const now = (): number => clock.now();
  // The token string is the key: the same string has the same signature, checked once.
  const verified = new Map<string, { claims: MaskinportenTokenClaims; keySet: KeySet }>();

  /**
   * The time checks, made on every use of a token, remembered or not: `exp` (RFC 7519: expired at
   * `exp` itself), `nbf`, `iat` not ahead, and a consent's `validTo`, each with the tolerance.
   */
  function checkTimes(claims: MaskinportenTokenClaims, at: number): void {
    if (claims.expiresAt <= at - toleranceMs) throw new InvalidTokenError('expired', 'The token has expired (exp is past, beyond the clock tolerance).');
    const nbf = claims.payload.nbf;
    if (typeof nbf === 'number' && nbf * 1000 > at + toleranceMs) throw new InvalidTokenError('not_yet_valid', 'The token is not valid yet (nbf is ahead, beyond the clock tolerance).');
    if (claims.issuedAt > at + toleranceMs) throw new InvalidTokenError('issued_in_future', 'The token is issued in the future (iat is ahead, beyond the clock tolerance).');
    const validTo = claims.consent?.validTo;
    if (validTo !== undefined && Date.parse(validTo) < at - toleranceMs) throw new InvalidTokenError('consent_expired', 'The consent in the token has expired (validTo is past).');
  }

  /** A remembered token that still holds, or undefined (then it is verified in full). */
  function remembered(token: string, at: number): MaskinportenTokenClaims | undefined {
    const entry = verified.get(token);
    if (entry === undefined) return undefined;
    verified.delete(token);
    // Expired, or verified against a key set since replaced: verified again in full.
    if (entry.keySet !== keys.current || entry.claims.expiresAt <= at - toleranceMs) return undefined;
    verified.set(token, entry);
    keys.touch();
    return entry.claims;
  }

  function remember(token: string, claims: MaskinportenTokenClaims, keySet: KeySet): void {
    if (maxEntries === 0) return;
    if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string);
    verified.set(token, { claims, keySet });
  }

  // Frozen requirement objects cannot change, so each is compiled once (an adapter's route options).
  const compiledFrozen = new WeakMap<object, CompiledRequirements>();
  function requirementsOf(requirements: TokenRequirements | undefined): CompiledRequirements {
    if (requirements === undefined) return defaults;
    const frozen = typeof requirements === 'object' && requirements !== null && Object.isFrozen(requirements);
    let compiled = frozen ? compiledFrozen.get(requirements) : undefined;
    if (compiled === undefined) {
      compiled = combineRequirements(defaults, compileRequirements(requirements, 'requirements.'));
      if (frozen) compiledFrozen.set(requirements, compiled);
    }
    return compiled;
  }

  function recallWith(token: string, required: CompiledRequirements): MaskinportenTokenClaims | undefined {
    if (maxEntries === 0) return undefined;
    const at = now();
    const hit = remembered(token, at);
    if (hit === undefined) return undefined;
    checkTimes(hit, at);
    if (required !== NO_REQUIREMENTS) enforceRequirements(hit, required);
    return hit;
  }

  async function verify(token: string, requirements?: TokenRequirements): Promise<MaskinportenTokenClaims> {
    if (typeof token !== 'string') throw new TypeError('verify(token): the token must be a string.');
    const required = requirementsOf(requirements);
    const hit = recallWith(token, required);
    if (hit !== undefined) return hit;
    const decoded = decodeAccessToken(token, ALGORITHMS);
    const claims = readClaims(decoded.payload);
    // docs/maskinporten-rules.md §1.1 and §6.1: `iss` is exactly the environment's issuer, trailing slash
    // included. A test token at a production API stops here, before the key set is touched (with
    // discovery, once the metadata has named the issuer).
    const known = keys.issuer;
    if (known !== undefined && claims.issuer !== known) throw new InvalidTokenError('wrong_issuer', `The token's issuer is not ${known}.`);
    const held = keys.current ?? (await keys.keySet());
    if (claims.issuer !== held.issuer) throw new InvalidTokenError('wrong_issuer', `The token's issuer is not ${held.issuer}.`);
    keys.touch();
    const keySet = held.kids.has(decoded.kid) ? held : await keys.keySetWith(decoded.kid, held);
    if (claims.issuer !== keySet.issuer) throw new InvalidTokenError('wrong_issuer', `The token's issuer is not ${keySet.issuer}.`);
    try {
      // jose checks the signature (its algorithm allow-list, the key for the kid and alg, the
      // strict base64url of every segment). The claims were parsed above, once, from the same
      // bytes, to find duplicate members; they are checked here rather than parsed again.
      await compactVerify(token, keySet.getKey, { algorithms: ALGORITHM_LIST });
    } catch (error) {
      const { reason, message } = reasonOfJoseError(error);
      throw new InvalidTokenError(reason, message);
    }
    const at = now();
    checkTimes(claims, at);
    // Remembered before the requirements: they belong to this call, the token's validity does not.
    remember(token, claims, keySet);
    if (required !== NO_REQUIREMENTS) enforceRequirements(claims, required);
    return claims;
  }

  const verifier: MaskinportenVerifier & { [inspectSymbol](): string } = {
    get issuer() {
      return keys.issuer;
    },
    verify,
    recall(token, requirements) {
      if (typeof token !== 'string') throw new TypeError('recall(token): the token must be a string.');
      return recallWith(token, requirementsOf(requirements));
    },
    checkRequirements(claims, requirements) {
      if (typeof claims !== 'object' || claims === null || !Array.isArray(claims.scopes)) {
        throw new TypeError('checkRequirements(claims, requirements): claims must be what verify() returned.');
      }
      enforceRequirements(claims, requirementsOf(requirements));
    },
    async ready() {
      await keys.keySet();
    },
    [inspectSymbol]() {
      return `MaskinportenVerifier { issuer: ${JSON.stringify(keys.issuer ?? null)}, keys: ${source.location}, kids: [${keys.kids.join(', ')}], fetches: ${keys.fetches}, remembered tokens: ${verified.size} }`;
    },
  };
  return Object.freeze(verifier);
}
