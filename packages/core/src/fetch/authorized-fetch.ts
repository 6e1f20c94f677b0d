/**
 * A `fetch` that carries a Maskinporten token to the origins it is allowed for and nowhere else,
 * redirects included. Redirects are followed here, hop by hop, so every hop is checked: the token
 * is attached only when that hop's origin is allowed, and is never carried across to another one.
 */
import { ConfigurationError } from '../errors.js';
import { resolveTokenRequest } from '../grant/index.js';
import { assertTokenSource } from '../token-source.js';
import type { TokenSource } from '../token-source.js';
import type { TokenRequest } from '../types.js';
import { createOriginPolicy, originOf } from '../origins/index.js';
import { discardBody, refuseUnknownOptions } from '../shared/index.js';
import { BODY_HEADERS, isReplayableBody, toRequestParts } from './request-parts.js';


/**
 * Options of {@link createAuthorizedFetch}.
 *
 * @example
 * ```ts
 * const options: AuthorizedFetchOptions = { scope: 'skatteetaten:testscope', origins: ['https://api.skatteetaten.no'] };
 * ```
 */
export interface AuthorizedFetchOptions {
  /** The scope(s) of the token. Default: the client's default scope. */
  scope?: string | readonly string[] | undefined;
  /** The other claims of the token (resource, consumerOrg, systemUser, ...); `scope` above wins over `request.scope`. */
  request?: TokenRequest | undefined;
  /** Origins that may receive the token: https, or http on loopback. Required. */
  origins: readonly (string | URL)[];
  /** The `fetch` to wrap. Default: the global `fetch`, looked up per call. */
  fetch?: typeof fetch | undefined;
}

const OPTION_NAMES = ['scope', 'request', 'origins', 'fetch'];

/** fetch follows at most 20 redirects (WHATWG Fetch, "HTTP-redirect fetch"). */
const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Wraps `fetch` so that requests to allowed origins carry `Authorization: <token_type> <token>`.
 *
 * - The token is fetched (from the client's cache) only for requests to an allowed origin. Other
 *   origins get the request untouched.
 * - Redirects (`redirect: 'follow'`, the default) are followed here, at most 20: 303, and 301/302
 *   on a POST, become a GET without body; 307/308 keep method and body when the body can be sent
 *   again (string, bytes, Blob, FormData, URLSearchParams; a stream cannot, and then a 307/308
 *   rejects with a TypeError as `fetch` does). Each hop gets the token only if its origin is
 *   allowed. With `redirect: 'manual'` or `'error'` the caller's choice is respected.
 * - An `Authorization` header the caller set is kept as is, and no token is added in that call;
 *   it is removed when a redirect goes to another origin (as `fetch` does).
 * - A 401 from an allowed origin drops the token from the client's cache (`invalidate`), gets a
 *   new one and sends that request once more (once per call), if the body can be sent again.
 * - The returned response of a followed redirect has `redirected === false`; its `url` is the
 *   final hop's URL.
 *
 * Throws a `ConfigurationError` at once for a bad `origins` list or client.
 *
 * @example
 * ```ts
 * import { createAuthorizedFetch, createMaskinportenClient } from '@portvakt/core';
 * const client = createMaskinportenClient({ clientId, environment: 'test', key: { jwk } });
 * const apiFetch = createAuthorizedFetch(client, { scope: 'nav:aareg', origins: ['https://api.nav.no'] });
 * const response = await apiFetch('https://api.nav.no/aareg/v1/arbeidsforhold');
 * ```
 */
export function createAuthorizedFetch(client: TokenSource, options: AuthorizedFetchOptions): typeof fetch {
  assertTokenSource(client, 'client');
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', "must be an object with the allowed origins: { scope, origins: ['https://api.example.no'] }.");
  }
  refuseUnknownOptions(options, OPTION_NAMES, '', { owner: 'createAuthorizedFetch()' });
  const policy = createOriginPolicy(options.origins, 'origins');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new ConfigurationError('fetch', 'must be a fetch function, or left out for the global fetch.');
  const tokenRequest = resolveTokenRequest(options);
  const baseFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return async function authorizedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const parts = await toRequestParts(input, init);
    const { signal, rest } = parts;
    const mode = parts.redirect;
    let { url, method, body } = parts;
    const headers = parts.headers;
    // The caller's own Authorization wins; it stays with the origin it was meant for.
    let callerAuthorization = headers.has('authorization');
    const ownAuthorization = !callerAuthorization;
    let token: { readonly tokenType: string; readonly accessToken: string } | undefined;
    let retriedAfter401 = false;
    let redirects = 0;

    for (;;) {
      const hopHeaders = new Headers(headers);
      let attached: typeof token;
      if (ownAuthorization && policy.allows(url)) {
        token ??= await client.getToken({ ...tokenRequest, signal });
        hopHeaders.set('authorization', `${token.tokenType} ${token.accessToken}`);
        attached = token;
      } else if (!callerAuthorization) {
        hopHeaders.delete('authorization');
      }
      const response = await baseFetch(url.href, {
        ...rest,
        method,
        headers: hopHeaders,
        body: body ?? null,
        signal: signal ?? null,
        redirect: mode === 'follow' ? 'manual' : mode,
      });

      if (response.status === 401 && attached !== undefined && !retriedAfter401 && isReplayableBody(body)) {
        // docs/maskinporten-rules.md §7: on a 401 from the API, drop the cached token and retry once.
        retriedAfter401 = true;
        discardBody(response);
        client.invalidate(attached);
        token = undefined;
        continue;
      }
      if (mode !== 'follow' || !REDIRECT_STATUSES.has(response.status)) return response;
      const location = response.headers.get('location');
      if (location === null) return response;

      discardBody(response);
      const next = URL.parse(location, url.href);
      if (next === null || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
        throw new TypeError(`fetch failed: redirect to an invalid or non-http(s) location (HTTP ${response.status})`);
      }
      if (++redirects > MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`);
      const status = response.status;
      if (status === 303 ? method !== 'GET' && method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
        for (const name of BODY_HEADERS) headers.delete(name);
      } else if (!isReplayableBody(body)) {
        throw new TypeError(`fetch failed: cannot follow a ${status} redirect with a streamed request body`);
      }
      if (callerAuthorization && originOf(next) !== originOf(url)) {
        headers.delete('authorization');
        callerAuthorization = false;
      }
      url = next;
    }
  };
}
