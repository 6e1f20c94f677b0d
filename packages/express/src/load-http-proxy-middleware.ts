// http-proxy-middleware is an optional peer: only maskinportenProxy() needs it, so it is imported
// the first time a proxy is created, never when the package is. Majors 3 (CommonJS) and 4 (ESM
// only) both load through import(), and both export createProxyMiddleware.
import type { createProxyMiddleware } from 'http-proxy-middleware';

/** The part of http-proxy-middleware the proxy uses. */
export type CreateProxyMiddleware = typeof createProxyMiddleware;

let loading: Promise<CreateProxyMiddleware> | undefined;

/** Imports http-proxy-middleware once per process; rejects when it is not installed. */
export function loadHttpProxyMiddleware(): Promise<CreateProxyMiddleware> {
  loading ??= import('http-proxy-middleware').then((module: { createProxyMiddleware?: unknown; default?: { createProxyMiddleware?: unknown } }) => {
    const create = module.createProxyMiddleware ?? module.default?.createProxyMiddleware;
    if (typeof create !== 'function') throw new TypeError('http-proxy-middleware has no createProxyMiddleware export');
    return create as CreateProxyMiddleware;
  });
  return loading;
}
