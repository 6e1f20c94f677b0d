// The options of withMaskinporten() and their validation when it is called: every mistake is a
// ConfigurationError naming the option, before any request is sent.
import { ConfigurationError, createOriginPolicy } from '@portvakt/core';
import type { OriginPolicy, TokenRequest, TokenSource } from '@portvakt/core';
import { assertTokenSource, refuseUnknownOptions, resolveTokenRequest } from '@portvakt/core/internal';
import type { Got } from 'got' with { 'resolution-mode': 'import' };

/**
 * Options of {@link withMaskinporten}.
 *
 * @example
 * ```ts
 * const options: WithMaskinportenOptions = { client, scope: 'nav:aareg', origins: ['https://api.nav.no'] };
 * ```
 */
export interface WithMaskinportenOptions {
  /** A token source: a client from `createMaskinportenClient()` or `defineMaskinportenClient()`, a Texas or Altinn source. */
  client: TokenSource;
  /**
   * Origins that may receive the token: https, or http on a loopback address. Default: the origin
   * of the instance's `prefixUrl`; required when it has none.
   */
  origins?: readonly (string | URL)[] | undefined;
  /** The scope(s) of the token. Default: the client's default scope. */
  scope?: string | readonly string[] | undefined;
  /** The token's other claims (resource, consumerOrg, pid, systemUser); `scope` above wins over `request.scope`. */
  request?: TokenRequest | undefined;
  /** On a 401 from an allowed origin, get a new token and send the request once more (replayable bodies only). Default true. */
  retryOnUnauthorized?: boolean | undefined;
}

/** Validated options. */
export interface ResolvedOptions {
  client: TokenSource;
  policy: OriginPolicy;
  request: TokenRequest;
  retryOnUnauthorized: boolean;
}

const OPTION_NAMES = ['client', 'origins', 'scope', 'request', 'retryOnUnauthorized'];

function isGot(value: unknown): value is Got {
  return typeof value === 'function' && typeof (value as Partial<Got>).extend === 'function' && typeof (value as Partial<Got>).defaults === 'object';
}

/** The allowed origins: `origins`, or the origin of the instance's prefixUrl. */
function resolvePolicy(instance: Got, origins: WithMaskinportenOptions['origins']): OriginPolicy {
  if (origins !== undefined) return createOriginPolicy(origins, 'origins');
  const prefixUrl: unknown = instance.defaults.options.prefixUrl;
  const parsed = typeof prefixUrl === 'string' || prefixUrl instanceof URL ? URL.parse(String(prefixUrl)) : null;
  if (parsed === null || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new ConfigurationError('origins', "is required when the instance has no prefixUrl: list the origins that may receive the token, e.g. ['https://api.example.no'].");
  }
  try {
    return createOriginPolicy([parsed.origin], 'prefixUrl');
  } catch (error) {
    // Only the origin goes into the message: a prefixUrl may carry credentials.
    throw new ConfigurationError('prefixUrl', `"${parsed.origin}" cannot receive tokens: use https (plain http only for a loopback address), or pass \`origins\`.`, { cause: error });
  }
}

/**
 * Validates the instance and the options of `withMaskinporten()`.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions(got.extend({ prefixUrl: 'https://api.nav.no' }), { client });
 * resolved.policy.origins; // ['https://api.nav.no']
 * ```
 */
export function resolveOptions(instance: unknown, options: WithMaskinportenOptions): ResolvedOptions {
  if (!isGot(instance)) throw new ConfigurationError('instance', 'must be a got instance: got itself, or one from got.extend({ prefixUrl }).');
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', "must be an object: { client, scope, origins: ['https://api.example.no'] }.");
  refuseUnknownOptions(options, OPTION_NAMES, '', { owner: 'withMaskinporten()' });
  assertTokenSource(options.client, 'client');
  const retry = options.retryOnUnauthorized;
  if (retry !== undefined && typeof retry !== 'boolean') throw new ConfigurationError('retryOnUnauthorized', 'must be true or false (default true).');
  return {
    client: options.client,
    policy: resolvePolicy(instance, options.origins),
    request: resolveTokenRequest(options),
    retryOnUnauthorized: retry ?? true,
  };
}
