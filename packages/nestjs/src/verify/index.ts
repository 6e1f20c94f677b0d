export { MaskinportenVerifierModule } from './maskinporten-verifier.module.js';
export type { MaskinportenVerifierModuleAsyncOptions, MaskinportenVerifierModuleRootOptions } from './maskinporten-verifier.module.js';
export type { MaskinportenVerifierModuleOptions, MaskinportenVerifierOptionsFactory } from './interfaces/maskinporten-verifier-module-options.interface.js';
export { MaskinportenTokenException, MaskinportenTokenGuard } from './maskinporten-token.guard.js';
export { InjectMaskinportenVerifier, MaskinportenToken, RequireMaskinportenScope, RequireMaskinportenToken, SkipMaskinportenToken } from './maskinporten-token.decorators.js';
export { MASKINPORTEN_VERIFIER } from './maskinporten-verifier.constants.js';
