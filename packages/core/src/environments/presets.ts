/**
 * Maskinporten's environments, verbatim from protocol.md section 1.1. The issuer keeps its trailing
 * slash: the grant's `aud` must equal it exactly, or Maskinporten answers MP-110 (section 2.3).
 */

/**
 * One Maskinporten environment: issuer (the grant's `aud`), token endpoint and RFC 8414 metadata URL.
 * @example
 * ```ts
 * const { issuer, tokenEndpoint }: EnvironmentEndpoints = ENVIRONMENTS.test;
 * ```
 */
export interface EnvironmentEndpoints {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly metadataUrl: string;
}

/**
 * The two current Maskinporten environments (protocol.md section 1.1).
 *
 * @example
 * ```ts
 * import { ENVIRONMENTS } from '../environments/index.js'; // internal
 * ENVIRONMENTS.test.issuer; // 'https://test.maskinporten.no/'
 * ENVIRONMENTS.prod.tokenEndpoint; // 'https://maskinporten.no/token'
 * ```
 */
export const ENVIRONMENTS: Readonly<{ test: EnvironmentEndpoints; prod: EnvironmentEndpoints }> = Object.freeze({
  test: Object.freeze({
    issuer: 'https://test.maskinporten.no/',
    tokenEndpoint: 'https://test.maskinporten.no/token',
    metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server',
  }),
  prod: Object.freeze({
    issuer: 'https://maskinporten.no/',
    tokenEndpoint: 'https://maskinporten.no/token',
    metadataUrl: 'https://maskinporten.no/.well-known/oauth-authorization-server',
  }),
});

/** `test` or `prod` when the issuer is exactly a preset's issuer, otherwise `custom`. */
export function kindOfIssuer(issuer: string): 'test' | 'prod' | 'custom' {
  if (issuer === ENVIRONMENTS.test.issuer) return 'test';
  if (issuer === ENVIRONMENTS.prod.issuer) return 'prod';
  return 'custom';
}
