// The JWT grant (RFC 7523) exactly as Maskinporten wants it: docs/maskinporten-rules.md §2 and §10.
import { randomUUID } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import type { Signer } from '../types.js';
import type { NormalizedTokenRequest } from './request.js';

const encoder = new TextEncoder();
const headerCache = new WeakMap<Signer, string>();

/**
 * The grant lifetime option: integer seconds, default 60, never above Maskinporten's 120.
 * @example
 * ```ts
 * import { validateGrantLifetime } from '../grant/index.js'; // internal
 * validateGrantLifetime(90); // 90; 121 throws a ConfigurationError
 * ```
 */
export function validateGrantLifetime(value: unknown, field = 'grantLifetime'): number {
  if (value === undefined) return 60;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 120) {
    throw new ConfigurationError(field, 'must be an integer number of seconds from 1 to 120 (Maskinporten refuses exp - iat above 120); the default is 60.');
  }
  return value;
}

function encodedHeader(signer: Signer): string {
  let header = headerCache.get(signer);
  if (header === undefined) {
    // Exactly alg plus one of kid/x5c: no typ, no x5t (docs/maskinporten-rules.md §10).
    const json = signer.x5c ? { alg: signer.alg, x5c: [...signer.x5c] } : { alg: signer.alg, kid: signer.kid };
    header = Buffer.from(JSON.stringify(json)).toString('base64url');
    headerCache.set(signer, header);
  }
  return header;
}

/**
 * The `authorization_details` of a request: one system-user entry (docs/maskinporten-rules.md §5.3)
 * or one consent entry (§5.4), or undefined. The grant carries it, and so does a request to NAIS
 * Texas, which passes it on to Maskinporten unread.
 */
export function authorizationDetailsOf(r: Pick<NormalizedTokenRequest, 'systemUser' | 'consent'>): Record<string, unknown>[] | undefined {
  if (r.consent !== undefined) return [{ type: 'urn:altinn:consent', id: r.consent.id, from: r.consent.from }];
  if (r.systemUser === undefined) return undefined;
  const detail: Record<string, unknown> = {
    type: 'urn:altinn:systemuser',
    systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${r.systemUser.orgno}` },
  };
  if (r.systemUser.externalRef !== undefined) detail.externalRef = r.systemUser.externalRef;
  return [detail];
}

/** The claim set of a grant, in a fixed order; nothing but the documented claims. */
export function grantClaims(input: { issuer: string; clientId: string; request: NormalizedTokenRequest; nowMs: number; lifetimeSeconds: number; jti?: string }): Record<string, unknown> {
  const iat = Math.floor(input.nowMs / 1000);
  const { request: r } = input;
  const claims: Record<string, unknown> = {
    aud: input.issuer, // the issuer verbatim, trailing slash and all (section 2.3)
    iss: input.clientId,
    iat,
    exp: iat + input.lifetimeSeconds,
    jti: input.jti ?? randomUUID(), // never reused: a fresh one per attempt (MP-012)
    scope: r.scope,
  };
  if (r.resource !== undefined) claims.resource = r.resource;
  if (r.consumerOrg !== undefined) claims.consumer_org = r.consumerOrg;
  if (r.pid !== undefined) claims.pid = r.pid;
  const details = authorizationDetailsOf(r);
  if (details !== undefined) claims.authorization_details = details;
  // Deprecated by Digdir, still accepted (docs/maskinporten-rules.md §10).
  if (r.onBehalfOf !== undefined) claims.iss_onbehalfof = r.onBehalfOf;
  return claims;
}

/**
 * Builds and signs a grant, returning the compact JWS to post as `assertion`.
 *
 * @example
 * ```ts
 * import { createGrant, loadSigner, normalizeTokenRequest } from '@portvakt/core';
 * const assertion = await createGrant({
 *   issuer: 'https://test.maskinporten.no/', clientId: 'my-client',
 *   request: normalizeTokenRequest({ scope: 'nav:test' }, undefined),
 *   nowMs: Date.now(), lifetimeSeconds: 60, signer: loadSigner({ jwk }),
 * });
 * ```
 */
export async function createGrant(input: { issuer: string; clientId: string; request: NormalizedTokenRequest; nowMs: number; lifetimeSeconds: number; signer: Signer }): Promise<string> {
  const payload = Buffer.from(JSON.stringify(grantClaims(input))).toString('base64url');
  const signingInput = `${encodedHeader(input.signer)}.${payload}`;
  const signature = await input.signer.sign(encoder.encode(signingInput));
  return `${signingInput}.${Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64url')}`;
}
