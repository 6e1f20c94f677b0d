// Altinn 3 APIs take an Altinn token, exchanged from a Maskinporten token
// (docs/maskinporten-rules.md §5.7). This token source has the client's getToken/invalidate shape,
// so every adapter takes it as
// it takes a client, and caches Altinn tokens with the same cache as the client: single-flight,
// refresh-ahead, the safety margin, and a still-valid token served through an outage.
import { EventEmitter, setMaxListeners } from 'node:events';
import { TokenCache } from '../cache/index.js';
import type { CacheSlot } from '../cache/index.js';
import { AccessToken } from '../client/access-token.js';
import { validateCachePolicy } from '../client/options.js';
import { ClientClosedError, ConfigurationError, isPortvaktError } from '../errors.js';
import type { AnyPortvaktError } from '../errors.js';
import { problemWithEndpointUrl } from '../environments/urls.js';
import { copyTokenRequest, readGetTokenOptions } from '../grant/index.js';
import { inspectSymbol, numberOption, refuseUnknownOptions, validateClock } from '../shared/index.js';
import type { TokenSource } from '../token-source.js';
import type { Clock, GetTokenOptions, TokenRequest } from '../types.js';
import { exchangeOnce } from './exchange.js';

/** Altinn's token exchange for Maskinporten tokens, per environment (docs/maskinporten-rules.md §5.7). */
export const ALTINN_EXCHANGE_URLS = Object.freeze({
  tt02: 'https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten',
  prod: 'https://platform.altinn.no/authentication/api/v1/exchange/maskinporten',
});

/**
 * Options of {@link createAltinnTokenSource}.
 *
 * @example
 * ```ts
 * const options: AltinnTokenSourceOptions = { maskinporten: client, environment: 'tt02' };
 * ```
 */
export interface AltinnTokenSourceOptions {
  /** The Maskinporten client (or another token source) whose tokens are exchanged. */
  maskinporten: TokenSource<AccessToken>;
  /** `'tt02'` (Altinn's test platform, with Maskinporten test), `'prod'`, or `{ exchangeUrl }` (https, or http on loopback). */
  environment: 'tt02' | 'prod' | { exchangeUrl: string };
  /** Cache tuning, as for the client: `maxEntries`, `refreshAhead`, `jitter`, `minMargin`, `marginRatio`. */
  cache?: { maxEntries?: number; refreshAhead?: number; jitter?: number; minMargin?: number; marginRatio?: number } | undefined;
  /** One exchange attempt's timeout in ms; default 10 000. */
  attemptTimeout?: number | undefined;
  /** Attempts for transient failures (network, 408, 429, 5xx but 501/505); default 3. */
  maxAttempts?: number | undefined;
  /** The `fetch` to use; default the global one. */
  fetch?: typeof fetch | undefined;
  /** Clock in epoch ms; default `Date`. */
  clock?: Clock | undefined;
}

/**
 * A source of Altinn tokens with the shape adapters take (`getToken`, `invalidate`), plus
 * `close()`. `getToken()` takes the same options as the Maskinporten client's: they say which
 * Maskinporten token to exchange (scope, system user, consumerOrg, consent, ...).
 *
 * @example
 * ```ts
 * const altinn: AltinnTokenSource = createAltinnTokenSource({ maskinporten: client, environment: 'tt02' });
 * const token = await altinn.getToken({ scope: 'altinn:serviceowner/instances.read' });
 * ```
 */
export interface AltinnTokenSource extends TokenSource<AccessToken> {
  /** The exchange URL in use. */
  readonly exchangeUrl: string;
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** Drops the cached Altinn token only if it is still this one (after a 401 from an Altinn API). */
  invalidate(token: AccessToken | string): boolean;
  on(event: 'refreshError', listener: (error: AnyPortvaktError) => void): this;
  off(event: 'refreshError', listener: (...args: never[]) => void): this;
  /** Forgets every token and ends exchanges in flight. The Maskinporten client is not closed. */
  close(): Promise<void>;
}

// Altinn's TT02 takes tokens of Maskinporten's test environment, and Altinn's production those of
// production (docs/maskinporten-rules.md §1.1, §5.7): a pair of the two is refused before the first
// exchange, not met with a 401 from Altinn.
const PAIRED_ISSUERS = { tt02: 'https://test.maskinporten.no/', prod: 'https://maskinporten.no/' } as const;

/** Why the Maskinporten client cannot be exchanged at this Altinn environment; undefined when it can or cannot be told. */
function pairingProblem(environment: unknown, issuer: unknown): string | undefined {
  if (environment !== 'tt02' && environment !== 'prod') return undefined;
  const other = environment === 'tt02' ? 'prod' : 'tt02';
  if (issuer !== PAIRED_ISSUERS[other]) return undefined;
  return environment === 'tt02'
    ? "is 'tt02', Altinn's test platform, which takes tokens of Maskinporten's test environment, but the Maskinporten client is for production (https://maskinporten.no/): use environment 'prod', or a client for 'test'."
    : "is 'prod', Altinn's production, which takes tokens of Maskinporten's production, but the Maskinporten client is for the test environment (https://test.maskinporten.no/): use environment 'tt02', or a client for 'prod'.";
}

interface AltinnSlot extends CacheSlot<AccessToken> {
  readonly claims: TokenRequest | undefined;
}

const OPTION_NAMES = ['maskinporten', 'environment', 'cache', 'attemptTimeout', 'maxAttempts', 'fetch', 'clock'];

function exchangeUrlOf(environment: unknown): string {
  if (environment === 'tt02' || environment === 'prod') return ALTINN_EXCHANGE_URLS[environment];
  if (typeof environment === 'string') throw new ConfigurationError('environment', "must be 'tt02', 'prod' or { exchangeUrl }: Altinn's test platform is tt02.");
  if (typeof environment !== 'object' || environment === null) throw new ConfigurationError('environment', "is required: 'tt02', 'prod' or { exchangeUrl }.");
  refuseUnknownOptions(environment, ['exchangeUrl'], 'environment.');
  const url = (environment as { exchangeUrl?: unknown }).exchangeUrl;
  const problem = problemWithEndpointUrl(url);
  if (problem !== undefined) throw new ConfigurationError('environment.exchangeUrl', problem);
  return url as string;
}

/**
 * A stable key for the claims of one call: the same claims in any order (members, nested members,
 * scopes) give the same key. Made from the source's own copy of the claims, never the caller's.
 */
function keyOf(claims: Readonly<TokenRequest>): string {
  const members = Object.keys(claims).sort().map((name) => {
    const value = claims[name as keyof TokenRequest];
    if (name === 'scope') return [name, [...new Set(typeof value === 'string' ? value.split(/\s+/) : (value as readonly string[]))].filter(Boolean).sort()];
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return [name, Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))];
    return [name, value];
  });
  return members.length === 0 ? '' : JSON.stringify(members);
}

/**
 * Creates an Altinn token source: it gets the Maskinporten token through `maskinporten` (with its
 * own cache) and exchanges it at Altinn's authentication API, caching the Altinn token by the
 * lifetime in the token itself (Altinn signs it). Concurrent callers share one exchange; a hit
 * after half the lifetime refreshes in the background; an outage of Altinn leaves a still-valid
 * token in service until its safety margin. A 401 from the exchange itself gets one new
 * Maskinporten token and one more try. Options are validated here, naming the field.
 *
 * @example
 * ```ts
 * import axios from 'axios';
 * import { createAltinnTokenSource, createMaskinportenClient } from '@portvakt/core';
 * import { withMaskinporten } from '@portvakt/axios';
 *
 * const maskinporten = createMaskinportenClient({ clientId, environment: 'test', key: { jwk }, scope: 'altinn:serviceowner/instances.read' });
 * const altinn = createAltinnTokenSource({ maskinporten, environment: 'tt02' });
 * const storage = axios.create({ baseURL: 'https://platform.tt02.altinn.no' });
 * withMaskinporten(storage, { client: altinn });
 * ```
 */
export function createAltinnTokenSource(options: AltinnTokenSourceOptions): AltinnTokenSource {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', "must be an object: { maskinporten, environment: 'tt02' }.");
  refuseUnknownOptions(options, OPTION_NAMES, '');
  const { maskinporten } = options;
  if (typeof maskinporten?.getToken !== 'function' || typeof maskinporten.invalidate !== 'function') {
    throw new ConfigurationError('maskinporten', 'must be a Maskinporten client from createMaskinportenClient().');
  }
  const exchangeUrl = exchangeUrlOf(options.environment);
  // A client whose issuer is known (a preset or explicit endpoints) is checked now; one that
  // discovers its issuer from metadata, before its first exchange.
  const issuerOf = () => (maskinporten as { issuer?: unknown }).issuer;
  const mismatch = pairingProblem(options.environment, issuerOf());
  if (mismatch !== undefined) throw new ConfigurationError('environment', mismatch);
  // The cache options and the clock follow the client's rules (and messages).
  const policy = validateCachePolicy(options.cache);
  const clock = validateClock(options.clock);
  const attemptTimeout = numberOption(options.attemptTimeout, 'attemptTimeout', { fallback: 10_000, min: 100, max: 120_000, integer: true, unit: 'milliseconds' });
  const maxAttempts = numberOption(options.maxAttempts, 'maxAttempts', { fallback: 3, min: 1, max: 10, integer: true });
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new ConfigurationError('fetch', 'must be a fetch function, or left out for the global fetch.');
  const fetchFn: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const settings = { exchangeUrl, fetch: fetchFn, attemptTimeout, maxAttempts };
  const closing = new AbortController();
  setMaxListeners(0, closing.signal);
  const emitter = new EventEmitter();

  const exchange = async (slot: AltinnSlot): Promise<AccessToken> => {
    try {
      let mp = await maskinporten.getToken(slot.claims);
      const discovered = pairingProblem(options.environment, issuerOf());
      if (discovered !== undefined) throw new ConfigurationError('environment', discovered);
      let result;
      try {
        result = await exchangeOnce(settings, mp.accessToken, () => clock.now(), closing.signal);
      } catch (error) {
        if (!(isPortvaktError(error) && error.code === 'ERR_PORTVAKT_ALTINN_EXCHANGE' && error.status === 401)) throw error;
        // Altinn refused this Maskinporten token: drop it and try once with a new one.
        maskinporten.invalidate(mp);
        mp = await maskinporten.getToken(slot.claims);
        result = await exchangeOnce(settings, mp.accessToken, () => clock.now(), closing.signal);
      }
      return new AccessToken(result.token, { tokenType: 'Bearer', scope: result.scope ?? mp.scope, issuedAt: result.sentAt, expiresAt: result.sentAt + result.lifetimeSeconds * 1000 });
    } catch (error) {
      throw closing.signal.aborted ? new ClientClosedError() : error;
    }
  };

  const cache = new TokenCache<AccessToken, AltinnSlot>(policy, clock, {
    hit: () => undefined,
    miss: () => undefined,
    refresh: () => undefined,
    refreshError: (_slot, error) => {
      if (emitter.listenerCount('refreshError') > 0) emitter.emit('refreshError', error);
    },
  });
  // A slot per set of claims, so a hit allocates nothing; bounded like the cache.
  const slots = new Map<string, AltinnSlot>();
  let defaultSlot: AltinnSlot | undefined;
  const slotFor = (callerClaims: TokenRequest | undefined): AltinnSlot => {
    // The slot keeps its own frozen copy: a refresh or a 401 retry later asks for exactly these
    // claims, whatever the caller does to its object afterwards (another customer's orgno, say).
    const claims = callerClaims === undefined ? undefined : copyTokenRequest(callerClaims);
    const key = keyOf(claims ?? {});
    let slot = slots.get(key);
    if (slot === undefined) {
      const scope = typeof claims?.scope === 'string' ? claims.scope : Array.isArray(claims?.scope) ? claims.scope.join(' ') : '';
      const created: AltinnSlot = { key, scope, claims, fetch: () => exchange(created), entry: undefined };
      slot = created;
      if (slots.size >= policy.maxEntries) slots.clear();
      slots.set(key, slot);
    }
    return slot;
  };

  const source: AltinnTokenSource = {
    exchangeUrl,
    getToken(opts?: GetTokenOptions): Promise<AccessToken> {
      if (closing.signal.aborted) return Promise.reject(new ClientClosedError());
      try {
        if (opts === undefined) return cache.get((defaultSlot ??= slotFor(undefined)), 0, undefined);
        const { minValidityMs, signal } = readGetTokenOptions(opts);
        const { minValidity: _minValidity, signal: _signal, ...claims } = opts;
        return cache.get(slotFor(claims), minValidityMs, signal);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    invalidate(token) {
      const value = typeof token === 'string' ? token : token instanceof AccessToken ? token.accessToken : undefined;
      const slot = value === undefined ? undefined : cache.slotOf(value);
      return value !== undefined && slot !== undefined && cache.invalidate(slot.key, value);
    },
    on(event: string, listener: (...args: never[]) => void) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return source;
    },
    off(event: string, listener: (...args: never[]) => void) {
      emitter.off(event, listener as (...args: unknown[]) => void);
      return source;
    },
    async close() {
      closing.abort(new ClientClosedError());
      cache.close();
      slots.clear();
      defaultSlot = undefined;
      emitter.removeAllListeners();
    },
  } as AltinnTokenSource;
  Object.defineProperties(source, {
    toJSON: { value: () => ({ exchangeUrl }), enumerable: false },
    [inspectSymbol]: { value: () => `AltinnTokenSource { exchangeUrl: '${exchangeUrl}' }`, enumerable: false },
  });
  return source;
}
