import type { MaskinportenVerifier, MaskinportenVerifierOptions } from '@portvakt/verify';

/**
 * Options of `MaskinportenVerifierModule.forRoot()`: the options of `createMaskinportenVerifier()`,
 * or `{ verifier }`, a verifier made elsewhere, such as NAIS Texas' introspection verifier
 * (`createTexasIntrospectionVerifier()` in `@portvakt/verify`).
 *
 * @example
 * ```ts
 * const local: MaskinportenVerifierModuleOptions = { environment: 'prod', scope: 'nav:aareg' };
 * const texas: MaskinportenVerifierModuleOptions = { verifier: createTexasIntrospectionVerifier({ scope: 'nav:aareg' }) };
 * ```
 */
export type MaskinportenVerifierModuleOptions = MaskinportenVerifierOptions | { verifier: MaskinportenVerifier };

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
