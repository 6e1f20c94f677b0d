// A token source: anything with the client's getToken/invalidate shape (design.md). Adapters take
// a token source, so the Maskinporten client and sources built on it need no adapter changes.
import { ConfigurationError } from './errors.js';
import type { GetTokenOptions } from './types.js';

/**
 * What adapters need of a token source: a token for a request, and dropping a token an API
 * refused. `createMaskinportenClient()` returns one.
 *
 * @example
 * ```ts
 * const source: TokenSource = createMaskinportenClient({ clientId, environment: 'test', key: { jwk } });
 * const token = await source.getToken({ scope: 'nav:aareg' });
 * ```
 */
export interface TokenSource<T extends { readonly tokenType: string; readonly accessToken: string } = { readonly tokenType: string; readonly accessToken: string }> {
  getToken(options?: GetTokenOptions): Promise<T>;
  /** Drops `token` if it is still the cached one; returns whether it did. */
  invalidate(token: T | string): boolean;
}

/**
 * Refuses anything that is not a token source, naming the option: the check every adapter makes.
 *
 * @example
 * ```ts
 * import { assertTokenSource } from '@portvakt/core';
 * assertTokenSource(options.client, 'client'); // throws ConfigurationError when it is not one
 * ```
 */
export function assertTokenSource(value: unknown, field: string): asserts value is TokenSource {
  const candidate = value as Partial<TokenSource> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.getToken !== 'function' || typeof candidate.invalidate !== 'function') {
    throw new ConfigurationError(field, 'must be a token source with getToken() and invalidate(), such as a client from createMaskinportenClient().');
  }
}
