// @portvakt/express/verify: the API-provider side, on @portvakt/verify (an optional peer
// dependency, installed by apps that verify incoming tokens). Apps that only fetch tokens import
// '@portvakt/express' and never load the verifier or jose.
export { requireMaskinportenToken } from './require-token.js';
export type { RequireMaskinportenTokenOptions } from './require-token.js';
