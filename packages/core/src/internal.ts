// @portvakt/core/internal: the plumbing the other @portvakt/* packages share with core (option
// checks, bodies and aborts, redaction, the presets). Not a public API: names here can change in
// any release. Applications import from '@portvakt/core'.
export { createAbortScope, describeNetworkError, discardBody, inspectSymbol, isLoopbackHostname, isTransientStatus, parseJsonObject, readBodyText, refuseUnknownOptions } from './shared/index.js';
export { describeValue, redactSecrets } from './redact.js';
export { nameErrorClass } from './errors.js';
export { ENVIRONMENTS } from './environments/index.js';
export type { EnvironmentEndpoints } from './environments/index.js';
export { problemWithEndpointUrl } from './environments/urls.js';
// Used by the adapters: the token-source check, claims resolved and copied, the grant for tools.
export { assertTokenSource } from './token-source.js';
export { copyTokenRequest, createGrant, normalizeTokenRequest, resolveTokenRequest } from './grant/index.js';
export type { NormalizedTokenRequest } from './grant/index.js';
export { MP_CODE_HINTS } from './mp-codes.js';
export type { UnknownOptionRules } from './shared/option-keys.js';
export { numberOption, validateClock } from './shared/index.js';
export type { NumberRule } from './shared/index.js';
