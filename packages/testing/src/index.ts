/** Placeholder. @example import { VERSION } from '@portvakt/testing'; */
export const VERSION = '0.1.0';
