/** Placeholder. @example import { VERSION } from '@portvakt/nestjs'; */
export const VERSION = '0.1.0';
