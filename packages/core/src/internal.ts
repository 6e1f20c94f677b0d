// @portvakt/core/internal: the plumbing the other @portvakt/* packages share with core (option
// checks, bodies and aborts, redaction, environments and discovery). Not a public API: names here
// can change in any release. Applications import from '@portvakt/core'.
export { createAbortScope, describeNetworkError, discardBody, inspectSymbol, isLoopbackHostname, isTransientStatus, parseJsonObject, readBodyText, refuseUnknownOptions } from './shared/index.js';
export { describeValue, redactSecrets } from './redact.js';
export { nameErrorClass } from './errors.js';
// The one environment and discovery implementation, shared by the client and the verifier.
export { ENVIRONMENTS, fetchJsonDocument, MAX_CONFIGURATION_DOCUMENT_BYTES, MetadataCache, planVerifierEnvironment, problemWithEndpointUrl } from './environments/index.js';
export type { DiscoveredEndpointName, DiscoveredEndpoints, DocumentRequest, EnvironmentEndpoints, EnvironmentKind, MetadataCacheOptions, VerifierEnvironmentPlan } from './environments/index.js';
export { MAX_TOKEN_LENGTH } from './transport/response.js';
// Used by the adapters: the token-source check, claims resolved and copied, the grant for tools.
export { assertTokenSource } from './token-source.js';
export { copyTokenRequest, createGrant, normalizeTokenRequest, resolveTokenRequest } from './grant/index.js';
export type { NormalizedTokenRequest } from './grant/index.js';
export { MP_CODE_HINTS } from './mp-codes.js';
export type { UnknownOptionRules } from './shared/option-keys.js';
export { numberOption, validateClock } from './shared/index.js';
export type { NumberRule } from './shared/index.js';
// Skyporten's environments and the issuer rule, for @portvakt/skyporten and the doctor.
export { SKYPORTEN_ENVIRONMENTS, SKYPORTEN_HOSTS } from './environments/index.js';
// The "did you mean" of option errors, for the CLI's flags.
export { closestName } from './shared/index.js';
// Keeping the token out of Node's request objects, for the HTTP client adapters (Axios, got).
export { containsSecret, hideProperty, REDACTED, redactClientRequest, redactSentClientRequest, scrubHeaderObject, scrubSecrets, secretsOf, sweepSecrets } from './redact-request.js';
export type { TokenSecrets } from './redact-request.js';
