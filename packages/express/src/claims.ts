// Claims from the incoming request, merged over the adapter's own: one place for the middleware
// and the proxy, so both refuse the same bad claims the same way (a 400 for the caller).
import type { Request } from 'express';
import { copyTokenRequest } from '@portvakt/core/internal';
import type { TokenRequest } from '@portvakt/core';

/**
 * Claims of the token per incoming request, e.g. the customer from the path. A
 * `ConfigurationError` thrown here (or invalid claims returned) is answered as a 400.
 * @example
 * ```ts
 * const claims: ClaimsResolver = (req) => {
 *   const { orgno } = req.params; // string | string[] with @types/express 5
 *   if (typeof orgno !== 'string') throw new ConfigurationError('orgno', 'give one organisation number.');
 *   return { systemUser: { orgno } };
 * };
 * ```
 */
export type ClaimsResolver = (req: Request) => TokenRequest | Promise<TokenRequest>;

/** The token request for `req`: `base`, with what `claims(req)` returns on top, validated. */
export async function claimsFor(req: Request, base: TokenRequest, claims: ClaimsResolver | undefined): Promise<TokenRequest> {
  if (claims === undefined) return base;
  // An owned copy: a resolver that hands out one shared object and changes it for the next
  // request cannot change the claims a 401 retry of this request asks for.
  const resolved = copyTokenRequest(await claims(req), 'claims.');
  return Object.freeze({ ...base, ...resolved });
}
