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
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/** What a redacted header reads. */
export const REDACTED = '[redacted]';

/** The strings to remove: `<token_type> <token>` first, then the bare token. */
export type Secrets = readonly string[];

type Bag = Record<PropertyKey, unknown>;

const SWEEP_LIMIT = 10_000;
/** Node's private symbol for a request's header map, found on the first request we see. */
let outHeadersKey: symbol | undefined;

function isObject(value: unknown): value is Bag {
  return typeof value === 'object' && value !== null;
}

function contains(value: string, secrets: Secrets): boolean {
  for (const secret of secrets) if (value.includes(secret)) return true;
  return false;
}

function scrub(value: string, secrets: Secrets): string {
  let out = value;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** Makes an own data property non-enumerable, keeping its value. */
function hide(target: unknown, key: string): void {
  if (!isObject(target)) return;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor?.enumerable === true && descriptor.configurable === true) Object.defineProperty(target, key, { enumerable: false });
}

function scrubHeaderObject(headers: unknown, secrets: Secrets): void {
  if (!isObject(headers)) return;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (typeof value === 'string' && contains(value, secrets)) headers[name] = REDACTED;
  }
}

function redactClientRequest(request: Bag, secrets: Secrets, hideLinks: boolean): void {
  if (typeof request._header === 'string' && contains(request._header, secrets)) request._header = scrub(request._header, secrets);
  outHeadersKey ??= Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'kOutHeaders');
  const headerMap = outHeadersKey === undefined ? undefined : request[outHeadersKey];
  if (isObject(headerMap)) {
    for (const entry of Object.values(headerMap)) {
      // Node keeps each header as [name as given, value].
      if (Array.isArray(entry) && typeof entry[1] === 'string' && contains(entry[1], secrets)) entry[1] = REDACTED;
    }
  }
  if (!hideLinks) return;
  hide(request, 'socket');
  hide(request, 'agent');
  if (isObject(request.res)) {
    hide(request.res, 'socket');
    hide(request.res, 'client');
  }
}

function redactRedirectable(redirectable: Bag, secrets: Secrets, hideLinks: boolean): void {
  const options = redirectable._options;
  if (isObject(options)) {
    scrubHeaderObject(options.headers, secrets);
    if (hideLinks) {
      hide(options, 'agent');
      hide(options, 'agents');
      hide(options, 'nativeProtocols');
    }
  }
  if (isObject(redirectable._currentRequest)) redactClientRequest(redirectable._currentRequest, secrets, hideLinks);
}

/** The request object of a response or error: Node's ClientRequest, follow-redirects' wrapper, or a fetch Request. */
function redactRequest(request: unknown, secrets: Secrets, hideLinks: boolean): void {
  if (!isObject(request)) return;
  if (request instanceof http.ClientRequest) {
    redactClientRequest(request as unknown as Bag, secrets, hideLinks);
    if (isObject(request._redirectable)) redactRedirectable(request._redirectable, secrets, hideLinks);
  } else if (isObject(request._options) && '_currentRequest' in request) {
    redactRedirectable(request, secrets, hideLinks);
  } else if (request.headers instanceof Headers) {
    const value = request.headers.get('authorization');
    if (value !== null && contains(value, secrets)) {
      try {
        request.headers.set('authorization', REDACTED);
      } catch {
        // An immutable Headers: the sweep below still covers errors.
      }
    }
  }
}

/** Redacts our Authorization header in a config, and (for errors) hides its agents. */
export function redactConfig(config: InternalAxiosRequestConfig | undefined, secrets: Secrets, hideLinks = false): void {
  if (!isObject(config)) return;
  const headers = config.headers as { get?: (name: string) => unknown; set?: (name: string, value: string) => unknown } | undefined;
  if (typeof headers?.get === 'function' && typeof headers.set === 'function') {
    const value = headers.get('Authorization');
    if (typeof value === 'string' && contains(value, secrets)) headers.set('Authorization', REDACTED);
  } else {
    scrubHeaderObject(headers, secrets);
  }
  if (!hideLinks) return;
  hide(config, 'httpAgent');
  hide(config, 'httpsAgent');
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
export function redactResponse(response: AxiosResponse | undefined, secrets: Secrets, hideLinks = false): void {
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

/** How Node writes the header this package sets, in the header block it sends. */
const AUTHORIZATION_LINE = '\r\nAuthorization: ';

/**
 * Node's request as sent with our header: the header block holds it as one line, and the header
 * map under its lower-case name. Returns false when either is not where expected.
 */
function redactSentClientRequest(request: Bag, authorization: string): boolean {
  const header = request._header;
  if (typeof header !== 'string') return false;
  // A search for the short line start, then one compare of the value: a search for the whole
  // value costs several times more (a ~1 KB pattern sets up Boyer-Moore tables first).
  const line = header.indexOf(AUTHORIZATION_LINE);
  if (line === -1) return false;
  const at = line + AUTHORIZATION_LINE.length;
  const end = at + authorization.length;
  if (header.slice(at, end) !== authorization || header.charCodeAt(end) !== 13) return false;
  request._header = header.slice(0, at) + REDACTED + header.slice(end);
  outHeadersKey ??= Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'kOutHeaders');
  const headerMap = outHeadersKey === undefined ? undefined : request[outHeadersKey];
  const entry = isObject(headerMap) ? headerMap.authorization : undefined;
  if (!Array.isArray(entry) || entry[1] !== authorization) return false;
  entry[1] = REDACTED;
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
      redactSentClientRequest(request as unknown as Bag, authorization) &&
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
 * Emitters the sweep may enter: the request's own objects, and a destroyed socket (which no other
 * request can use any more; a refused connection leaves the unsent header in it). Live sockets,
 * agents and HTTP/2 sessions are shared with other requests and are left alone.
 */
function isOwnRequestObject(node: object): boolean {
  return (
    node instanceof http.ClientRequest ||
    node instanceof http.IncomingMessage ||
    ('_currentRequest' in node && '_options' in node) ||
    (node instanceof net.Socket && node.destroyed)
  );
}

/** Replaces every occurrence of a secret reachable from `root`, without entering shared emitters. */
function sweep(root: unknown, secrets: Secrets): void {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0 && seen.size < SWEEP_LIMIT) {
    const node = stack.pop();
    if (!isObject(node) || seen.has(node)) continue;
    seen.add(node);
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) continue;
    if (node instanceof EventEmitter && !isOwnRequestObject(node)) continue;
    for (const key of Reflect.ownKeys(node)) {
      const descriptor = Object.getOwnPropertyDescriptor(node, key);
      if (descriptor === undefined || !('value' in descriptor)) continue;
      const value: unknown = descriptor.value;
      if (typeof value === 'string') {
        if (descriptor.writable === true && contains(value, secrets)) node[key] = scrub(value, secrets);
      } else if (isObject(value)) {
        stack.push(value);
      }
    }
    if (node instanceof Map) {
      for (const [key, value] of node as Map<unknown, unknown>) {
        if (typeof value === 'string') {
          if (contains(value, secrets)) (node as Map<unknown, unknown>).set(key, scrub(value, secrets));
        } else if (isObject(value)) {
          stack.push(value);
        }
      }
    }
  }
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
export function redactError(error: unknown, secrets: Secrets): void {
  if (!isObject(error)) return;
  redactConfig(error.config as InternalAxiosRequestConfig | undefined, secrets, true);
  redactRequest(error.request, secrets, true);
  if (isObject(error.response)) redactResponse(error.response as unknown as AxiosResponse, secrets, true);
  if (secrets.length > 0) sweep(error, secrets);
}

/**
 * The strings that reveal a token.
 *
 * @example
 * ```ts
 * secretsOf([token]); // [token.authorization, token.accessToken]
 * ```
 */
export function secretsOf(tokens: readonly { readonly authorization: string; readonly accessToken: string }[]): Secrets {
  const out: string[] = [];
  for (const token of tokens) out.push(token.authorization, token.accessToken);
  return out;
}
