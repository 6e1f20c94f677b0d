// The http-proxy-middleware options the proxy passes on, and the ones it refuses because they would
// send the request (and so the token) somewhere other than the checked upstream, or skip the checks.
import { ConfigurationError, createOriginPolicy } from '@portvakt/core';
import { refuseUnknownOptions } from '@portvakt/core/internal';

/** Options of http-proxy-middleware 3 and 4 (and of http-proxy/httpxy below them) that are passed on. */
const PASSED_ON = [
  // http-proxy-middleware
  'pathFilter', 'pathRewrite', 'plugins', 'ejectPlugins', 'on', 'router', 'logger',
  // http-proxy (3) and httpxy (4)
  'agent', 'ssl', 'xfwd', 'secure', 'prependPath', 'ignorePath', 'localAddress', 'changeOrigin',
  'preserveHeaderKeyCase', 'hostRewrite', 'autoRewrite', 'protocolRewrite', 'cookieDomainRewrite',
  'cookiePathRewrite', 'headers', 'proxyTimeout', 'timeout', 'upgradeTimeout', 'selfHandleResponse',
  'buffer', 'method', 'ca',
] as const;

/** Options that exist but are refused, with the reason. */
const REFUSED: Readonly<Record<string, string>> = {
  target: 'set the upstream with the top-level `target` option, not inside `proxy`.',
  forward: 'would send a copy of every request, token included, to another server. Remove it.',
  toProxy: 'would hand the request to another proxy to send on. Remove it.',
  followRedirects: 'would follow the upstream\'s redirects to other origins with the token. Remove it; redirects go back to the caller.',
  ws: 'WebSocket upgrades are not proxied: they would skip the token and the path checks. Remove it.',
  auth: 'the proxy sets Authorization to the Maskinporten token, so `auth` would be lost. Remove it.',
};

/** The events of http-proxy-middleware's `on` option (3 and 4). */
const EVENTS = ['error', 'proxyReq', 'proxyReqWs', 'proxyRes', 'open', 'close', 'start', 'end', 'econnreset'] as const;

/** What a router may answer: a URL string or URL, or http-proxy's `{ protocol, host, port }` form. */
export type RouterTarget = string | URL | { protocol?: string; host?: string; hostname?: string; port?: number | string; socketPath?: string };

/**
 * The origin a proxy target connects to, in the form core's origin policy checks, or undefined
 * when it has none (a Unix socket, an unparsable value).
 */
function originOfTarget(target: unknown): string | undefined {
  if (typeof target === 'string' || target instanceof URL) return URL.parse(String(target))?.origin;
  if (typeof target !== 'object' || target === null) return undefined;
  const { protocol = 'http:', host, hostname, port, socketPath } = target as Exclude<RouterTarget, string | URL>;
  const name = hostname ?? host;
  if (socketPath !== undefined || typeof name !== 'string' || name === '' || typeof protocol !== 'string') return undefined;
  const bracketed = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  const scheme = protocol.endsWith(':') ? protocol : `${protocol}:`;
  return URL.parse(`${scheme}//${bracketed}${port === undefined || port === '' ? '' : `:${String(port)}`}`)?.origin;
}

/**
 * Checks a target against the rule for `target`: https, or http on a loopback address. Throws a
 * {@link ConfigurationError} naming `field` when it breaks it.
 */
export function checkUpstream(target: unknown, field: string): void {
  const origin = originOfTarget(target);
  if (origin === undefined || origin === 'null') {
    throw new ConfigurationError(field, 'must be an absolute http(s) URL of the upstream API, e.g. "https://api.example.no".');
  }
  try {
    createOriginPolicy([origin], field);
  } catch (error) {
    // Core names the list entry (`field[0]`); there is one target here.
    if (!(error instanceof ConfigurationError)) throw error;
    throw new ConfigurationError(field, error.message.slice(error.message.indexOf(': ') + 2), { cause: error });
  }
}

/** Validates the `proxy` option: known keys only, no key that sends the request elsewhere, router targets checked. */
export function checkProxyOptions(proxy: unknown): void {
  if (proxy === undefined) return;
  if (typeof proxy !== 'object' || proxy === null || Array.isArray(proxy)) {
    throw new ConfigurationError('proxy', 'must be an object of http-proxy-middleware options, e.g. { pathRewrite: { "^/": "/api/" } }.');
  }
  for (const [key, reason] of Object.entries(REFUSED)) {
    const value = (proxy as Record<string, unknown>)[key];
    if (value !== undefined && value !== false) throw new ConfigurationError(`proxy.${key}`, reason);
  }
  refuseUnknownOptions(proxy, [...PASSED_ON, ...Object.keys(REFUSED)], 'proxy.');
  const { on, router, plugins } = proxy as { on?: unknown; router?: unknown; plugins?: unknown };
  if (on !== undefined) {
    if (typeof on !== 'object' || on === null) throw new ConfigurationError('proxy.on', 'must be an object of event handlers, e.g. { proxyRes(proxyRes, req, res) {} }.');
    refuseUnknownOptions(on, EVENTS, 'proxy.on.');
  }
  if (plugins !== undefined && !(Array.isArray(plugins) && plugins.every((p) => typeof p === 'function'))) {
    throw new ConfigurationError('proxy.plugins', 'must be an array of plugin functions.');
  }
  if (router === undefined || typeof router === 'function') return; // a function's answers are checked per request
  if (typeof router !== 'object' || router === null) {
    throw new ConfigurationError('proxy.router', 'must be a function (req) => target or a table { "host/path": target }.');
  }
  // A table's targets are all known now.
  for (const [key, target] of Object.entries(router)) checkUpstream(target, `proxy.router[${JSON.stringify(key)}]`);
}
