/** Placeholder. @example import { VERSION } from '@portvakt/axios'; */
export const VERSION = '0.1.0';
