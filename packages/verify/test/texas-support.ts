// The NAIS side of the guard tests: the simulator with its Texas (/api/v1/introspect), a client
// that gets real tokens from it, and the checks every guard must pass with the Texas introspection
// verifier: a valid token 200, an inactive one 401 invalid_token, a wrong scope 403
// insufficient_scope, and 1,000 concurrent requests with one token making 1 introspection.
// Imported by the tests of @portvakt/express, @portvakt/nestjs and @portvakt/fastify.
import { createMaskinportenClient } from '@portvakt/core';
import { createTokenFactory, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { createTexasIntrospectionVerifier } from '@portvakt/verify';
import type { MaskinportenVerifier } from '@portvakt/verify';

export const TEXAS_CUSTOMER = '910753614';

/** What a guard test needs of the NAIS side. */
export interface TexasWorld {
  /** A verifier asking the simulator's Texas, requiring `nav:read` of every token. */
  verifier: MaskinportenVerifier;
  /** A fresh token from the simulator for these scopes (each call a new token). */
  token(scope?: string): Promise<string>;
  /** A token signed by a key the simulator never published: Texas finds it inactive. */
  foreignToken(): Promise<string>;
  introspections(): number;
  close(): Promise<void>;
}

/** Starts the simulator with Texas and the app's verifier on its introspection endpoint. */
export async function startTexasWorld(): Promise<TexasWorld> {
  const key = generateClientKey({ kid: 'texas-guard' });
  const sim = await startMaskinportenSimulator({
    clients: [{ clientId: 'caller', orgno: TEXAS_CUSTOMER, scopes: ['nav:read', 'nav:write'], jwks: [key.publicJwk] }],
    texas: { client: { clientId: 'api', orgno: '991825827', scopes: [] } },
  });
  const texas = sim.texas!;
  // No cache on the client: every token() is a new token.
  const client = createMaskinportenClient({ clientId: 'caller', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:read', cache: { maxEntries: 1 } });
  const stranger = createTokenFactory({ issuer: sim.issuer });
  return {
    verifier: createTexasIntrospectionVerifier({ endpoint: texas.introspectionEndpoint, scope: 'nav:read' }),
    async token(scope = 'nav:read') {
      const token = await client.getToken({ scope });
      client.invalidate(token);
      return token.accessToken;
    },
    foreignToken: () => stranger.mint({ scope: 'nav:read', consumerOrgno: TEXAS_CUSTOMER }),
    introspections: () => texas.introspectionCount(),
    async close() {
      await client.close();
      await sim.close();
    },
  };
}

/** The answer of one request, as the guard tests compare it. */
export interface GuardAnswer {
  status: number;
  challenge: string | null;
  code: unknown;
}

/** GETs `url` with a bearer token (or none). */
export async function getWith(url: string, token: string | undefined): Promise<GuardAnswer> {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { code?: unknown };
  return { status: res.status, challenge: res.headers.get('www-authenticate'), code: body.code };
}

export const INACTIVE = { status: 401, challenge: 'Bearer error="invalid_token", error_description="The access token is not active"', code: 'invalid_token' };
export const WRONG_SCOPE = { status: 403, challenge: 'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="nav:read nav:write"', code: 'insufficient_scope' };
