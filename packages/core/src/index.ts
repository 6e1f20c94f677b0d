/** Placeholder. @example import { VERSION } from '@portvakt/core'; */
export const VERSION = '0.1.0';
