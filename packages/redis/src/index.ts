export { createRedisTokenStore } from './store.js';
export type { RedisLike, RedisTokenStoreOptions } from './store.js';
export { parseEncryptionKey } from './crypto.js';
export { valkeyEnvSuffix, valkeyOptions } from './valkey.js';
export type { ValkeyConnectionOptions, ValkeyOptionsInput } from './valkey.js';
