// A `fetch` bound to a dispatcher, typed as the global one. Node's own fetch takes an undici
// dispatcher, but Node 20's types (undici-types 6) do not accept an undici 7 dispatcher or its
// Request and body types, so a fetch for `transport.fetch` (core), `fetch` (the verifier) or
// createAuthorizedFetch would need casts. This is that function, once.
import { ConfigurationError } from '@portvakt/core';
import type { Dispatcher } from 'undici';

/**
 * Node's global `fetch`, sending through `dispatcher` (a proxy agent, an agent with
 * `maskinporten()` composed on it). Typed as the global `fetch`, so it fits every `fetch` option
 * Portvakt has.
 *
 * @example
 * ```ts
 * import { EnvHttpProxyAgent } from 'undici';
 * import { createMaskinportenClient, fromEnv } from '@portvakt/core';
 * import { fetchThrough } from '@portvakt/undici';
 *
 * const proxy = new EnvHttpProxyAgent(); // HTTP_PROXY, HTTPS_PROXY, NO_PROXY
 * const client = createMaskinportenClient({ ...fromEnv(), transport: { fetch: fetchThrough(proxy) } });
 * ```
 */
export function fetchThrough(dispatcher: Dispatcher): typeof fetch {
  if (typeof (dispatcher as Partial<Dispatcher> | null | undefined)?.dispatch !== 'function') {
    throw new ConfigurationError('dispatcher', 'must be an undici dispatcher, such as new EnvHttpProxyAgent() or new Agent().compose(maskinporten(...)).');
  }
  // Node's fetch reads `dispatcher` from init; its own types name an older undici's Dispatcher.
  return (input, init) => globalThis.fetch(input, { ...init, dispatcher } as unknown as RequestInit);
}
