// Altinn's token exchange (docs/maskinporten-rules.md §5.7), as the simulator serves it beside /token:
// GET /authentication/api/v1/exchange/maskinporten with a Maskinporten token as bearer. It accepts
// only a valid, unexpired token from the simulator's own issuer (checked against the simulator's
// published keys) and answers with an Altinn-shaped JWT as plain text, signed by a key of its own
// that it publishes like Altinn does.
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { createIssuerKey, signAccessToken } from './access-token.js';
import type { IssuerKey } from './access-token.js';

export const ALTINN_EXCHANGE_PATH = '/authentication/api/v1/exchange/maskinporten';
export const ALTINN_JWKS_PATH = '/authentication/api/v1/openid/.well-known/openid-configuration/jwks';

export interface AltinnExchange {
  readonly key: IssuerKey;
  /** Answers one exchange request: status and body. */
  exchange(authorization: string | undefined): Promise<{ status: number; body: string }>;
}

export function createAltinnExchange(parts: { now: () => number; issuer: () => string; baseUrl: () => string; lifetimeSeconds: number }): AltinnExchange {
  const key = createIssuerKey();
  return {
    key,
    async exchange(authorization) {
      const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '');
      if (!match) return { status: 401, body: '' };
      let claims: Record<string, unknown>;
      try {
        // The keys the simulator publishes at /jwk, read as any API would (rotation included).
        const jwks = (await (await fetch(`${parts.baseUrl()}/jwk`)).json()) as JSONWebKeySet;
        // The simulator's clock, not the machine's: tests move it.
        ({ payload: claims } = await jwtVerify(match[1] as string, createLocalJWKSet(jwks), {
          issuer: parts.issuer(),
          algorithms: ['RS256'],
          currentDate: new Date(parts.now()),
        }));
      } catch {
        return { status: 401, body: '' };
      }
      const consumer = claims.consumer as { ID?: unknown } | undefined;
      const orgno = typeof consumer?.ID === 'string' ? consumer.ID.replace(/^0192:/, '') : undefined;
      const body: Record<string, unknown> = {
        iss: `${parts.baseUrl()}/authentication/api/v1/openid/`,
        client_id: claims.client_id,
        client_amr: claims.client_amr,
        scope: claims.scope,
        consumer: claims.consumer,
        'urn:altinn:orgNumber': orgno,
        'urn:altinn:authenticatemethod': 'maskinporten',
        'urn:altinn:authlevel': 3,
      };
      // System-user and consent tokens keep what they are about through the exchange.
      for (const name of ['authorization_details', 'supplier', 'delegation_source', 'pid', 'aud'] as const) {
        if (claims[name] !== undefined) body[name] = claims[name];
      }
      const iat = Math.floor(parts.now() / 1000);
      return { status: 200, body: await signAccessToken(key, body, iat, iat + parts.lifetimeSeconds) };
    },
  };
}
