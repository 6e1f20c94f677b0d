import type { MaskinportenVerifierOptions } from '@portvakt/verify';

/**
 * Options of `MaskinportenVerifierModule.forRoot()`: the options of `createMaskinportenVerifier()`.
 *
 * @example
 * ```ts
 * const options: MaskinportenVerifierModuleOptions = { environment: 'prod', scope: 'nav:aareg' };
 * ```
 */
export type MaskinportenVerifierModuleOptions = MaskinportenVerifierOptions;

/**
 * A class that makes the verifier options, for `forRootAsync({ useClass })`.
 *
 * @example
 * ```ts
 * @Injectable()
 * class VerifierConfig implements MaskinportenVerifierOptionsFactory {
 *   constructor(@Inject(ConfigService) private readonly config: ConfigService) {}
 *   createMaskinportenVerifierOptions() { return { environment: { metadataUrl: this.config.getOrThrow('MASKINPORTEN_WELL_KNOWN_URL') } }; }
 * }
 * ```
 */
export interface MaskinportenVerifierOptionsFactory {
  createMaskinportenVerifierOptions(): MaskinportenVerifierModuleOptions | Promise<MaskinportenVerifierModuleOptions>;
}
