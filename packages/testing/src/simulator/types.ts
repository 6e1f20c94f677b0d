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
  /**
   * Consents (Altinn samtykke) given to this client: a grant with `urn:altinn:consent` must name
   * one of them (id and from), not expired; its rights go into the token. None registered: every
   * consent is refused (MP-303).
   */
  consents?: SimulatorConsent[];
  /**
   * Enterprise certificates registered in self-service under a kid: a grant with that `kid` is
   * checked against the certificate (docs/maskinporten-rules.md §10, "Certificate with kid").
   */
  registeredCertificates?: { kid: string; certificatePem: string }[];
  /** Values this client may send as the deprecated `iss_onbehalfof`; unset: any non-empty value. */
  onBehalfOf?: string[];
  /** Scopes registered but not allowed for this client's integration type: asking for them gives MP-201. */
  scopesNotForIntegrationType?: string[];
}

/**
 * A consent registered for a client (docs/maskinporten-rules.md §5.4).
 * @example
 * ```ts
 * const consent: SimulatorConsent = { id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356', validTo: '2028-01-01T14:30:00+00:00' };
 * ```
 */
export interface SimulatorConsent {
  id: string;
  /** `urn:altinn:person:identifier-no:<pid>` or `urn:altinn:organization:identifier-no:<orgno>`. */
  from: string;
  /** When the consent ends (ISO 8601 or a Date); default a year ahead. */
  validTo?: string | Date;
  /** When it was given; default an hour before the simulator started. */
  consented?: string | Date;
  /** The consented rights, copied to the token's `consentRights`; default one `consent` right. */
  rights?: { action: string[]; resource: { type: string; value: string }[]; metadata?: Record<string, string> }[];
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
  /**
   * Scopes only some organisations have been granted by the API owner: the consumer (the client's
   * organisation, or `consumer_org`) must be listed, or the request gets 403 MP-250.
   */
  scopeAccess?: Record<string, string[]>;
  /** Lifetime of Altinn tokens from the exchange endpoint, seconds (default 1800). */
  altinnTokenLifetimeSeconds?: number;
  /**
   * How long, on the simulator's clock, a key added through the self-service API
   * (`/clients/{id}/jwks`) waits before /token accepts it (Digdir: up to 2 minutes). Default 0.
   */
  selfServicePropagationMs?: number;
  /**
   * Serve NAIS Texas' endpoints too (`/api/v1/token`, `/api/v1/introspect`,
   * `/api/v1/token/exchange`), backed by this simulator's `/token`; see {@link SimulatorTexasOptions}.
   */
  texas?: SimulatorTexasOptions;
}

/**
 * The Texas sidecar the simulator stands in for: which Maskinporten client it gets tokens for, and
 * how it behaves.
 * @example
 * ```ts
 * const texas: SimulatorTexasOptions = { client: { clientId: 'nais-app', orgno: '889640782', scopes: ['nav:test'] } };
 * const sim = await startMaskinportenSimulator({ texas });
 * process.env.NAIS_TOKEN_ENDPOINT = sim.texas!.tokenEndpoint;
 * ```
 */
export interface SimulatorTexasOptions {
  /**
   * The app's Maskinporten client, as NAIS registers it: a client to register (Texas holds its
   * key, the app holds none), or the `clientId` of one in `clients`, to which Texas' key is added.
   */
  client: string | Omit<SimulatorClient, 'jwks' | 'acceptCertificates' | 'registeredCertificates'>;
  /** `false`: the manifest does not enable Maskinporten, and every token request gets Texas' 400 "not enabled". Default true. */
  maskinportenEnabled?: boolean;
  /** Texas' own retries of a transient Maskinporten failure (its `TEXAS_HTTP_MAX_RETRIES`); default 3. */
  maxRetries?: number;
  /** Texas' timeout of one Maskinporten request, ms (its `TEXAS_HTTP_OVERALL_TIMEOUT_MILLIS`); default 2000. */
  upstreamTimeoutMs?: number;
}

/**
 * The Texas stand-in of a simulator started with `texas`: its endpoints, the `NAIS_TOKEN_*`
 * variables NAIS would set, and what a test looks at. Faults go through the simulator's
 * `inject(fault, { path: '/api/v1/token' })`; a fault on `/token` reaches Texas as Maskinporten's.
 * @example
 * ```ts
 * const texas: SimulatorTexas = sim.texas!;
 * Object.assign(process.env, texas.env());
 * expect(texas.tokenRequestCount()).toBe(1);
 * ```
 */
export interface SimulatorTexas {
  /** `<url>/api/v1/token` (NAIS_TOKEN_ENDPOINT). */
  readonly tokenEndpoint: string;
  /** `<url>/api/v1/introspect` (NAIS_TOKEN_INTROSPECTION_ENDPOINT). */
  readonly introspectionEndpoint: string;
  /** `<url>/api/v1/token/exchange` (NAIS_TOKEN_EXCHANGE_ENDPOINT): user tokens only, so Maskinporten gets Texas' 400. */
  readonly exchangeEndpoint: string;
  /** The Maskinporten client Texas gets tokens for. */
  readonly clientId: string;
  /** The variables NAIS sets in the app's container. */
  env(): { NAIS_TOKEN_ENDPOINT: string; NAIS_TOKEN_INTROSPECTION_ENDPOINT: string; NAIS_TOKEN_EXCHANGE_ENDPOINT: string };
  /** POST /api/v1/token requests so far, faulted and refused ones included. */
  tokenRequestCount(): number;
  /** Of those, the ones that asked for `skip_cache: true`. */
  skipCacheCount(): number;
  /** POST /api/v1/introspect requests so far. */
  introspectionCount(): number;
  /** Tokens in Texas' cache (expired entries are dropped when next asked for). */
  cacheSize(): number;
  /** Empties Texas' cache, as a restart of the sidecar does. */
  clearCache(): void;
  /** Turns Maskinporten on or off for the app, as `spec.maskinporten.enabled` does. */
  setMaskinportenEnabled(enabled: boolean): void;
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
export type SimulatorPath = '/token' | '/.well-known/oauth-authorization-server' | '/jwk' | '/authentication/api/v1/exchange/maskinporten' | '/api/v1/token' | '/api/v1/introspect' | '/api/v1/token/exchange';

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
  /**
   * A request to the Texas stand-in: the request as Texas read it (`identity_provider`, `target`,
   * `resource`, `authorization_details`, `skip_cache`; an introspection's token is left out), where
   * a token came from (`hit` in Texas' cache, `miss`: a new Maskinporten request, `joined`: one
   * already under way), and whether an introspected token was `active`.
   */
  texas?: { request?: Record<string, unknown>; cache?: 'hit' | 'miss' | 'joined'; active?: boolean };
}
