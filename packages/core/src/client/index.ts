export { createMaskinportenClient } from './client.js';
export type { CertificateExpiringEvent, MaskinportenClient } from './client.js';
export { AccessToken } from './access-token.js';
export type { MaskinportenClientOptions } from './options.js';
export { defineMaskinportenClient } from './declared.js';
export type { DeclaredMaskinportenClient, DefineMaskinportenClientSettings } from './declared.js';
