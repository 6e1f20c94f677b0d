export { createRedisTokenStore } from './store.js';
export type { RedisLike, RedisTokenStoreOptions } from './store.js';
export { parseEncryptionKey } from './crypto.js';
