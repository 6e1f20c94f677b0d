export { createTexasTokenSource } from './token-source.js';
export type { TexasTokenSource } from './token-source.js';
export type { TexasTokenSourceOptions } from './options.js';
