export { cacheKeyOf, copyTokenRequest, isValidOrganizationNumber, isValidPersonIdentifier, normalizeTokenClaims, normalizeTokenRequest, readGetTokenOptions, requestKeyOf, resolveTokenRequest, validateTokenRequest } from './request.js';
export type { NormalizedTokenRequest } from './request.js';
export { authorizationDetailsOf, createGrant, grantClaims, validateGrantLifetime } from './grant.js';
