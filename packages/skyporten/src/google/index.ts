// @portvakt/skyporten/google: Google Cloud credentials from Skyporten tokens, through
// google-auth-library's workload identity federation (identity pool client).
export { createSkyportenGoogleClient, skyportenSubjectTokenSupplier } from './client.js';
export type { SkyportenGoogleOptions, SkyportenSubjectTokenSupplier } from './client.js';
export { SkyportenExchangeError, SkyportenSdkMissingError } from '../errors.js';
