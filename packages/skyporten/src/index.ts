// @portvakt/skyporten: Maskinporten tokens from Skyporten straight into the AWS, Google Cloud and
// Azure SDKs. Each cloud has its own entry (`/aws`, `/google`, `/azure`) and an optional peer
// dependency on its SDK; this entry has what they share.
export { SkyportenExchangeError, SkyportenSdkMissingError } from './errors.js';
export type { AnySkyportenError, SkyportenCloud, SkyportenErrorCode, SkyportenProblem } from './errors.js';
export type { SkyportenTokenOptions } from './options.js';
export { CLOUD_SDKS } from './sdk.js';
