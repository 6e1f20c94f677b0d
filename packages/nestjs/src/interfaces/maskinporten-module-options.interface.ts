import type { MaskinportenClientOptions } from '@portvakt/core';

/**
 * Options of `MaskinportenModule.forRoot()`: the options of `createMaskinportenClient()`.
 *
 * @example
 * ```ts
 * const options: MaskinportenModuleOptions = { clientId, environment: 'test', key: { jwk }, scope: 'nav:aareg' };
 * ```
 */
export type MaskinportenModuleOptions = MaskinportenClientOptions;

/**
 * A class that makes the options, for `forRootAsync({ useClass })`.
 *
 * @example
 * ```ts
 * @Injectable()
 * class MaskinportenConfig implements MaskinportenOptionsFactory {
 *   constructor(@Inject(ConfigService) private readonly config: ConfigService) {}
 *   createMaskinportenOptions() { return { clientId: this.config.getOrThrow('MP_CLIENT_ID'), environment: 'test', key: { jwk: this.config.getOrThrow('MP_JWK') } }; }
 * }
 * ```
 */
export interface MaskinportenOptionsFactory {
  createMaskinportenOptions(): MaskinportenModuleOptions | Promise<MaskinportenModuleOptions>;
}
