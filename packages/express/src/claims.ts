// Claims from the incoming request, merged over the adapter's own: one place for the middleware
// and the proxy, so both refuse the same bad claims the same way (a 400 for the caller).
import type { Request } from 'express';
import { validateTokenRequest } from '@portvakt/core';
import type { TokenRequest } from '@portvakt/core';
import type { ClaimsResolver } from './middleware.js';

/** The token request for `req`: `base`, with what `claims(req)` returns on top, validated. */
export async function claimsFor(req: Request, base: TokenRequest, claims: ClaimsResolver | undefined): Promise<TokenRequest> {
  if (claims === undefined) return base;
  const resolved = await claims(req);
  validateTokenRequest(resolved, 'claims.');
  return { ...base, ...resolved };
}
