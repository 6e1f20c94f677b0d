export { createMaskinportenClient } from './client.js';
export type { CertificateExpiringEvent, MaskinportenClient } from './client.js';
export { AccessToken } from './access-token.js';
export type { MaskinportenClientOptions } from './options.js';
