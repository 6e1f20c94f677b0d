// The http-proxy-middleware options the proxy passes on.
import { ConfigurationError } from '@portvakt/core';
import { refuseUnknownKeys } from './options.js';

/** Options of http-proxy-middleware 3 and 4 (and of http-proxy/httpxy below them) that are passed on. */
const PASSED_ON = [
  // http-proxy-middleware
  'pathFilter', 'pathRewrite', 'plugins', 'ejectPlugins', 'on', 'router', 'logger',
  // http-proxy (3) and httpxy (4)
  'agent', 'ssl', 'xfwd', 'secure', 'prependPath', 'ignorePath', 'localAddress', 'changeOrigin',
  'preserveHeaderKeyCase', 'hostRewrite', 'autoRewrite', 'protocolRewrite', 'cookieDomainRewrite',
  'cookiePathRewrite', 'headers', 'proxyTimeout', 'timeout', 'upgradeTimeout', 'selfHandleResponse',
  'buffer', 'method', 'ca', 'forward', 'toProxy', 'followRedirects', 'ws', 'auth',
] as const;

/** The events of http-proxy-middleware's `on` option (3 and 4). */
const EVENTS = ['error', 'proxyReq', 'proxyReqWs', 'proxyRes', 'open', 'close', 'start', 'end', 'econnreset'] as const;

/** Validates the `proxy` option: known keys only. */
export function checkProxyOptions(proxy: unknown): void {
  if (proxy === undefined) return;
  if (typeof proxy !== 'object' || proxy === null || Array.isArray(proxy)) {
    throw new ConfigurationError('proxy', 'must be an object of http-proxy-middleware options, e.g. { pathRewrite: { "^/": "/api/" } }.');
  }
  if ((proxy as { target?: unknown }).target !== undefined) throw new ConfigurationError('proxy.target', 'set the upstream with the top-level `target` option, not inside `proxy`.');
  refuseUnknownKeys(proxy, PASSED_ON, 'proxy');
  const { on, plugins } = proxy as { on?: unknown; plugins?: unknown };
  if (on !== undefined) {
    if (typeof on !== 'object' || on === null) throw new ConfigurationError('proxy.on', 'must be an object of event handlers, e.g. { proxyRes(proxyRes, req, res) {} }.');
    refuseUnknownKeys(on, EVENTS, 'proxy.on');
  }
  if (plugins !== undefined && !(Array.isArray(plugins) && plugins.every((p) => typeof p === 'function'))) {
    throw new ConfigurationError('proxy.plugins', 'must be an array of plugin functions.');
  }
}
