export { withMaskinporten } from './with-maskinporten.js';
export type { MaskinportenInterceptor } from './with-maskinporten.js';
export type { WithMaskinportenOptions } from './options.js';
export type { MaskinportenRequestConfig } from './request-config.js';
