// What every cloud does first with a Skyporten token (docs/maskinporten-rules.md §11.4): find the
// issuer it trusts, read the issuer's key set through its OpenID configuration, and check the
// signature and the time. The audience and the subject are each cloud's own check, with its own
// error, so they are left to the stand-in.
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';

/** Why a token was not accepted before the audience and subject checks. */
export type IdentityTokenProblem = 'malformed' | 'unknown_issuer' | 'keys_unavailable' | 'signature' | 'expired' | 'not_yet_valid';

/** The claims of a Skyporten token the stand-ins read. */
export type SkyportenClaims = JWTPayload & { sub?: string; scope?: string; consumer?: { ID?: string } };

export type IdentityTokenCheck =
  | { ok: true; claims: SkyportenClaims }
  | { ok: false; problem: IdentityTokenProblem; claims: JWTPayload | undefined };

/** The token's claims without any check, for the messages a cloud prints. */
export function peekClaims(token: string): JWTPayload | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

/**
 * Checks `token` as a cloud does: its `iss` must be one of `trustedIssuers` (compared exactly, as
 * the clouds do), its signature must verify against the key set the issuer's
 * `/.well-known/openid-configuration` names, and it must be inside its lifetime at `nowMs`.
 */
export async function checkIdentityToken(token: string, trustedIssuers: readonly string[], nowMs: number): Promise<IdentityTokenCheck> {
  const claims = peekClaims(token);
  if (claims === undefined) return { ok: false, problem: 'malformed', claims };
  if (typeof claims.iss !== 'string' || !trustedIssuers.includes(claims.iss)) return { ok: false, problem: 'unknown_issuer', claims };
  let jwks: JSONWebKeySet;
  try {
    const configuration = (await (await fetch(`${claims.iss}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) })).json()) as { jwks_uri?: unknown };
    if (typeof configuration.jwks_uri !== 'string') return { ok: false, problem: 'keys_unavailable', claims };
    jwks = (await (await fetch(configuration.jwks_uri, { signal: AbortSignal.timeout(5000) })).json()) as JSONWebKeySet;
  } catch {
    return { ok: false, problem: 'keys_unavailable', claims };
  }
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { algorithms: ['RS256', 'RS384', 'RS512'], currentDate: new Date(nowMs), clockTolerance: 0 });
    return { ok: true, claims: payload as SkyportenClaims };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_JWT_EXPIRED') return { ok: false, problem: 'expired', claims };
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return { ok: false, problem: 'not_yet_valid', claims };
    return { ok: false, problem: 'signature', claims };
  }
}

/** Reads a form or JSON request body, bounded. */
export async function readRequestBody(req: AsyncIterable<unknown>, limit = 256 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
