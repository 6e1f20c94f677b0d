// Redirects in Node: Axios' http adapter follows them with follow-redirects, which calls
// `config.beforeRedirect` before every hop with the options of the next request. follow-redirects
// itself drops Authorization only when the host changes to one that is not a subdomain, or the
// scheme drops to http; newer Axios versions also drop it on any change of origin. Neither covers
// every Axios version in our peer range, so the guard below decides itself: when the next hop's
// origin is not allowed, every Authorization header goes. Once gone it is never put back, so a
// chain allowed -> foreign -> allowed arrives at the last hop without a token.
import type { InternalAxiosRequestConfig } from 'axios';
import type { OriginPolicy } from '@portvakt/core';

type BeforeRedirect = NonNullable<InternalAxiosRequestConfig['beforeRedirect']>;

/** The URL of the next hop, from the request options follow-redirects is about to use. */
function nextHopUrl(options: Record<string, unknown>): string | undefined {
  if (typeof options.href === 'string') return options.href;
  const host = typeof options.hostname === 'string' ? options.hostname : options.host;
  if (typeof options.protocol !== 'string' || typeof host !== 'string') return undefined;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const port = options.port === undefined || options.port === null || options.port === '' ? '' : `:${String(options.port as string | number)}`;
  return `${options.protocol}//${bracketed}${port}/`;
}

function dropAuthorization(headers: unknown): void {
  if (typeof headers !== 'object' || headers === null) return;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization') delete (headers as Record<string, unknown>)[name];
  }
}

/**
 * Sets `config.beforeRedirect` to a guard that runs the caller's own `beforeRedirect` first and
 * then removes the Authorization header when the next hop's origin is not allowed (so the caller's
 * callback cannot put it back). Returns a function that restores the caller's setting.
 *
 * @example
 * ```ts
 * const restore = guardRedirects(config, policy);
 * try { return await adapter(config); } finally { restore(); }
 * ```
 */
export function guardRedirects(config: InternalAxiosRequestConfig, policy: OriginPolicy): () => void {
  const hadOwn = Object.hasOwn(config, 'beforeRedirect');
  const callers: BeforeRedirect | undefined = config.beforeRedirect;
  const guard: BeforeRedirect = (options, responseDetails, requestDetails) => {
    if (typeof callers === 'function') callers(options, responseDetails, requestDetails);
    const target = nextHopUrl(options);
    if (target === undefined || !policy.allows(target)) dropAuthorization(options.headers);
  };
  config.beforeRedirect = guard;
  return () => {
    if (hadOwn && callers !== undefined) config.beforeRedirect = callers;
    else delete config.beforeRedirect;
  };
}
