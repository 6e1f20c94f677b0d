// @portvakt/core: public API.

// client, cache, diagnostics
export { AccessToken, createMaskinportenClient } from './client/index.js';
export type { CertificateExpiringEvent, MaskinportenClient, MaskinportenClientOptions } from './client/index.js';
export { DIAGNOSTICS_CHANNELS } from './diagnostics.js';
export type { DiagnosticsPayloads } from './diagnostics.js';
export type { TokenSource } from './token-source.js';

// errors and shared types
export {
  AbortedError,
  AltinnExchangeError,
  CertificateError,
  ClientClosedError,
  ConfigurationError,
  EndpointUnavailableError,
  httpStatusOfTokenFailure,
  isPortvaktError,
  KeyError,
  MalformedResponseError,
  PortvaktError,
  problemBody,
  problemOf,
  TimeoutError,
  TokenEndpointError,
} from './errors.js';
export type { AnyPortvaktError, CertificateProblem, HttpProblem, PortvaktErrorCode, TokenFailureCode } from './errors.js';
export type { BearerToken, Clock, ConsentRequest, GetTokenOptions, GrantAlgorithm, KeyInput, Signer, StoredToken, SystemUserRequest, TokenRequest, TokenStore } from './types.js';

// credentials (keys, certificates, grant)
export { loadSigner, parsePkcs12 } from './keys/index.js';
export type { LoadedSigner, Pkcs12Contents } from './keys/index.js';
export { daysUntilExpiry, inspectCertificate } from './certificates/index.js';
export type { CertificateInfo } from './certificates/index.js';
export { isValidOrganizationNumber, isValidPersonIdentifier, validateTokenRequest } from './grant/index.js';

// Altinn tokens, exchanged from Maskinporten tokens
export { ALTINN_EXCHANGE_URLS, createAltinnTokenSource } from './altinn/index.js';
export type { AltinnTokenSource, AltinnTokenSourceOptions } from './altinn/index.js';

// NAIS Texas (the token sidecar), and the token source the environment sets up
export { createTexasTokenSource } from './texas/index.js';
export type { TexasTokenSource, TexasTokenSourceOptions } from './texas/index.js';
export { tokenSourceFromEnv } from './source-from-env.js';
export type { EnvTokenSource, EnvTokenSourceOptions } from './source-from-env.js';

// transport, environments, origins, fetch, env
export { createOriginPolicy } from './origins/index.js';
export type { OriginPolicy } from './origins/index.js';
export type { EnvironmentEndpoints, EnvironmentOption } from './environments/index.js';
export type { TransportOptions } from './transport/index.js';
export { createAuthorizedFetch } from './fetch/index.js';
export type { AuthorizedFetchOptions } from './fetch/index.js';
export { MAX_TOKEN_LENGTH } from './transport/response.js';
export { fromEnv } from './env.js';
export type { EnvClientOptions } from './env.js';
// end transport, environments, origins, fetch, env

