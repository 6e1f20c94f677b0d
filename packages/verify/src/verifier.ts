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
import { createFlow, markOwnVerifier } from './flow.js';
import type { Validated } from './flow.js';
import { KeySetCache } from './key-set.js';
import { compileRequirements, REQUIREMENT_KEYS } from './requirements.js';
import type { TokenRequirements } from './requirements.js';

/**
 * The algorithms Maskinporten signs access tokens with: RSA PKCS#1 v1.5 (docs/maskinporten-rules.md §3.3;
 * RS256 only until 2023, RS384 and RS512 since). A key in the key set that names its `alg` is used
 * for that algorithm only.
 */
const ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512']);
const ALGORITHM_LIST = [...ALGORITHMS];

/**
 * Options of {@link createMaskinportenVerifier}. The requirements given here (`scope`, `audience`,
 * `consumers`, `suppliers`, `pid`, `consent`, `systemUser`, `organizationPolicy`) apply to every
 * `verify()`; those given to a call apply as well.
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
   * Accepted tokens are remembered until they expire (at most `maxEntries`, least recently used
   * first out), so a token presented again costs a lookup instead of a signature check, and
   * concurrent calls with one new token share one check. A remembered token still has its expiry,
   * the clock tolerance and every requirement checked on each use, and is forgotten when the key
   * set is replaced. A refused token is never remembered. `false` turns this off.
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
   * 401; `InsufficientScopeError`, `OrganizationNotAllowedError` or `RequirementNotMetError` 403;
   * `KeySetUnavailableError` or `IntrospectionUnavailableError` 503). `requirements` (one set, or a
   * list that all apply) apply on top of the verifier's own. The token is remembered only when
   * every requirement is met.
   */
  verify(token: string, requirements?: TokenRequirements | readonly TokenRequirements[]): Promise<MaskinportenTokenClaims>;
  /**
   * The claims of a token this verifier has verified and still remembers, checked as `verify()`
   * checks a remembered token (times, requirements; throwing the same errors); `undefined` when
   * the token is not remembered (or remembering is off), and then `verify()` is the way. Never
   * does I/O and never checks a signature, so an adapter's hot path can skip a promise. Also
   * `undefined` when an organisation policy applies (the verifier's or `requirements`'), since a
   * policy may have to wait: `verify()` checks it, still without the signature.
   */
  recall(token: string, requirements?: TokenRequirements | readonly TokenRequirements[]): MaskinportenTokenClaims | undefined;
  /**
   * Checks claims `verify()` returned against further requirements (a route's own scope after a
   * router-level verification), without verifying the token again. Throws like `verify()`;
   * returns a promise only when an organisation policy in `requirements` has to be waited for.
   */
  checkRequirements(claims: MaskinportenTokenClaims, requirements: TokenRequirements | readonly TokenRequirements[]): void | Promise<void>;
  /** Loads the key set now (at start-up), so the first request does not wait for it. */
  ready(): Promise<void>;
}

const OPTION_KEYS = ['environment', 'clockTolerance', 'keySet', 'cache', 'fetch', 'clock', ...REQUIREMENT_KEYS] as const;
const KEY_SET_KEYS = ['cooldown', 'maxAge', 'timeout'] as const;

/** The requirement members of the options, for compiling (the other options are not requirements). */
function requirementsOf(options: MaskinportenVerifierOptions): TokenRequirements {
  const { scope, audience, consumers, suppliers, pid, consent, systemUser, organizationPolicy } = options;
  return { scope, audience, consumers, suppliers, pid, consent, systemUser, organizationPolicy };
}

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
  const defaults = compileRequirements(requirementsOf(options), '');
  const source = createKeySetSource(options.environment, { fetch: fetchImpl as typeof fetch, clock, timeoutMs });
  const keys = new KeySetCache({ source, clock, cooldownMs, maxAgeMs, algorithms: ALGORITHMS });

  /** Whether a token not remembered is valid: its form, claim types, issuer, key and signature. */
  async function validate(token: string): Promise<Validated> {
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
      // jose checks the signature (its algorithm allow-list, the key for the kid and alg). The
      // segments were checked to be canonical base64url above, and the claims parsed once from the
      // same bytes, to find duplicate members; they are checked here rather than parsed again.
      await compactVerify(token, keySet.getKey, { algorithms: ALGORITHM_LIST });
    } catch (error) {
      const { reason, message } = reasonOfJoseError(error);
      throw new InvalidTokenError(reason, message);
    }
    return { claims, epoch: keySet };
  }

  // A token verified against a key set since replaced is verified again: a rotated-out key stops
  // working at once.
  const flow = createFlow({ clock, toleranceMs, maxEntries, defaults, validate, epoch: () => keys.current, onHit: (at) => keys.touch(at) });

  const verifier: MaskinportenVerifier & { [inspectSymbol](): string } = {
    get issuer() {
      return keys.issuer;
    },
    verify: flow.verify,
    recall: flow.recall,
    checkRequirements: flow.checkRequirements,
    async ready() {
      await keys.keySet();
    },
    [inspectSymbol]() {
      return `MaskinportenVerifier { issuer: ${JSON.stringify(keys.issuer ?? null)}, keys: ${source.location}, kids: [${keys.kids.join(', ')}], fetches: ${keys.fetches}, remembered tokens: ${flow.size}${flow.inFlight === 0 ? '' : `, in flight: ${flow.inFlight}`} }`;
    },
  };
  return markOwnVerifier(Object.freeze(verifier));
}
