export { refreshAheadSchedule, safetyMarginMs, TokenCache } from './token-cache.js';
export type { CachedToken, CacheEvents, CachePolicy, CacheSlot, RefreshSchedule, ScheduleOf, TokenFetcher } from './token-cache.js';
