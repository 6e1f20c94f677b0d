export { TokenCache } from './token-cache.js';
export type { CacheEvents, CachePolicy, TokenFetcher } from './token-cache.js';
