/**
 * The origin policy decides which requests may carry a Maskinporten token. It compares origins the
 * way `fetch` will connect: both the configured origins and each request URL go through the WHATWG
 * URL parser, so a URL that only looks like an allowed host (`https://api.example.no@evil.example/`,
 * `https://api.example.no.evil.example/`) is judged by the host `fetch` will actually reach.
 */
import { ConfigurationError } from '../errors.js';
import { isLoopbackParsedHostname } from '../shared/index.js';

/**
 * A set of allowed origins (scheme, host and port) for attaching tokens.
 *
 * @example
 * ```ts
 * import { createOriginPolicy } from '@portvakt/core';
 * const policy = createOriginPolicy(['https://api.example.no']);
 * policy.allows('https://API.example.no:443/v1/items'); // true
 * policy.allows('http://api.example.no/v1/items'); // false: other scheme
 * ```
 */
export interface OriginPolicy {
  /** The allowed origins, normalised (`https://api.example.no`, `http://127.0.0.1:8080`). */
  readonly origins: readonly string[];
  /** Whether a request to this absolute URL may carry a token. Relative or unparsable URLs: false. */
  allows(url: string | URL): boolean;
}

/**
 * The comparable origin of a parsed URL: lower-case scheme and host (the parser already does both),
 * the host without a trailing dot, and the port, which the parser drops when it is the default.
 * Returns undefined for schemes other than http and https.
 */
export function originKey(url: URL): string | undefined {
  const protocol = url.protocol;
  if (protocol !== 'https:' && protocol !== 'http:') return undefined;
  // Fast path: for http(s) the parser's origin is exactly scheme://host[:port], default port
  // dropped; only a host with a trailing dot needs rewriting (a dot is never followed by ':' or
  // the end otherwise, and IPv6 literals have no dots after normalisation).
  const origin = url.origin;
  if (!origin.endsWith('.') && !origin.includes('.:')) return origin;
  const host = url.hostname.slice(0, -1);
  if (host === '') return undefined;
  return `${protocol}//${host}${url.port === '' ? '' : `:${url.port}`}`;
}

/**
 * The origin of an absolute URL in the form {@link OriginPolicy} compares, or undefined when the
 * URL is relative, unparsable, or not http(s).
 *
 * @example
 * ```ts
 * import { originOf } from '../origins/index.js'; // internal
 * originOf('HTTPS://Api.Example.no.:443/x'); // 'https://api.example.no'
 * originOf('/relative'); // undefined
 * ```
 */
export function originOf(url: string | URL): string | undefined {
  if (url instanceof URL) return originKey(url);
  if (typeof url !== 'string') return undefined;
  const parsed = URL.parse(url);
  return parsed === null ? undefined : originKey(parsed);
}

function parseConfiguredOrigin(value: unknown, field: string): string {
  if (!(value instanceof URL) && typeof value !== 'string') {
    throw new ConfigurationError(field, 'must be an origin string such as "https://api.example.no".');
  }
  const text = value instanceof URL ? value.href : value.trim();
  const url = URL.parse(text);
  if (url === null) {
    throw new ConfigurationError(
      field,
      `"${text}" is not an absolute URL. Write the scheme and host, for example "https://${text.replace(/^\/+/, '') || 'api.example.no'}".`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(field, `the scheme "${url.protocol}" is not allowed: use https (or http for a loopback address).`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigurationError(field, 'must not contain a user name or password: give only scheme, host and port.');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || /[?#]/.test(text)) {
    throw new ConfigurationError(field, `an origin has no path, query or fragment: use "${url.origin}".`);
  }
  if (url.hostname.includes('*')) {
    throw new ConfigurationError(field, 'wildcards are not supported: list each origin that may receive the token.');
  }
  const key = originKey(url);
  if (key === undefined) {
    throw new ConfigurationError(field, 'has no host: write the origin as "https://api.example.no".');
  }
  // Tokens are bearer credentials: plain http is allowed only where nothing leaves the machine.
  if (url.protocol === 'http:' && !isLoopbackParsedHostname(url.hostname)) {
    throw new ConfigurationError(field, `plain http is allowed only for loopback addresses: use "https://${key.slice('http://'.length)}".`);
  }
  return key;
}

/**
 * Builds an {@link OriginPolicy}. Each origin must be https, or http on a loopback address
 * (127.0.0.0/8, `[::1]`, `localhost`), with no path, query, fragment or credentials. Case,
 * default ports and a trailing dot in the host are normalised; IDN hosts compare in their
 * punycode form. Throws a `ConfigurationError` naming `field[i]` when an entry is invalid.
 *
 * @example
 * ```ts
 * import { createOriginPolicy } from '@portvakt/core';
 * const policy = createOriginPolicy(['https://api.skatteetaten.no', 'http://127.0.0.1:8080']);
 * policy.allows('https://api.skatteetaten.no/v1'); // true
 * policy.allows('https://api.skatteetaten.no@evil.example/'); // false: the host is evil.example
 * ```
 */
export function createOriginPolicy(origins: readonly (string | URL)[], field = 'origins'): OriginPolicy {
  if (!Array.isArray(origins)) {
    throw new ConfigurationError(field, 'must be an array of origins, for example ["https://api.example.no"].');
  }
  if (origins.length === 0) {
    throw new ConfigurationError(field, 'list at least one origin that may receive the token, for example ["https://api.example.no"].');
  }
  const allowed = new Set<string>();
  origins.forEach((origin: unknown, index) => allowed.add(parseConfiguredOrigin(origin, `${field}[${index}]`)));
  const list = Object.freeze([...allowed]);
  // A short list is scanned (string compares of different lengths are O(1)); hashing a freshly
  // built origin string for a Set lookup costs more until the list grows.
  const includes = list.length <= 16 ? (key: string) => list.includes(key) : (key: string) => allowed.has(key);
  return Object.freeze({
    origins: list,
    allows(url: string | URL): boolean {
      const key = originOf(url);
      return key !== undefined && includes(key);
    },
  });
}
