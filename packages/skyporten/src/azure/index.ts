// @portvakt/skyporten/azure: Azure credentials from Skyporten tokens, through @azure/identity's
// ClientAssertionCredential and a managed identity's federated credential.
export { createSkyportenAzureCredential } from './credential.js';
export type { SkyportenAzureCredential, SkyportenAzureOptions } from './credential.js';
export { SkyportenExchangeError, SkyportenSdkMissingError } from '../errors.js';
