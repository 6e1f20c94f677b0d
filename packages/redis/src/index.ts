/** Placeholder. @example import { VERSION } from '@portvakt/redis'; */
export const VERSION = '0.1.0';
