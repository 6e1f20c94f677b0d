export { maskinporten } from './interceptor.js';
export type { MaskinportenInterceptorOptions } from './options.js';
export { fetchThrough } from './fetch-through.js';
