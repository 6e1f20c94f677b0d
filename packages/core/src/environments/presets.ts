/**
 * Maskinporten's environments, verbatim from docs/maskinporten-rules.md §1.1. The issuer keeps its trailing
 * slash: the grant's `aud` and the token's `iss` must equal it exactly (sections 2.3 and 6.1), or
 * Maskinporten answers MP-110 and a verifier refuses every token.
 */

/** `test` or `prod` for a preset's issuer, `custom` for any other. */
export type EnvironmentKind = 'test' | 'prod' | 'custom';

/**
 * One Maskinporten environment: issuer (the grant's `aud`, the token's `iss`), token endpoint, key
 * set (JWKS) and RFC 8414 metadata URL.
 * @example
 * ```ts
 * const { issuer, tokenEndpoint, jwksUri }: EnvironmentEndpoints = ENVIRONMENTS.test;
 * ```
 */
export interface EnvironmentEndpoints {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  /** The key set Maskinporten signs its access tokens with (RFC 7517). */
  readonly jwksUri: string;
  readonly metadataUrl: string;
}

/**
 * The two current Maskinporten environments (docs/maskinporten-rules.md §1.1).
 *
 * @example
 * ```ts
 * import { ENVIRONMENTS } from '@portvakt/core/internal';
 * ENVIRONMENTS.test.issuer; // 'https://test.maskinporten.no/'
 * ENVIRONMENTS.prod.jwksUri; // 'https://maskinporten.no/jwk'
 * ```
 */
export const ENVIRONMENTS: Readonly<{ test: EnvironmentEndpoints; prod: EnvironmentEndpoints }> = Object.freeze({
  test: Object.freeze({
    issuer: 'https://test.maskinporten.no/',
    tokenEndpoint: 'https://test.maskinporten.no/token',
    jwksUri: 'https://test.maskinporten.no/jwk',
    metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server',
  }),
  prod: Object.freeze({
    issuer: 'https://maskinporten.no/',
    tokenEndpoint: 'https://maskinporten.no/token',
    jwksUri: 'https://maskinporten.no/jwk',
    metadataUrl: 'https://maskinporten.no/.well-known/oauth-authorization-server',
  }),
});

/** The hosts of the presets' issuers: an issuer on one of them must be exactly `https://<host>/`. */
export const MASKINPORTEN_HOSTS: ReadonlySet<string> = new Set(Object.values(ENVIRONMENTS).map((environment) => new URL(environment.issuer).hostname));

/** `test` or `prod` when the issuer is exactly a preset's issuer, otherwise `custom`. */
export function kindOfIssuer(issuer: string): EnvironmentKind {
  if (issuer === ENVIRONMENTS.test.issuer) return 'test';
  if (issuer === ENVIRONMENTS.prod.issuer) return 'prod';
  return 'custom';
}
