export { ALTINN_EXCHANGE_URLS, createAltinnTokenSource } from './token-source.js';
export type { AltinnTokenSource, AltinnTokenSourceOptions } from './token-source.js';
