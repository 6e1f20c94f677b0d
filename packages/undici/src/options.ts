// The options of maskinporten() and their validation when the interceptor is made: every mistake
// is a ConfigurationError naming the option, before any request is sent.
import { ConfigurationError, createOriginPolicy } from '@portvakt/core';
import type { OriginPolicy, TokenRequest, TokenSource } from '@portvakt/core';
import { assertTokenSource, refuseUnknownOptions, resolveTokenRequest } from '@portvakt/core/internal';

/**
 * Options of {@link maskinporten}.
 *
 * @example
 * ```ts
 * const options: MaskinportenInterceptorOptions = { client, scope: 'nav:aareg', origins: ['https://api.nav.no'] };
 * ```
 */
export interface MaskinportenInterceptorOptions {
  /** A token source: a client from `createMaskinportenClient()` or `defineMaskinportenClient()`, a Texas or Altinn source. */
  client: TokenSource;
  /** Origins that may receive the token: https, or http on a loopback address. Required. */
  origins: readonly (string | URL)[];
  /** The scope(s) of the token. Default: the client's default scope. */
  scope?: string | readonly string[] | undefined;
  /** The token's other claims (resource, consumerOrg, pid, systemUser); `scope` above wins over `request.scope`. */
  request?: TokenRequest | undefined;
  /** On a 401 from an allowed origin, get a new token and send the request once more (replayable bodies only). Default true. */
  retryOnUnauthorized?: boolean | undefined;
}

/** Validated options. */
export interface ResolvedInterceptorOptions {
  client: TokenSource;
  policy: OriginPolicy;
  request: TokenRequest;
  retryOnUnauthorized: boolean;
}

const OPTION_NAMES = ['client', 'origins', 'scope', 'request', 'retryOnUnauthorized'];

/**
 * Validates the options of `maskinporten()`.
 *
 * @example
 * ```ts
 * const resolved = resolveInterceptorOptions({ client, origins: ['https://api.nav.no'] });
 * resolved.policy.origins; // ['https://api.nav.no']
 * ```
 */
export function resolveInterceptorOptions(options: MaskinportenInterceptorOptions): ResolvedInterceptorOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', "must be an object: { client, origins: ['https://api.example.no'], scope }.");
  }
  refuseUnknownOptions(options, OPTION_NAMES, '', { owner: 'maskinporten()' });
  assertTokenSource(options.client, 'client');
  if (options.origins === undefined) {
    throw new ConfigurationError('origins', "is required: list the origins that may receive the token, e.g. ['https://api.example.no']. A dispatcher sends to any origin, so there is no default.");
  }
  const retry = options.retryOnUnauthorized;
  if (retry !== undefined && typeof retry !== 'boolean') throw new ConfigurationError('retryOnUnauthorized', 'must be true or false (default true).');
  return {
    client: options.client,
    policy: createOriginPolicy(options.origins, 'origins'),
    request: resolveTokenRequest(options),
    retryOnUnauthorized: retry ?? true,
  };
}
