export { createOriginPolicy, originOf } from './policy.js';
export type { OriginPolicy } from './policy.js';
export { isLoopbackHostname } from '../shared/index.js';
