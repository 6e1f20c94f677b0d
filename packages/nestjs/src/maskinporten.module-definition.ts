import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MaskinportenModuleOptions } from './interfaces/maskinporten-module-options.interface.js';

export const {
  ConfigurableModuleClass: MaskinportenConfigurableModule,
  MODULE_OPTIONS_TOKEN: MASKINPORTEN_MODULE_OPTIONS,
  OPTIONS_TYPE: MASKINPORTEN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MASKINPORTEN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MaskinportenModuleOptions>({ moduleName: 'Maskinporten', optionsInjectionToken: 'portvakt:maskinporten:options' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMaskinportenOptions')
  .setExtras({ isGlobal: false, name: 'default' }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
