export { createMaskinportenVerifier } from './verifier.js';
export type { MaskinportenVerifier, MaskinportenVerifierOptions } from './verifier.js';
export { createTexasIntrospectionVerifier } from './introspection.js';
export type { TexasIntrospectionVerifierOptions } from './introspection.js';
export { validateTokenRequirements } from './requirements.js';
export type { ConsentRequirement, OrganizationPolicy, SystemUserRequirement, TokenRequirements } from './requirements.js';
export type { ConsentClaims, ConsentRight, MaskinportenTokenClaims, OrganizationIdentifier, SystemUserClaims } from './claims.js';
export type { JsonWebKeySet, VerifierEnvironmentOption } from './environment.js';
export { readBearerToken } from './bearer.js';
export { MAX_TOKEN_LENGTH } from './compact.js';
export {
  httpStatusOfVerificationFailure,
  InsufficientScopeError,
  IntrospectionUnavailableError,
  InvalidTokenError,
  isVerificationError,
  KeySetUnavailableError,
  MissingTokenError,
  OrganizationNotAllowedError,
  RequirementNotMetError,
} from './errors.js';
export type {
  InvalidTokenReason,
  TokenRequirementName,
  VerificationError,
  VerificationErrorCode,
  VerificationFailureAnswer,
  VerificationFailureCode,
} from './errors.js';
export { validateRequestRequirements, verifyRequest } from './request.js';
export type { RequestRequirements, VerifiableRequest } from './request.js';
