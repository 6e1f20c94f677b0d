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

/**
 * Skyporten, Maskinporten's issuer for sharing cloud resources (docs/maskinporten-rules.md §5.9).
 * Its issuer has NO trailing slash, unlike Maskinporten's, so the grant's `aud` has none either;
 * its metadata is an OpenID configuration document. Consumers use their Maskinporten clients.
 *
 * @example
 * ```ts
 * import { SKYPORTEN_ENVIRONMENTS } from '@portvakt/core';
 * SKYPORTEN_ENVIRONMENTS.test.issuer; // 'https://test.sky.maskinporten.no'
 * SKYPORTEN_ENVIRONMENTS.prod.metadataUrl; // 'https://sky.maskinporten.no/.well-known/openid-configuration'
 * ```
 */
export const SKYPORTEN_ENVIRONMENTS: Readonly<{ test: EnvironmentEndpoints; prod: EnvironmentEndpoints }> = Object.freeze({
  test: Object.freeze({
    issuer: 'https://test.sky.maskinporten.no',
    tokenEndpoint: 'https://test.sky.maskinporten.no/token',
    jwksUri: 'https://test.sky.maskinporten.no/jwk',
    metadataUrl: 'https://test.sky.maskinporten.no/.well-known/openid-configuration',
  }),
  prod: Object.freeze({
    issuer: 'https://sky.maskinporten.no',
    tokenEndpoint: 'https://sky.maskinporten.no/token',
    jwksUri: 'https://sky.maskinporten.no/jwk',
    metadataUrl: 'https://sky.maskinporten.no/.well-known/openid-configuration',
  }),
});

/** The names of the presets the `environment` option takes. */
export type PresetName = 'test' | 'prod' | 'skyporten-test' | 'skyporten-prod';

/**
 * The endpoints and kind of a preset name. Skyporten's are `custom`: Digdir does not say which CA
 * family its certificates must come from, so no certificate is refused before Skyporten sees it.
 */
export function presetOf(name: PresetName): { readonly endpoints: EnvironmentEndpoints; readonly kind: EnvironmentKind } {
  switch (name) {
    case 'test':
    case 'prod':
      return { endpoints: ENVIRONMENTS[name], kind: name };
    case 'skyporten-test':
      return { endpoints: SKYPORTEN_ENVIRONMENTS.test, kind: 'custom' };
    case 'skyporten-prod':
      return { endpoints: SKYPORTEN_ENVIRONMENTS.prod, kind: 'custom' };
  }
}

/** Whether `value` is one of the preset names. */
export function isPresetName(value: unknown): value is PresetName {
  return value === 'test' || value === 'prod' || value === 'skyporten-test' || value === 'skyporten-prod';
}

/** The hosts of the presets' issuers: an issuer on one of them must be exactly `https://<host>/`. */
export const MASKINPORTEN_HOSTS: ReadonlySet<string> = new Set(Object.values(ENVIRONMENTS).map((environment) => new URL(environment.issuer).hostname));

/** The hosts of Skyporten's issuers: an issuer on one of them must be exactly `https://<host>`, no slash. */
export const SKYPORTEN_HOSTS: ReadonlySet<string> = new Set(Object.values(SKYPORTEN_ENVIRONMENTS).map((environment) => new URL(environment.issuer).hostname));

/** `test` or `prod` when the issuer is exactly a Maskinporten preset's issuer, otherwise `custom`. */
export function kindOfIssuer(issuer: string): EnvironmentKind {
  if (issuer === ENVIRONMENTS.test.issuer) return 'test';
  if (issuer === ENVIRONMENTS.prod.issuer) return 'prod';
  return 'custom';
}
