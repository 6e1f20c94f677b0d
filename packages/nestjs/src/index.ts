export { MaskinportenModule } from './maskinporten.module.js';
export type { MaskinportenModuleAsyncOptions, MaskinportenModuleRootOptions } from './maskinporten.module.js';
export { MaskinportenHttpModule } from './maskinporten-http.module.js';
export type { MaskinportenHttpModuleAsyncOptions, MaskinportenHttpModuleOptions } from './maskinporten-http.module.js';
export { InjectMaskinportenClient } from './maskinporten.decorators.js';
export { getMaskinportenClientToken } from './maskinporten.constants.js';
export type { MaskinportenModuleOptions, MaskinportenOptionsFactory } from './interfaces/maskinporten-module-options.interface.js';
export { MaskinportenExceptionFilter } from './maskinporten-exception.filter.js';
export {
  InjectMaskinportenVerifier,
  MASKINPORTEN_VERIFIER,
  MaskinportenToken,
  MaskinportenTokenException,
  MaskinportenTokenGuard,
  MaskinportenVerifierModule,
  RequireMaskinportenScope,
  RequireMaskinportenToken,
  SkipMaskinportenToken,
} from './verify/index.js';
export type { MaskinportenVerifierModuleAsyncOptions, MaskinportenVerifierModuleOptions, MaskinportenVerifierModuleRootOptions, MaskinportenVerifierOptionsFactory } from './verify/index.js';
