import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MaskinportenVerifierModuleOptions } from './interfaces/maskinporten-verifier-module-options.interface.js';

export const {
  ConfigurableModuleClass: MaskinportenVerifierConfigurableModule,
  MODULE_OPTIONS_TOKEN: MASKINPORTEN_VERIFIER_MODULE_OPTIONS,
  OPTIONS_TYPE: MASKINPORTEN_VERIFIER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MASKINPORTEN_VERIFIER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MaskinportenVerifierModuleOptions>({ moduleName: 'MaskinportenVerifier', optionsInjectionToken: 'portvakt:maskinporten:verifier-options' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMaskinportenVerifierOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
