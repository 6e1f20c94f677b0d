/**
 * Where a verifier gets its issuer and key set. The option is read, and the metadata fetched and
 * cached, by core's environment module, the one the client uses too (`@portvakt/core/internal`):
 * - `'test'` / `'prod'`: the presets, with their JWKS URLs (docs/maskinporten-rules.md §1.1);
 * - `{ metadataUrl, metadataTtl? }`: RFC 8414 discovery, reading `issuer` and `jwks_uri`;
 * - `{ issuer, jwksUri }` (a `tokenEndpoint` may stay, so one object serves client and verifier);
 * - `{ issuer, jwks }`: a fixed key set, for tests and for setups that ship the keys with the app.
 * Options are validated synchronously, before any network call. This file only turns the plan
 * into the source the key-set cache loads from.
 */
import type { Clock } from '@portvakt/core';
import { fetchJsonDocument, MetadataCache, planVerifierEnvironment } from '@portvakt/core/internal';

/**
 * The public keys of a JWK Set, as Maskinporten publishes them at `/jwk` (RFC 7517 section 5).
 * @example
 * ```ts
 * const jwks: JsonWebKeySet = { keys: [{ kty: 'RSA', kid: 'k1', alg: 'RS256', use: 'sig', n: '...', e: 'AQAB' }] };
 * ```
 */
export interface JsonWebKeySet {
  keys: readonly Readonly<Record<string, unknown>>[];
}

/**
 * Which Maskinporten's tokens a verifier accepts, and where its keys are.
 *
 * @example
 * ```ts
 * const a: VerifierEnvironmentOption = 'prod';
 * const b: VerifierEnvironmentOption = { metadataUrl: process.env.MASKINPORTEN_WELL_KNOWN_URL! };
 * const c: VerifierEnvironmentOption = { issuer: sim.issuer, jwksUri: sim.jwksUri };
 * const d: VerifierEnvironmentOption = { issuer: factory.issuer, jwks: factory.jwks };
 * ```
 */
export type VerifierEnvironmentOption =
  | 'test'
  | 'prod'
  | { metadataUrl: string; metadataTtl?: number | undefined }
  | { issuer: string; jwksUri: string; tokenEndpoint?: string | undefined }
  | { issuer: string; jwks: JsonWebKeySet };

/** The issuer and the key set document, from one load. */
export interface LoadedKeySetDocument {
  issuer: string;
  jwks: Record<string, unknown>;
}

/** The verifier's view of its environment. */
export interface KeySetSource {
  /** Known at once, except with discovery: then after the first metadata document. */
  readonly issuer: string | undefined;
  /** Where the keys come from, for messages. */
  readonly location: string;
  /** A fixed key set is never fetched. */
  readonly fixed: boolean;
  /** One attempt at the key set (and, with discovery, at the metadata when the cache says it is due). */
  load(): Promise<LoadedKeySetDocument>;
}

export interface KeySetSourceDependencies {
  fetch: typeof fetch;
  clock: Clock;
  timeoutMs: number;
}

const KEY_SET = "Maskinporten's key set";
const KEY_SET_ACCEPT = 'application/json, application/jwk-set+json';

/**
 * Validates the verifier's `environment` option and returns its key-set source.
 * @example
 * ```ts
 * import { createKeySetSource } from './environment.js'; // internal
 * const source = createKeySetSource('test', { fetch, clock: Date, timeoutMs: 5000 });
 * source.issuer; // 'https://test.maskinporten.no/'
 * ```
 */
export function createKeySetSource(option: unknown, deps: KeySetSourceDependencies, field = 'environment'): KeySetSource {
  const plan = planVerifierEnvironment(option, field);
  const fetchKeySet = (url: string): Promise<Record<string, unknown>> => fetchJsonDocument(deps.fetch, { url, what: KEY_SET, accept: KEY_SET_ACCEPT, timeoutMs: deps.timeoutMs });
  if (plan.form === 'keys') {
    const document = { issuer: plan.issuer, jwks: plan.jwks as Record<string, unknown> };
    return Object.freeze({ issuer: plan.issuer, location: 'a fixed key set', fixed: true, load: () => Promise.resolve(document) });
  }
  if (plan.form === 'fixed') {
    const { issuer, jwksUri } = plan;
    return Object.freeze({ issuer, location: jwksUri, fixed: false, load: async () => ({ issuer, jwks: await fetchKeySet(jwksUri) }) });
  }
  const metadata = new MetadataCache({ fetch: deps.fetch, clock: deps.clock, metadataUrl: plan.metadataUrl, ttlMs: plan.ttlMs, timeoutMs: deps.timeoutMs, endpoint: 'jwksUri' });
  return Object.freeze({
    get issuer() {
      return metadata.issuer;
    },
    location: `the jwks_uri of ${plan.metadataUrl}`,
    fixed: false,
    async load() {
      const { issuer, jwksUri } = await metadata.resolve();
      return { issuer, jwks: await fetchKeySet(jwksUri) };
    },
  });
}
