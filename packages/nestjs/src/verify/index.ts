// @portvakt/nestjs/verify: the API-provider side, on @portvakt/verify (an optional peer dependency,
// installed by apps that verify incoming tokens). Apps that only call APIs import '@portvakt/nestjs'
// and never load the verifier or jose.
export { MaskinportenVerifierModule } from './maskinporten-verifier.module.js';
export type { MaskinportenVerifierModuleAsyncOptions, MaskinportenVerifierModuleRootOptions } from './maskinporten-verifier.module.js';
export type { MaskinportenVerifierModuleOptions, MaskinportenVerifierOptionsFactory } from './interfaces/maskinporten-verifier-module-options.interface.js';
export { MaskinportenTokenException, MaskinportenTokenGuard } from './maskinporten-token.guard.js';
export { InjectMaskinportenVerifier, MaskinportenToken, RequireMaskinportenScope, RequireMaskinportenToken, SkipMaskinportenToken } from './maskinporten-token.decorators.js';
export type { MaskinportenNestRequest } from './maskinporten-token.decorators.js';
export { MASKINPORTEN_VERIFIER } from './maskinporten-verifier.constants.js';
