export { createTransport } from './transport.js';
export type { RetryReason, TokenRequestArgs, TokenRequestResult, Transport, TransportObserver, TransportRuntime } from './transport.js';
export { validateTransportOptions } from './options.js';
export type { ResolvedTransportOptions, TransportOptions } from './options.js';
export type { TokenEndpointResponse } from './response.js';
