// Texas' introspection of a Maskinporten token (nais/texas src/oauth/token.rs): the signature
// (RS256 only, by `kid` from the issuer's key set, refetched once when the kid is unknown), then
// `iss`, `exp`, `iat` (required), `nbf`, with 60 s of leeway, and `iat` not in the future. Nothing
// else: no `aud`, scope, consumer or authorization_details (docs/maskinporten-rules.md §11.1). The
// reasons are worded as Texas words them, so a test can compare.
import { createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';

const LEEWAY_SECONDS = 60;

/** The answer to one introspection: always HTTP 200. */
export type IntrospectionResult = { active: true; [claim: string]: unknown } | { active: false; error: string };

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const inactive = (error: string): IntrospectionResult => ({ active: false, error });

/** A whole number of seconds as jsonwebtoken reads a time claim (u64), or undefined. */
function seconds(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Texas' Maskinporten introspection: a key set read once and refreshed on an unknown kid. */
export function createIntrospector(parts: { issuer: () => string; publishedKeys: () => JsonWebKey[]; now: () => number }) {
  let keys = new Map<string, KeyObject>();
  const refresh = () => {
    keys = new Map();
    for (const jwk of parts.publishedKeys()) {
      const kid = (jwk as { kid?: unknown }).kid;
      if (typeof kid === 'string') keys.set(kid, createPublicKey({ key: jwk, format: 'jwk' }));
    }
  };
  refresh();

  return {
    /** Validates `token` and answers as Texas does. */
    introspect(token: string): IntrospectionResult {
      const segments = token.split('.');
      const header = segments.length === 3 ? decodeJson(segments[0] as string) : undefined;
      if (header === undefined || typeof header.alg !== 'string') return inactive('invalid token header: InvalidToken');
      if (typeof header.kid !== 'string') return inactive('missing key id from token header');
      let key = keys.get(header.kid);
      if (key === undefined) {
        // Texas refetches the key set on every unknown kid, with no cooldown.
        refresh();
        key = keys.get(header.kid);
        if (key === undefined) return inactive('token can not be validated with this identity provider');
      }
      if (header.alg !== 'RS256') return inactive('invalid token: InvalidAlgorithm');
      const [encodedHeader, encodedClaims, signature] = segments as [string, string, string];
      if (!verify('sha256', Buffer.from(`${encodedHeader}.${encodedClaims}`), key, Buffer.from(signature, 'base64url'))) {
        return inactive('invalid token: InvalidSignature');
      }
      const claims = decodeJson(encodedClaims);
      if (claims === undefined) return inactive('invalid token: InvalidToken');
      for (const name of ['iss', 'exp', 'iat']) {
        if (claims[name] === undefined) return inactive(`invalid token: Missing required claim: ${name}`);
      }
      const now = Math.floor(parts.now() / 1000);
      const exp = seconds(claims.exp);
      if (exp === undefined) return inactive('invalid token: Missing required claim: exp');
      if (exp < now - LEEWAY_SECONDS) return inactive('invalid token: ExpiredSignature');
      if (claims.nbf !== undefined) {
        const nbf = seconds(claims.nbf);
        if (nbf === undefined || nbf > now + LEEWAY_SECONDS) return inactive('invalid token: ImmatureSignature');
      }
      if (claims.iss !== parts.issuer()) return inactive('invalid token: InvalidIssuer');
      const iat = seconds(claims.iat);
      if (iat === undefined) return inactive('invalid token: Missing required claim: iat');
      if (iat > now + LEEWAY_SECONDS) return inactive('invalid token: ImmatureSignature');
      const { active: _active, ...rest } = claims;
      return { active: true, ...rest };
    },
  };
}
