export { createMaskinportenVerifier } from './verifier.js';
export type { MaskinportenVerifier, MaskinportenVerifierOptions } from './verifier.js';
export { validateTokenRequirements } from './requirements.js';
export type { TokenRequirements } from './requirements.js';
export type { ConsentClaims, ConsentRight, MaskinportenTokenClaims, OrganizationIdentifier, SystemUserClaims } from './claims.js';
export type { JsonWebKeySet, VerifierEnvironmentOption } from './environment.js';
export { readBearerToken } from './bearer.js';
export { MAX_TOKEN_LENGTH } from './compact.js';
export {
  httpStatusOfVerificationFailure,
  InsufficientScopeError,
  InvalidTokenError,
  isVerificationError,
  KeySetUnavailableError,
  MissingTokenError,
  OrganizationNotAllowedError,
} from './errors.js';
export type { InvalidTokenReason, VerificationError, VerificationErrorCode, VerificationFailureAnswer, VerificationFailureCode } from './errors.js';
export { verifyRequest } from './request.js';
export type { VerifiableRequest } from './request.js';
