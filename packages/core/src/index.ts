/** Placeholder. @example import { VERSION } from '@portvakt/core'; */
export const VERSION = '0.1.0';

// transport, environments, origins, fetch, env
export { createOriginPolicy, isLoopbackHostname, originOf } from './origins/index.js';
export type { OriginPolicy } from './origins/index.js';
export { ENVIRONMENTS, createEnvironmentSource } from './environments/index.js';
export type { EnvironmentDependencies, EnvironmentEndpoints, EnvironmentOption, EnvironmentSource, ResolvedEnvironment } from './environments/index.js';
export { createTransport, validateTransportOptions } from './transport/index.js';
export type { ResolvedTransportOptions, TokenEndpointResponse, TokenRequestArgs, TokenRequestResult, Transport, TransportOptions, TransportRuntime } from './transport/index.js';
export { createAuthorizedFetch } from './fetch/index.js';
export type { AccessTokenSource, AuthorizedFetchOptions } from './fetch/index.js';
export { fromEnv } from './env.js';
export type { EnvClientOptions } from './env.js';
// end transport, environments, origins, fetch, env
