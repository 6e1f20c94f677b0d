// Validation of createMaskinportenClient's options: every field checked before any network call,
// each error naming the field and the fix.
import { ConfigurationError } from '../errors.js';
import { numberOption, refuseUnknownOptions, validateClock } from '../shared/index.js';
import type { EnvironmentOption } from '../environments/index.js';
import type { TransportOptions } from '../transport/index.js';
import type { CachePolicy } from '../cache/index.js';
import type { Clock, GrantAlgorithm, KeyInput, TokenRequest, TokenStore } from '../types.js';

/**
 * Options of {@link createMaskinportenClient}.
 *
 * @example
 * ```ts
 * const options: MaskinportenClientOptions = {
 *   clientId: '238259d7-f0ab-4bd5-b253-0f0159375096',
 *   environment: 'test',
 *   key: { jwk: process.env.MASKINPORTEN_CLIENT_JWK! },
 *   scope: 'skatteetaten:testscope',
 * };
 * ```
 */
export interface MaskinportenClientOptions {
  /** The integration's client id (the grant's `iss`). */
  clientId: string;
  /** `'test'`, `'prod'`, `{ issuer, tokenEndpoint }` or `{ metadataUrl, metadataTtl? }`. */
  environment: EnvironmentOption;
  /** The signing key or certificate; see `KeyInput`. */
  key: KeyInput;
  /** RS256 (default), RS384 or RS512. */
  algorithm?: GrantAlgorithm | undefined;
  /** Default scope(s) for getToken(). */
  scope?: string | readonly string[] | undefined;
  /** Other default claims (resource, consumerOrg, pid, systemUser). */
  defaults?: Omit<TokenRequest, 'scope'> | undefined;
  /** Grant lifetime in seconds: default 60, at most 120. */
  grantLifetime?: number | undefined;
  cache?: {
    /** LRU bound; default 10 000. */
    maxEntries?: number | undefined;
    /** Fraction of the lifetime after which a background refresh starts; default 0.5. */
    refreshAhead?: number | undefined;
    /** ± fraction of the lifetime of random spread on the refresh point; default 0.1. */
    jitter?: number | undefined;
    /** Minimum safety margin, seconds; default 5. */
    minMargin?: number | undefined;
    /** Safety margin as a fraction of the lifetime; default 0.1. */
    marginRatio?: number | undefined;
    /** A shared store behind the in-process cache (e.g. `@portvakt/redis`). */
    store?: TokenStore | undefined;
  } | undefined;
  transport?: TransportOptions | undefined;
  /** Clock in epoch ms; default `Date`. */
  clock?: Clock | undefined;
  /** Warn (event `certificateExpiring`) when the certificate expires within this many days; default 30. */
  certificateExpiryWarningDays?: number | undefined;
}

const TOP_KEYS = new Set(['clientId', 'environment', 'key', 'algorithm', 'scope', 'defaults', 'grantLifetime', 'cache', 'transport', 'clock', 'certificateExpiryWarningDays']);
const POLICY_KEYS = new Set(['maxEntries', 'refreshAhead', 'jitter', 'minMargin', 'marginRatio']);
const CACHE_KEYS = new Set([...POLICY_KEYS, 'store']);
const DEFAULT_KEYS = new Set(['resource', 'consumerOrg', 'pid', 'systemUser']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(record: Record<string, unknown>, allowed: Set<string>, prefix: string): void {
  refuseUnknownOptions(record, allowed, prefix);
}


/**
 * The members of `record` named in `names`, each read once, into a plain object the caller holds
 * no reference to: a getter or a Proxy answers once, and what it answered is what is validated,
 * used and compared (declared.ts).
 */
function readOnce(record: Record<string, unknown>, names: ReadonlySet<string>): Record<string, unknown> {
  const read: Record<string, unknown> = {};
  for (const name of names) {
    const value = record[name];
    if (value !== undefined) read[name] = value;
  }
  return read;
}

/**
 * Checks the shape of the options object and the client-level fields. The options returned are
 * the client's own copy of the top level (and of `defaults`): each member read once.
 */
export function validateClientFields(given: unknown): {
  options: MaskinportenClientOptions;
  cache: CachePolicy;
  store: TokenStore | undefined;
  clock: Clock;
  warningDays: number;
} {
  if (!isRecord(given)) throw new ConfigurationError('options', 'must be an object: { clientId, environment, key, scope? }.');
  unknownKeys(given, TOP_KEYS, '');
  const options = readOnce(given, TOP_KEYS);
  const { clientId } = options;
  if (typeof clientId !== 'string' || clientId.trim() === '' || /\s/.test(clientId) || clientId.length > 256) {
    throw new ConfigurationError('clientId', 'must be the client id of your Maskinporten integration (from Digdir self-service), a non-empty string without spaces.');
  }
  if (options.environment === undefined) throw new ConfigurationError('environment', "is required: 'test', 'prod', { issuer, tokenEndpoint } or { metadataUrl }.");
  if (options.key === undefined) throw new ConfigurationError('key', 'is required: { jwk }, { pem, kid }, { pkcs12, passphrase }, { certificateChainPem, privateKeyPem } or { signer }.');
  if (options.defaults !== undefined) {
    if (!isRecord(options.defaults)) throw new ConfigurationError('defaults', 'must be an object such as { consumerOrg: "910753614" }.');
    unknownKeys(options.defaults, DEFAULT_KEYS, 'defaults.');
    options.defaults = readOnce(options.defaults, DEFAULT_KEYS);
  }
  const clock = validateClock(options.clock);
  const cacheIn = options.cache;
  const cache = validateCachePolicy(cacheIn, CACHE_KEYS);
  const c = (cacheIn ?? {}) as Record<string, unknown>;
  const store = c.store as TokenStore | undefined;
  if (store !== undefined && (!isRecord(store) || typeof store.load !== 'function')) {
    throw new ConfigurationError('cache.store', 'must be a TokenStore with load(key, fetch, context), e.g. createRedisTokenStore(...) from @portvakt/redis.');
  }
  const warningDays = numberOption(options.certificateExpiryWarningDays, 'certificateExpiryWarningDays', { fallback: 30, min: 0, max: 365, integer: true, unit: 'days' });
  return { options: options as unknown as MaskinportenClientOptions, cache, store, clock, warningDays };
}

/** The `cache` option's tuning (every token source's cache takes it), with `allowed` keys. */
export function validateCachePolicy(cacheIn: unknown, allowed: Set<string> = POLICY_KEYS): CachePolicy {
  if (cacheIn !== undefined && !isRecord(cacheIn)) throw new ConfigurationError('cache', 'must be an object such as { maxEntries: 10000 }.');
  const c = (cacheIn ?? {}) as Record<string, unknown>;
  unknownKeys(c, allowed, 'cache.');
  return {
    maxEntries: numberOption(c.maxEntries, 'cache.maxEntries', { fallback: 10_000, min: 1, integer: true }),
    refreshAhead: numberOption(c.refreshAhead, 'cache.refreshAhead', { fallback: 0.5, min: 0, minExclusive: true, max: 1, description: 'a fraction of the token lifetime, above 0 and at most 1' }),
    jitter: numberOption(c.jitter, 'cache.jitter', { fallback: 0.1, min: 0, max: 0.5, description: 'a fraction from 0 to 0.5' }),
    minMargin: numberOption(c.minMargin, 'cache.minMargin', { fallback: 5, min: 0, max: 3600, unit: 'seconds' }),
    marginRatio: numberOption(c.marginRatio, 'cache.marginRatio', { fallback: 0.1, min: 0, max: 1, maxExclusive: true, description: 'a fraction from 0 to below 1' }),
  };
}
