// @portvakt/skyporten/aws: AWS credentials from Skyporten tokens, for the AWS SDK v3 and (through
// the portvakt-skyporten bin) for credential_process in ~/.aws/config.
export { fromSkyporten } from './provider.js';
export type { SkyportenAwsCredentialProvider, SkyportenAwsCredentials, SkyportenAwsOptions } from './provider.js';
export { SkyportenExchangeError, SkyportenSdkMissingError } from '../errors.js';
