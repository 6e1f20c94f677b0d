import { Module } from '@nestjs/common';
import type { DynamicModule, OnModuleDestroy } from '@nestjs/common';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { getMaskinportenClientToken } from './maskinporten.constants.js';
import type {
  MASKINPORTEN_ASYNC_OPTIONS_TYPE,
  MASKINPORTEN_OPTIONS_TYPE} from './maskinporten.module-definition.js';
import {
  MASKINPORTEN_MODULE_OPTIONS,
  MaskinportenConfigurableModule,
} from './maskinporten.module-definition.js';
import type { MaskinportenModuleOptions } from './interfaces/maskinporten-module-options.interface.js';

/**
 * Options of `forRoot`: the client options plus `name` and `isGlobal`.
 * @example
 * ```ts
 * MaskinportenModule.forRoot({ name: 'nav', isGlobal: true, clientId, environment: 'test', key: { jwk } });
 * ```
 */
export type MaskinportenModuleRootOptions = typeof MASKINPORTEN_OPTIONS_TYPE;
/**
 * Options of `forRootAsync`: `imports`, `useFactory` + `inject`, `useClass` or `useExisting`, plus `name` and `isGlobal`.
 * @example
 * ```ts
 * MaskinportenModule.forRootAsync({ name: 'skatt', useClass: MaskinportenConfig });
 * ```
 */
export type MaskinportenModuleAsyncOptions = typeof MASKINPORTEN_ASYNC_OPTIONS_TYPE;

class ClientLifecycle implements OnModuleDestroy {
  readonly #client: MaskinportenClient;
  constructor(client: MaskinportenClient) {
    this.#client = client;
  }
  async onModuleDestroy(): Promise<void> {
    await this.#client.close();
  }
}

function withClient(module: DynamicModule, name = 'default'): DynamicModule {
  const token = getMaskinportenClientToken(name);
  return {
    ...module,
    providers: [
      ...(module.providers ?? []),
      // createMaskinportenClient validates every option: a bad configuration stops the app at
      // boot with a ConfigurationError naming the field.
      { provide: token, useFactory: (options: MaskinportenModuleOptions) => createMaskinportenClient(options), inject: [MASKINPORTEN_MODULE_OPTIONS] },
      { provide: `${token}:lifecycle`, useFactory: (client: MaskinportenClient) => new ClientLifecycle(client), inject: [token] },
    ],
    exports: [...(module.exports ?? []), token],
  };
}

/**
 * Configures Maskinporten clients. One `forRoot`/`forRootAsync` per client; give each a `name`
 * when there are several, and inject them with `@InjectMaskinportenClient(name)`. Clients are
 * closed when the module is destroyed (`app.close()`).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ConfigModule.forRoot(),
 *     MaskinportenModule.forRootAsync({
 *       isGlobal: true,
 *       imports: [ConfigModule],
 *       inject: [ConfigService],
 *       useFactory: (config: ConfigService) => ({
 *         clientId: config.getOrThrow('MASKINPORTEN_CLIENT_ID'),
 *         environment: 'test',
 *         key: { jwk: config.getOrThrow('MASKINPORTEN_CLIENT_JWK') },
 *         scope: 'skatteetaten:testscope',
 *       }),
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class MaskinportenModule extends MaskinportenConfigurableModule {
  static override forRoot(options: MaskinportenModuleRootOptions): DynamicModule {
    return withClient(super.forRoot(options), options.name);
  }

  static override forRootAsync(options: MaskinportenModuleAsyncOptions): DynamicModule {
    return withClient(super.forRootAsync(options), options.name);
  }
}
