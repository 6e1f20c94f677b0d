/** Placeholder. @example import { VERSION } from '@portvakt/express'; */
export const VERSION = '0.1.0';
