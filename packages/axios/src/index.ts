export { withMaskinporten } from './with-maskinporten.js';
export type { MaskinportenInterceptor, MaskinportenRequestConfig, WithMaskinportenOptions } from './with-maskinporten.js';
