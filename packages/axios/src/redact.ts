// Keeping the token out of what Axios hands back. A response or AxiosError holds the request
// config (our header), the Node request (its `_header` string and header map carry the
// Authorization line; follow-redirects keeps the headers for the next hop) and, through the
// request's socket and agent, every other request in flight on that agent, whose headers carry the
// same cached token. Printing or serialising an error would show all of it.
//
// What is changed, once the request is over:
// - `config.headers.Authorization`, if it is ours: set to '[redacted]' (a later send of the same
//   config recognises the marker and attaches a fresh token);
// - the Node request(s): the token in `_header`, in the header map and in follow-redirects'
//   `_options.headers` becomes '[redacted]'; the fetch adapter's Request: its Authorization header;
// - for errors, links to shared connection state become non-enumerable (still readable, but
//   util.inspect, JSON and loggers no longer walk into them): `socket` and `agent` of the request,
//   `socket`/`client` of its response, `agent`/`agents`/`nativeProtocols` of follow-redirects'
//   options, and `httpAgent`/`httpsAgent` of the config (a later send through the same instance
//   takes the instance's agents again; a per-request agent must be passed again). A successful
//   response skips this to keep the hot path cheap: printing it at depth 3 or more can still walk
//   into the agent and other requests in flight;
// - for errors, a bounded sweep over everything the error reaches, except live sockets, agents
//   and other shared emitters, replaces any remaining occurrence of the token.
//
// A successful response takes a cheaper road (redactSentResponse): the request carried the token
// in one header only, the Authorization header this package set, with the exact value
// `token.authorization`. Axios, Node and follow-redirects copy that value to known places (the
// config's headers, the request's header map, the header block Node sent, follow-redirects'
// options), so each is a string compare (the header block one search). A place that does not hold
// the value where expected (another letter case, another Axios version) gets the full scan above.
//
// The Node request parts (the header block and map, the links to shared connection state, the
// sweep) are core's, shared with @portvakt/got; what is here is Axios's own: its config, its fetch
// adapter's Request, and follow-redirects' wrapper.
import http from 'node:http';
import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { containsSecret, hideProperty, REDACTED, redactClientRequest, redactSentClientRequest, scrubHeaderObject, secretsOf, sweepSecrets } from '@portvakt/core/internal';
import type { TokenSecrets } from '@portvakt/core/internal';

type Bag = Record<PropertyKey, unknown>;

function isObject(value: unknown): value is Bag {
  return typeof value === 'object' && value !== null;
}

function redactRedirectable(redirectable: Bag, secrets: TokenSecrets, hideLinks: boolean): void {
  const options = redirectable._options;
  if (isObject(options)) {
    scrubHeaderObject(options.headers, secrets);
    if (hideLinks) {
      hideProperty(options, 'agent');
      hideProperty(options, 'agents');
      hideProperty(options, 'nativeProtocols');
    }
  }
  if (isObject(redirectable._currentRequest)) redactClientRequest(redirectable._currentRequest, secrets, hideLinks);
}

/** The request object of a response or error: Node's ClientRequest, follow-redirects' wrapper, or a fetch Request. */
function redactRequest(request: unknown, secrets: TokenSecrets, hideLinks: boolean): void {
  if (!isObject(request)) return;
  if (request instanceof http.ClientRequest) {
    redactClientRequest(request, secrets, hideLinks);
    if (isObject(request._redirectable)) redactRedirectable(request._redirectable, secrets, hideLinks);
  } else if (isObject(request._options) && '_currentRequest' in request) {
    redactRedirectable(request, secrets, hideLinks);
  } else if (request.headers instanceof Headers) {
    const value = request.headers.get('authorization');
    if (value !== null && containsSecret(value, secrets)) {
      try {
        request.headers.set('authorization', REDACTED);
      } catch {
        // An immutable Headers: the sweep below still covers errors.
      }
    }
  }
}

/** Redacts our Authorization header in a config, and (for errors) hides its agents. */
export function redactConfig(config: InternalAxiosRequestConfig | undefined, secrets: TokenSecrets, hideLinks = false): void {
  if (!isObject(config)) return;
  const headers = config.headers as { get?: (name: string) => unknown; set?: (name: string, value: string) => unknown } | undefined;
  if (typeof headers?.get === 'function' && typeof headers.set === 'function') {
    const value = headers.get('Authorization');
    if (typeof value === 'string' && containsSecret(value, secrets)) headers.set('Authorization', REDACTED);
  } else {
    scrubHeaderObject(headers, secrets);
  }
  if (!hideLinks) return;
  hideProperty(config, 'httpAgent');
  hideProperty(config, 'httpsAgent');
}

/**
 * Redacts a response: the token in its config and its request. `hideLinks` (for errors) also hides
 * the links to shared connection state; a successful response skips that to stay cheap.
 *
 * @example
 * ```ts
 * redactResponse(response, [token.authorization, token.accessToken]);
 * ```
 */
export function redactResponse(response: AxiosResponse | undefined, secrets: TokenSecrets, hideLinks = false): void {
  if (!isObject(response)) return;
  redactConfig(response.config, secrets, hideLinks);
  redactRequest(response.request, secrets, hideLinks);
}

/** Sets `headers[name]` to the marker if it holds exactly `authorization`; false if it does not. */
function redactOwnHeader(headers: unknown, name: string, authorization: string): boolean {
  if (!isObject(headers) || headers[name] !== authorization) return false;
  headers[name] = REDACTED;
  return true;
}

/**
 * Redacts a successful response whose request carried `authorization` (the very string this
 * package set as the Authorization header, the value of the last of `tokens`): an identity compare
 * per place Axios, Node and follow-redirects copy it to, and one search in the header block Node
 * sent. Whatever is not found where expected gets {@link redactResponse}'s full scan, for every
 * token in `tokens` (the refused one too, after a 401 retry).
 *
 * @example
 * ```ts
 * const response = await adapter(config);
 * redactSentResponse(response, authorization, [token]);
 * ```
 */
export function redactSentResponse(response: AxiosResponse, authorization: string, tokens: readonly { readonly authorization: string; readonly accessToken: string }[]): void {
  if (!isObject(response)) return;
  const config = response.config as InternalAxiosRequestConfig | undefined;
  if (!redactOwnHeader(config?.headers, 'Authorization', authorization)) redactConfig(config, secretsOf(tokens));
  const request: unknown = response.request;
  if (request instanceof http.ClientRequest) {
    const redirectable = (request as unknown as Bag)._redirectable;
    const options = isObject(redirectable) ? redirectable._options : undefined;
    if (
      redactSentClientRequest(request, authorization) &&
      // follow-redirects: its options keep the headers for the next hop; its current request is this one.
      (!isObject(redirectable) ||
        (isObject(options) && redactOwnHeader(options.headers, 'Authorization', authorization) && redirectable._currentRequest === request))
    ) {
      return;
    }
  }
  redactRequest(request, secretsOf(tokens), false);
}

/**
 * Redacts an error before it leaves the adapter: config, request, response, and a sweep for
 * anything else. With no secrets (a request that carried no token) only the links to shared
 * connection state are hidden, since they lead to other requests' tokens.
 *
 * @example
 * ```ts
 * redactError(error, [token.authorization, token.accessToken]);
 * ```
 */
export function redactError(error: unknown, secrets: TokenSecrets): void {
  if (!isObject(error)) return;
  redactConfig(error.config as InternalAxiosRequestConfig | undefined, secrets, true);
  redactRequest(error.request, secrets, true);
  if (isObject(error.response)) redactResponse(error.response as unknown as AxiosResponse, secrets, true);
  if (secrets.length > 0) sweepSecrets(error, secrets);
}
