export { createTransport } from './transport.js';
export type { PostArgs, RetryReason, TokenRequestArgs, TokenRequestResult, Transport, TransportObserver, TransportRuntime } from './transport.js';
export { usesGlobalFetch, validateTransportOptions } from './options.js';
export type { ResolvedTransportOptions, TransportOptions } from './options.js';
export { oauthField, parseTokenResponse, refuseRedirect } from './response.js';
export type { AttemptOutcome, TokenEndpointResponse } from './response.js';
