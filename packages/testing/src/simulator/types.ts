import type { JsonWebKey } from 'node:crypto';

/**
 * A client registered in the simulator, as Digdir's self-service would hold it.
 * @example
 * ```ts
 * const client: SimulatorClient = { clientId: 'c1', orgno: '991825827', scopes: ['nav:test'], jwks: [key.publicJwk] };
 * ```
 */
export interface SimulatorClient {
  clientId: string;
  /** The owning organisation's 9-digit number (becomes `consumer`). */
  orgno: string;
  /** Scopes the client may ask for. */
  scopes: string[];
  /** Registered public JWKs (each with `kid`): grants with a `kid` header. */
  jwks?: JsonWebKey[];
  /** Accept grants with an `x5c` enterprise certificate whose organisation number is `orgno`. */
  acceptCertificates?: boolean;
  /** Altinn delegations: customers (`consumer_org`) that delegated these scopes to this client. */
  delegations?: { consumerOrg: string; scopes: string[] }[];
  /** Altinn system users this client's system may act as. */
  systemUsers?: { orgno: string; externalRef?: string; systemUserId?: string; systemId?: string }[];
}

/**
 * The simulator's clock: real, offset from real, fixed, or your own.
 * @example
 * ```ts
 * const clock: SimulatorClock = { offsetMs: -30_000 }; // the simulator runs 30 s behind
 * ```
 */
export type SimulatorClock = { now(): number } | { offsetMs: number } | { fixed: Date | number };

/**
 * Options of `startMaskinportenSimulator`.
 * @example
 * ```ts
 * const options: SimulatorOptions = { issuer: 'https://test.maskinporten.no/', tokenLifetimeSeconds: 60, clients };
 * ```
 */
export interface SimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The issuer string; default its own base URL with a trailing slash. */
  issuer?: string;
  clock?: SimulatorClock;
  /** Lifetime of issued access tokens, seconds (default 120, Maskinporten's client default). */
  tokenLifetimeSeconds?: number;
  /** CA certificates (PEM) that x5c chains must lead to. */
  trustedCaPems?: string[];
  clients?: SimulatorClient[];
  /** `delegation_source` in delegated tokens (default `https://tt02.altinn.no/`). */
  delegationSource?: string;
}

/**
 * A fault to inject into the next request(s).
 * @example
 * ```ts
 * sim.inject({ kind: 'status', status: 429, headers: { 'retry-after': '2' } } satisfies SimulatorFault);
 * ```
 */
export type SimulatorFault =
  | { kind: 'status'; status: number; body?: string | object; headers?: Record<string, string> }
  | { kind: 'malformed'; body: string; contentType?: string; status?: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'drop' }
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string };

/**
 * The paths the simulator serves.
 * @example
 * ```ts
 * sim.inject({ kind: 'hang' }, { path: '/.well-known/oauth-authorization-server' satisfies SimulatorPath });
 * ```
 */
export type SimulatorPath = '/token' | '/.well-known/oauth-authorization-server' | '/jwk';

/**
 * One request as the simulator saw it.
 * @example
 * ```ts
 * const last: SimulatorRequestRecord | undefined = sim.requests.at(-1);
 * last?.grant?.claims.jti;
 * ```
 */
export interface SimulatorRequestRecord {
  method: string;
  path: string;
  status: number;
  /** Simulator clock, epoch ms. */
  at: number;
  fault?: SimulatorFault['kind'];
  /** The decoded grant (even when it was rejected). */
  grant?: { header: Record<string, unknown>; claims: Record<string, unknown> };
  error?: { error: string; error_description: string; code: string | undefined };
  issued?: { scope: string; expiresIn: number };
}
