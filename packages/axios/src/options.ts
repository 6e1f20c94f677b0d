// The options of withMaskinporten() and their validation at install time: every mistake is a
// ConfigurationError naming the option, before any request is sent.
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { ConfigurationError, createOriginPolicy } from '@portvakt/core';
import { assertTokenSource, refuseUnknownOptions, resolveTokenRequest } from '@portvakt/core/internal';
import type { MaskinportenClient, OriginPolicy, TokenRequest } from '@portvakt/core';

/**
 * Options of `withMaskinporten`.
 *
 * @example
 * ```ts
 * const options: WithMaskinportenOptions = { client, scope: 'nav:aareg/v1/arbeidsforhold', origins: ['https://api.nav.no'] };
 * ```
 */
export interface WithMaskinportenOptions {
  /** The Maskinporten client (from `createMaskinportenClient`); only `getToken` and `invalidate` are used. */
  client: Pick<MaskinportenClient, 'getToken' | 'invalidate'>;
  /** The scope(s) of the token. Default: the client's default scope. */
  scope?: string | readonly string[] | undefined;
  /** The token's other claims (resource, consumerOrg, pid, systemUser); `scope` above wins over `request.scope`. */
  request?: TokenRequest | undefined;
  /**
   * Origins that may receive the token: https, or http on a loopback address. Default: the origin
   * of the instance's `baseURL` at the time of the call.
   */
  origins?: readonly (string | URL)[] | undefined;
  /** Replace an `Authorization` header the caller set. Default false: the caller's header is kept and no token is added. */
  overwriteAuthorization?: boolean | undefined;
  /** On a 401 from an allowed origin, get a new token and send the request once more (replayable bodies only). Default true. */
  retryOnUnauthorized?: boolean | undefined;
}

/** Validated options. */
export interface ResolvedOptions {
  client: Pick<MaskinportenClient, 'getToken' | 'invalidate'>;
  policy: OriginPolicy;
  request: TokenRequest;
  overwriteAuthorization: boolean;
  retryOnUnauthorized: boolean;
}

const OPTION_NAMES = ['client', 'scope', 'request', 'origins', 'overwriteAuthorization', 'retryOnUnauthorized'];

/**
 * Refuses anything but an instance from `axios.create()`. The global default instance is shared by
 * every library in the process that imports axios: a token installed there would ride along on
 * their requests too (they would all be checked against the origins, but the default instance has
 * no baseURL to anchor them, and eject() order becomes everyone's problem).
 */
function assertOwnInstance(instance: unknown): asserts instance is AxiosInstance {
  const candidate = instance as Partial<AxiosInstance> | null | undefined;
  if ((typeof candidate !== 'function' && typeof candidate !== 'object') || candidate === null || typeof candidate.interceptors?.request?.use !== 'function' || typeof candidate.getUri !== 'function') {
    throw new ConfigurationError('instance', 'must be an Axios instance from axios.create({ baseURL }).');
  }
  // The default export also carries the static helpers (isAxiosError, ...) and `default` pointing
  // to itself; instances from axios.create() do not. That catches a second copy of axios too.
  const isDefaultExport = candidate === axios || candidate.defaults === axios.defaults || (candidate as { default?: unknown }).default === candidate;
  if (isDefaultExport) {
    throw new ConfigurationError('instance', 'is the global default Axios instance: create your own with axios.create({ baseURL }) so the token stays on the requests meant for it.');
  }
}

function booleanOption(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigurationError(field, `must be true or false (default ${String(fallback)}).`);
  return value;
}

/** The allowed origins: `origins`, or the origin of the instance's baseURL. */
function resolvePolicy(instance: AxiosInstance, origins: WithMaskinportenOptions['origins']): OriginPolicy {
  if (origins !== undefined) return createOriginPolicy(origins, 'origins');
  const baseURL = instance.defaults.baseURL;
  const parsed = typeof baseURL === 'string' ? URL.parse(baseURL) : null;
  if (parsed === null || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new ConfigurationError('origins', 'is required when the instance has no absolute http(s) baseURL: list the origins that may receive the token, e.g. ["https://api.example.no"].');
  }
  try {
    return createOriginPolicy([parsed.origin], 'baseURL');
  } catch (error) {
    // Only the origin goes into the message: a baseURL may carry credentials.
    throw new ConfigurationError('baseURL', `"${parsed.origin}" cannot receive tokens: use https (plain http only for a loopback address), or pass \`origins\`.`, { cause: error });
  }
}

/**
 * Validates the instance and the options of `withMaskinporten`.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions(axios.create({ baseURL: 'https://api.nav.no' }), { client, scope: 'nav:aareg' });
 * resolved.policy.origins; // ['https://api.nav.no']
 * ```
 */
export function resolveOptions(instance: unknown, options: WithMaskinportenOptions): ResolvedOptions {
  assertOwnInstance(instance);
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object: { client, scope }.');
  refuseUnknownOptions(options, OPTION_NAMES, '', { owner: 'withMaskinporten()' });
  const { client } = options;
  assertTokenSource(client, 'client');
  const request = resolveTokenRequest(options);
  return {
    client,
    policy: resolvePolicy(instance, options.origins),
    request,
    overwriteAuthorization: booleanOption(options.overwriteAuthorization, 'overwriteAuthorization', false),
    retryOnUnauthorized: booleanOption(options.retryOnUnauthorized, 'retryOnUnauthorized', true),
  };
}
