// The options of createTexasTokenSource(), checked before any request: each error names the field
// (or NAIS_TOKEN_ENDPOINT) and the fix.
import { validateCachePolicy } from '../client/options.js';
import type { CachePolicy } from '../cache/index.js';
import { problemWithEndpointUrl } from '../environments/urls.js';
import { ConfigurationError } from '../errors.js';
import { normalizeTokenRequest, validateTokenRequest } from '../grant/index.js';
import { refuseUnknownOptions, validateClock } from '../shared/index.js';
import { validateTransportOptions } from '../transport/index.js';
import type { ResolvedTransportOptions, TransportOptions } from '../transport/index.js';
import type { Clock, TokenRequest } from '../types.js';
import { SIGNING_OPTIONS, texasRequestBody } from './request.js';

/**
 * Options of {@link createTexasTokenSource}. Only the endpoint is needed, and on NAIS it comes
 * from `NAIS_TOKEN_ENDPOINT`.
 *
 * @example
 * ```ts
 * const options: TexasTokenSourceOptions = { scope: 'nav:aareg/v1/arbeidsforhold' };
 * ```
 */
export interface TexasTokenSourceOptions {
  /** Texas' token endpoint: https, or http on a loopback address (Texas listens on 127.0.0.1 in the pod). Default `process.env.NAIS_TOKEN_ENDPOINT`. */
  endpoint?: string | undefined;
  /** Default scope(s) for getToken(); each must be listed under `spec.maskinporten.scopes.consumes` in the NAIS manifest. */
  scope?: string | readonly string[] | undefined;
  /** Other default claims Texas can send: `resource` (one), `systemUser` or `consent`. */
  defaults?: Pick<TokenRequest, 'resource' | 'systemUser' | 'consent'> | undefined;
  /**
   * Cache tuning: `maxEntries` (default 10 000), `jitter` (0.1), `minMargin` (5 s), `marginRatio`
   * (0.1). There is no `refreshAhead`: the refresh follows Texas' own eviction (docs/nais.md).
   */
  cache?: { maxEntries?: number | undefined; jitter?: number | undefined; minMargin?: number | undefined; marginRatio?: number | undefined } | undefined;
  /**
   * How Texas is called. Defaults: `attemptTimeout` 10 000 ms (Texas itself may spend up to about
   * 8 s retrying Maskinporten), `deadline` 25 000 ms, `maxAttempts` 2 (Texas retries Maskinporten
   * too), `backoffBase` 100 ms, `backoffMax` 1 000 ms.
   */
  transport?: TransportOptions | undefined;
  /**
   * The Maskinporten client id, for diagnostics only (the `clientId` of the events, OpenTelemetry's
   * `portvakt.client.id`): Texas knows the client, the app need not. Default `'nais-texas'`.
   */
  clientId?: string | undefined;
  /** Clock in epoch ms; default `Date`. */
  clock?: Clock | undefined;
}

/** The transport defaults for Texas (see {@link TexasTokenSourceOptions.transport}). */
const TRANSPORT_DEFAULTS = { attemptTimeout: 10_000, deadline: 25_000, maxAttempts: 2, backoffBase: 100, backoffMax: 1_000 };
const OPTION_NAMES = ['endpoint', 'scope', 'defaults', 'cache', 'transport', 'clientId', 'clock'];
const CACHE_KEYS = new Set(['maxEntries', 'jitter', 'minMargin', 'marginRatio']);
const NOT_FOR_TEXAS_CACHE: Readonly<Record<string, string>> = Object.freeze({
  refreshAhead: 'is not an option of the Texas source: its refresh follows Texas\' own cache, which keeps a token until 120 s before expiry (docs/nais.md).',
  store: 'is not an option of the Texas source: every pod has its own Texas with its own cache, so a shared store would spare Maskinporten nothing.',
});

/** Validated options. */
export interface TexasSettings {
  endpoint: string;
  defaults: TokenRequest;
  hasDefaults: boolean;
  policy: CachePolicy;
  transport: ResolvedTransportOptions;
  clientId: string;
  clock: Clock;
}

function endpointOf(given: unknown): string {
  const fromEnv = given === undefined;
  const field = fromEnv ? 'NAIS_TOKEN_ENDPOINT' : 'endpoint';
  const value = fromEnv ? process.env.NAIS_TOKEN_ENDPOINT : given;
  if (value === undefined || value === '') {
    throw new ConfigurationError(field, 'is required: give Texas\' token endpoint as `endpoint`, or run on NAIS with Maskinporten enabled (spec.maskinporten.enabled: true), where NAIS sets NAIS_TOKEN_ENDPOINT.');
  }
  const problem = problemWithEndpointUrl(value);
  if (problem !== undefined) throw new ConfigurationError(field, problem);
  const path = new URL(value as string).pathname;
  // The other two endpoints NAIS hands over are easily taken for this one.
  if (/\/introspect\/?$/.test(path)) throw new ConfigurationError(field, 'is Texas\' introspection endpoint (NAIS_TOKEN_INTROSPECTION_ENDPOINT): give its token endpoint, NAIS_TOKEN_ENDPOINT (…/api/v1/token).');
  if (/\/token\/exchange\/?$/.test(path)) throw new ConfigurationError(field, 'is Texas\' token exchange endpoint (NAIS_TOKEN_EXCHANGE_ENDPOINT), for user tokens: give its token endpoint, NAIS_TOKEN_ENDPOINT (…/api/v1/token).');
  return value as string;
}

/** Checks every option; throws a ConfigurationError naming the field. */
export function validateTexasOptions(options: unknown): TexasSettings {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new ConfigurationError('options', "must be an object such as { scope: 'nav:aareg' }, or left out.");
  }
  const o = (options ?? {}) as TexasTokenSourceOptions & Record<string, unknown>;
  for (const name of Object.keys(SIGNING_OPTIONS)) {
    if (Object.hasOwn(o, name)) throw new ConfigurationError(name, SIGNING_OPTIONS[name] as string);
  }
  refuseUnknownOptions(o, OPTION_NAMES, '', { owner: 'createTexasTokenSource()' });
  const endpoint = endpointOf(o.endpoint);
  if (o.scope !== undefined) normalizeTokenRequest({ scope: o.scope }, undefined);
  if (o.defaults !== undefined) {
    if (typeof o.defaults !== 'object' || o.defaults === null || Array.isArray(o.defaults)) throw new ConfigurationError('defaults', "must be an object such as { resource: 'https://api.example.no/' }.");
    if (Object.hasOwn(o.defaults, 'scope')) throw new ConfigurationError('defaults.scope', 'give the default scope as the `scope` option.');
    validateTokenRequest(o.defaults as TokenRequest, 'defaults.');
    // A default Texas cannot send is refused now, not at the first call.
    texasRequestBody(normalizeTokenRequest({ scope: 'x' }, o.defaults as TokenRequest), 'defaults.');
  }
  const cache = o.cache as Record<string, unknown> | undefined;
  if (typeof cache === 'object' && cache !== null) {
    for (const [name, message] of Object.entries(NOT_FOR_TEXAS_CACHE)) if (Object.hasOwn(cache, name)) throw new ConfigurationError(`cache.${name}`, message);
  }
  const policy = validateCachePolicy(cache, CACHE_KEYS);
  const transport = validateTransportOptions(o.transport, 'transport', TRANSPORT_DEFAULTS);
  if (o.clientId !== undefined && (typeof o.clientId !== 'string' || o.clientId.trim() === '' || o.clientId.length > 200)) {
    throw new ConfigurationError('clientId', 'must be a non-empty string (it only names the source in diagnostics), or left out.');
  }
  return {
    endpoint,
    defaults: { ...o.defaults, scope: o.scope },
    hasDefaults: o.defaults !== undefined,
    policy,
    transport,
    clientId: o.clientId ?? 'nais-texas',
    clock: validateClock(o.clock),
  };
}
