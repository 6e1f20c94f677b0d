import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { ConfigurationError } from '@portvakt/core';
import { createMaskinportenVerifier } from '@portvakt/verify';
import type { MaskinportenVerifier } from '@portvakt/verify';
import type { MaskinportenVerifierModuleOptions } from './interfaces/maskinporten-verifier-module-options.interface.js';
import { MaskinportenTokenGuard } from './maskinporten-token.guard.js';
import { MASKINPORTEN_VERIFIER } from './maskinporten-verifier.constants.js';
import { MASKINPORTEN_VERIFIER_MODULE_OPTIONS, MaskinportenVerifierConfigurableModule } from './maskinporten-verifier.module-definition.js';
import type { MASKINPORTEN_VERIFIER_ASYNC_OPTIONS_TYPE, MASKINPORTEN_VERIFIER_OPTIONS_TYPE } from './maskinporten-verifier.module-definition.js';

/**
 * Options of `MaskinportenVerifierModule.forRoot`: the verifier options plus `isGlobal`.
 * @example
 * ```ts
 * MaskinportenVerifierModule.forRoot({ isGlobal: true, environment: 'prod', scope: 'nav:aareg' });
 * ```
 */
export type MaskinportenVerifierModuleRootOptions = typeof MASKINPORTEN_VERIFIER_OPTIONS_TYPE;
/**
 * Options of `forRootAsync`: `imports`, `useFactory` + `inject`, `useClass` or `useExisting`, plus `isGlobal`.
 * @example
 * ```ts
 * MaskinportenVerifierModule.forRootAsync({ useFactory: () => ({ environment: 'test' }) });
 * ```
 */
export type MaskinportenVerifierModuleAsyncOptions = typeof MASKINPORTEN_VERIFIER_ASYNC_OPTIONS_TYPE;

/** The verifier given, or one made from the options (which checks every option). */
function verifierOf(options: MaskinportenVerifierModuleOptions): MaskinportenVerifier {
  if (typeof options === 'object' && options !== null && 'verifier' in options) {
    const { verifier, ...rest } = options;
    const candidate = verifier as Partial<MaskinportenVerifier> | null;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.verify !== 'function' || typeof candidate.recall !== 'function' || typeof candidate.checkRequirements !== 'function') {
      throw new ConfigurationError('verifier', 'must be a verifier from createMaskinportenVerifier() or createTexasIntrospectionVerifier() in @portvakt/verify.');
    }
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new ConfigurationError(extra, 'is an option of createMaskinportenVerifier(): with { verifier }, give it to the function that made the verifier.');
    return verifier;
  }
  return createMaskinportenVerifier(options);
}

function withVerifier(module: DynamicModule): DynamicModule {
  return {
    ...module,
    providers: [
      ...(module.providers ?? []),
      // createMaskinportenVerifier validates every option: a bad configuration stops the app at
      // boot with a ConfigurationError naming the field. The key set is fetched on first use.
      { provide: MASKINPORTEN_VERIFIER, useFactory: verifierOf, inject: [MASKINPORTEN_VERIFIER_MODULE_OPTIONS] },
      MaskinportenTokenGuard,
    ],
    exports: [...(module.exports ?? []), MASKINPORTEN_VERIFIER, MaskinportenTokenGuard],
  };
}

/**
 * Configures the verifier of incoming Maskinporten tokens for `MaskinportenTokenGuard`, and
 * provides both (`MASKINPORTEN_VERIFIER`, `@InjectMaskinportenVerifier()`). One per app. Give it
 * the options of `createMaskinportenVerifier()`, or `{ verifier }` (on NAIS, the Texas introspection
 * verifier: `{ verifier: createTexasIntrospectionVerifier() }`).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     MaskinportenVerifierModule.forRootAsync({
 *       imports: [ConfigModule],
 *       inject: [ConfigService],
 *       useFactory: (config: ConfigService) => ({ environment: { metadataUrl: config.getOrThrow('MASKINPORTEN_WELL_KNOWN_URL') } }),
 *     }),
 *   ],
 *   providers: [{ provide: APP_GUARD, useClass: MaskinportenTokenGuard }],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class MaskinportenVerifierModule extends MaskinportenVerifierConfigurableModule {
  static override forRoot(options: MaskinportenVerifierModuleRootOptions): DynamicModule {
    return withVerifier(super.forRoot(options));
  }

  static override forRootAsync(options: MaskinportenVerifierModuleAsyncOptions): DynamicModule {
    return withVerifier(super.forRootAsync(options));
  }
}
