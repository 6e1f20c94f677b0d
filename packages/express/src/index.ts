export { maskinporten } from './middleware.js';
export type { ClaimsResolver } from './claims.js';
export type { MaskinportenMiddlewareOptions, RequestMaskinporten } from './middleware.js';
export { maskinportenProxy } from './proxy.js';
export type { MaskinportenProxyOptions } from './proxy.js';
export { MaskinportenHttpError, classify as classifyMaskinportenError } from './errors.js';
export type { MaskinportenProblemCode } from './errors.js';
export type { MaskinportenErrorHook } from './on-error.js';
