import type { JsonWebKey } from 'node:crypto';
import { createIssuerKey, orgIdentifier, signAccessToken } from './simulator/access-token.js';

/**
 * Claims for {@link TokenFactory.mint}; anything not given gets a Maskinporten-like default.
 * @example
 * ```ts
 * const claims: MintClaims = { scope: 'nav:aareg', consumerOrgno: '910753614', pid: '01019000083' };
 * ```
 */
export interface MintClaims {
  scope?: string;
  clientId?: string;
  /** Consumer organisation number (becomes `consumer`). */
  consumerOrgno?: string;
  [claim: string]: unknown;
}

/**
 * Mints Maskinporten-shaped access tokens for tests of APIs that validate them.
 * @example
 * ```ts
 * const factory: TokenFactory = createTokenFactory();
 * const token = await factory.mint({ scope: 'my:api' });
 * ```
 */
export interface TokenFactory {
  readonly issuer: string;
  /** The JWKS to trust (what Maskinporten publishes at /jwk). */
  readonly jwks: { keys: JsonWebKey[] };
  mint(claims?: MintClaims, options?: { lifetimeSeconds?: number; now?: number }): Promise<string>;
}

/**
 * A token factory for API-provider tests: tokens look like Maskinporten's (RS256, `kid`,
 * `iss`, `client_id`, `client_amr`, `consumer`, `scope`, `token_type`, `iat`, `exp`, `jti`).
 *
 * @example
 * ```ts
 * import { createTokenFactory } from '@portvakt/testing';
 * import { createLocalJWKSet, jwtVerify } from 'jose';
 * const factory = createTokenFactory();
 * const token = await factory.mint({ scope: 'nav:aareg' });
 * await jwtVerify(token, createLocalJWKSet(factory.jwks), { issuer: factory.issuer });
 * ```
 */
export function createTokenFactory(options: { issuer?: string } = {}): TokenFactory {
  const key = createIssuerKey();
  const issuer = options.issuer ?? 'https://test.maskinporten.no/';
  return {
    issuer,
    jwks: { keys: [key.publicJwk] },
    async mint(claims = {}, opts = {}) {
      const { consumerOrgno, clientId, scope, ...rest } = claims;
      const iat = Math.floor((opts.now ?? Date.now()) / 1000);
      return signAccessToken(
        key,
        {
          iss: issuer,
          client_id: clientId ?? 'portvakt-test-client',
          client_amr: 'private_key_jwt',
          scope: scope ?? 'portvakt:test',
          consumer: orgIdentifier(consumerOrgno ?? '991825827'),
          ...rest,
        },
        iat,
        iat + (opts.lifetimeSeconds ?? 120),
      );
    },
  };
}
