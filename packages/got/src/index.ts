export { withMaskinporten } from './with-maskinporten.js';
export type { WithMaskinportenOptions } from './options.js';
