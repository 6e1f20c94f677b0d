// Keeping a token out of Node's request objects once a request is over, for the HTTP client
// adapters (Axios, got). A response or error holds the Node `ClientRequest`, whose `_header` (the
// header block sent) and header map (under Node's `kOutHeaders` symbol) carry the Authorization
// line, and whose socket and agent lead to every other request in flight on that agent, whose
// headers carry the same cached token. Printing an error with `util.inspect(error, { showHidden:
// true })` or walking it in a logger would show all of it.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';

/** What a redacted header reads. */
export const REDACTED = '[redacted]';

/** The strings to remove: `<token_type> <token>` first, then the bare token. */
export type TokenSecrets = readonly string[];

type Bag = Record<PropertyKey, unknown>;

const SWEEP_LIMIT = 10_000;
/** How Node writes a header set as `Authorization`, in the header block it sends. */
const AUTHORIZATION_LINE = '\r\nAuthorization: ';
/** Node's private symbol for a request's header map, found on the first request we see. */
let outHeadersKey: symbol | undefined;

function isObject(value: unknown): value is Bag {
  return typeof value === 'object' && value !== null;
}

/**
 * The strings that reveal a token.
 *
 * @example
 * ```ts
 * secretsOf([token]); // [token.authorization, token.accessToken]
 * ```
 */
export function secretsOf(tokens: readonly { readonly authorization: string; readonly accessToken: string }[]): TokenSecrets {
  const out: string[] = [];
  for (const token of tokens) out.push(token.authorization, token.accessToken);
  return out;
}

/**
 * Whether `value` contains any of the secrets.
 *
 * @example
 * ```ts
 * containsSecret('Bearer eyJ...', secretsOf([token])); // true
 * ```
 */
export function containsSecret(value: string, secrets: TokenSecrets): boolean {
  for (const secret of secrets) if (value.includes(secret)) return true;
  return false;
}

/**
 * `value` with every occurrence of a secret replaced by {@link REDACTED}.
 *
 * @example
 * ```ts
 * scrubSecrets(`GET / HTTP/1.1\r\nAuthorization: Bearer ${token}\r\n`, [token]); // '... Bearer [redacted]...'
 * ```
 */
export function scrubSecrets(value: string, secrets: TokenSecrets): string {
  let out = value;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * Makes an own data property non-enumerable, keeping its value: still readable, but
 * `util.inspect`, JSON and loggers no longer walk into it.
 *
 * @example
 * ```ts
 * hideProperty(request, 'socket');
 * ```
 */
export function hideProperty(target: unknown, key: string): void {
  if (!isObject(target)) return;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor?.enumerable === true && descriptor.configurable === true) Object.defineProperty(target, key, { enumerable: false });
}

/**
 * Sets every header of a plain header object that holds a secret to {@link REDACTED}.
 *
 * @example
 * ```ts
 * scrubHeaderObject(options.headers, secrets);
 * ```
 */
export function scrubHeaderObject(headers: unknown, secrets: TokenSecrets): void {
  if (!isObject(headers)) return;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (typeof value === 'string' && containsSecret(value, secrets)) headers[name] = REDACTED;
  }
}

/**
 * Redacts a Node `ClientRequest` that is over: the secrets in the header block it sent and in its
 * header map. `hideLinks` (for errors) also hides its links to shared connection state (`socket`
 * and `agent`, and `socket`/`client` of its response), which lead to other requests' tokens.
 *
 * @example
 * ```ts
 * redactClientRequest(error.response.req, secretsOf([token]), true);
 * ```
 */
export function redactClientRequest(request: object, secrets: TokenSecrets, hideLinks: boolean): void {
  const bag = request as Bag;
  if (typeof bag._header === 'string' && containsSecret(bag._header, secrets)) bag._header = scrubSecrets(bag._header, secrets);
  const headerMap = headerMapOf(bag);
  if (isObject(headerMap)) {
    for (const entry of Object.values(headerMap)) {
      // Node keeps each header as [name as given, value].
      if (Array.isArray(entry) && typeof entry[1] === 'string' && containsSecret(entry[1], secrets)) entry[1] = REDACTED;
    }
  }
  if (!hideLinks) return;
  hideProperty(bag, 'socket');
  hideProperty(bag, 'agent');
  if (isObject(bag.res)) {
    hideProperty(bag.res, 'socket');
    hideProperty(bag.res, 'client');
  }
}

function headerMapOf(request: Bag): unknown {
  outHeadersKey ??= Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'kOutHeaders');
  return outHeadersKey === undefined ? undefined : request[outHeadersKey];
}

/**
 * Redacts a Node `ClientRequest` sent with `authorization` as its Authorization header (set under
 * the name `headerName`): the header block holds it as one line, and the header map under the
 * lower-case name. A search for the short line start, then one compare of the value (a search for
 * a ~1 KB value costs several times more). Returns false, having changed at most the header block,
 * when either is not where expected: then call {@link redactClientRequest}.
 *
 * @example
 * ```ts
 * if (!redactSentClientRequest(request, token.authorization)) redactClientRequest(request, secretsOf([token]), false);
 * ```
 */
export function redactSentClientRequest(request: object, authorization: string, headerName = 'Authorization'): boolean {
  const bag = request as Bag;
  const header = bag._header;
  if (typeof header !== 'string') return false;
  const start = headerName === 'Authorization' ? AUTHORIZATION_LINE : `\r\n${headerName}: `;
  const line = header.indexOf(start);
  if (line === -1) return false;
  const at = line + start.length;
  const end = at + authorization.length;
  if (header.slice(at, end) !== authorization || header.charCodeAt(end) !== 13) return false;
  bag._header = header.slice(0, at) + REDACTED + header.slice(end);
  const headerMap = headerMapOf(bag);
  const entry = isObject(headerMap) ? headerMap.authorization : undefined;
  if (!Array.isArray(entry) || entry[1] !== authorization) return false;
  entry[1] = REDACTED;
  return true;
}

/**
 * Emitters the sweep may enter: the request's own objects (Node's request and response,
 * follow-redirects' wrapper of them, which Axios uses), and a destroyed socket (which no other
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

/**
 * Replaces every occurrence of a secret reachable from `root` (at most 10 000 objects), without
 * entering shared emitters: live sockets, agents and other requests are left alone.
 *
 * @example
 * ```ts
 * sweepSecrets(error, secretsOf([token]));
 * ```
 */
export function sweepSecrets(root: unknown, secrets: TokenSecrets): void {
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
        if (descriptor.writable === true && containsSecret(value, secrets)) node[key] = scrubSecrets(value, secrets);
      } else if (isObject(value)) {
        stack.push(value);
      }
    }
    if (node instanceof Map) {
      for (const [key, value] of node as Map<unknown, unknown>) {
        if (typeof value === 'string') {
          if (containsSecret(value, secrets)) (node as Map<unknown, unknown>).set(key, scrubSecrets(value, secrets));
        } else if (isObject(value)) {
          stack.push(value);
        }
      }
    }
  }
}
