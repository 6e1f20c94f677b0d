export { safetyMarginMs, TokenCache } from './token-cache.js';
export type { CachedToken, CacheEvents, CachePolicy, CacheSlot, TokenFetcher } from './token-cache.js';
