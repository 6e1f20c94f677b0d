export { MaskinportenModule } from './maskinporten.module.js';
export type { MaskinportenModuleAsyncOptions, MaskinportenModuleRootOptions } from './maskinporten.module.js';
export { MaskinportenHttpModule } from './maskinporten-http.module.js';
export type { MaskinportenHttpModuleAsyncOptions, MaskinportenHttpModuleOptions } from './maskinporten-http.module.js';
export { InjectMaskinportenClient } from './maskinporten.decorators.js';
export { getMaskinportenClientToken } from './maskinporten.constants.js';
export type { MaskinportenModuleOptions, MaskinportenOptionsFactory } from './interfaces/maskinporten-module-options.interface.js';
export { MaskinportenExceptionFilter } from './maskinporten-exception.filter.js';
