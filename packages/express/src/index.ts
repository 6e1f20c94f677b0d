export { maskinporten } from './middleware.js';
export type { ClaimsResolver, MaskinportenMiddlewareOptions, RequestMaskinporten } from './middleware.js';
export { maskinportenProxy } from './proxy.js';
export type { MaskinportenProxyOptions } from './proxy.js';
export { MaskinportenHttpError, classify as classifyMaskinportenError } from './errors.js';
export type { MaskinportenProblemCode } from './errors.js';
export type { MaskinportenErrorHook } from './on-error.js';
export { requireMaskinportenToken } from './require-token.js';
export type { RequireMaskinportenTokenOptions } from './require-token.js';
