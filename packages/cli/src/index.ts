// @portvakt/cli: the `portvakt` command, and the pieces of it a script may want.
export { run } from './run.js';
export type { CommandIo } from './io.js';
export { EXIT_CODES } from './exit-codes.js';
export type { ExitCode } from './exit-codes.js';
export { generateRs256Key } from './keys/generate.js';
export type { GeneratedKey } from './keys/generate.js';
export { jwkThumbprint, publicJwkOf } from './keys/public-jwk.js';
export type { PublicJwk, PublicJwkSet } from './keys/public-jwk.js';
export { createSelfServiceClient, SELF_SERVICE_URLS } from './self-service/client.js';
export type { SelfServiceClient, SelfServiceClientOptions } from './self-service/client.js';
