/**
 * Where a verifier gets its issuer and key set. The forms follow the client's `environment`
 * option, with the key set in place of the token endpoint:
 * - `'test'` / `'prod'`: the presets, with the JWKS URLs of protocol.md section 1.1;
 * - `{ metadataUrl, metadataTtl? }`: RFC 8414 discovery, reading `issuer` and `jwks_uri`;
 * - `{ issuer, jwksUri }` (a `tokenEndpoint` may stay, so one object serves client and verifier);
 * - `{ issuer, jwks }`: a fixed key set, for tests and for setups that ship the keys with the app.
 * Options are validated synchronously, before any network call.
 */
import { ConfigurationError, MalformedResponseError } from '@portvakt/core';
import type { Clock } from '@portvakt/core';
import { describeValue, ENVIRONMENTS, problemWithEndpointUrl, refuseUnknownOptions } from '@portvakt/core/internal';
import { fetchJsonDocument } from './documents.js';

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

/**
 * Maskinporten's key set URLs (protocol.md section 1.1: `/jwk` beside `/token`).
 * @example
 * ```ts
 * import { JWKS_URIS } from './environment.js'; // internal
 * JWKS_URIS.prod; // 'https://maskinporten.no/jwk'
 * ```
 */
export const JWKS_URIS: Readonly<{ test: string; prod: string }> = Object.freeze({
  test: 'https://test.maskinporten.no/jwk',
  prod: 'https://maskinporten.no/jwk',
});

/** The issuer and the key set document, from one load. */
export interface LoadedKeySetDocument {
  issuer: string;
  jwks: Record<string, unknown>;
}

/** The verifier's view of its environment. */
export interface KeySetSource {
  /** Known at once, except with discovery: then after the first load. */
  readonly issuer: string | undefined;
  /** Where the keys come from, for messages. */
  readonly location: string;
  /** A fixed key set is never fetched. */
  readonly fixed: boolean;
  /** One attempt at the key set (and, with discovery, at the metadata when it is due). */
  load(): Promise<LoadedKeySetDocument>;
}

export interface KeySetSourceDependencies {
  fetch: typeof fetch;
  clock: Clock;
  timeoutMs: number;
}

const FORMS = `'test', 'prod', { metadataUrl }, { issuer, jwksUri } or { issuer, jwks }`;
const DEFAULT_METADATA_TTL_SECONDS = 86_400;
const MAX_METADATA_TTL_SECONDS = 366 * 86_400;
const MASKINPORTEN_HOSTS = new Set(['maskinporten.no', 'test.maskinporten.no']);

function url(value: unknown, field: string, example: string): string {
  if (value === undefined) throw new ConfigurationError(field, `is required, for example "${example}".`);
  const problem = problemWithEndpointUrl(value);
  if (problem !== undefined) throw new ConfigurationError(field, problem);
  return value as string;
}

/** The issuer is compared verbatim with `iss`; a Maskinporten issuer missing its slash would refuse every token. */
function issuerOf(value: unknown, field: string): string {
  const issuer = url(value, field, ENVIRONMENTS.test.issuer);
  const parsed = new URL(issuer);
  if (parsed.protocol === 'https:' && MASKINPORTEN_HOSTS.has(parsed.hostname) && parsed.port === '' && issuer !== `https://${parsed.hostname}/`) {
    throw new ConfigurationError(field, `Maskinporten's issuer is exactly "https://${parsed.hostname}/" (trailing slash, no path); tokens never carry ${describeValue(issuer)}.`);
  }
  return issuer;
}

function fixedSource(issuer: string, location: string, load: () => Promise<LoadedKeySetDocument>, fixed: boolean): KeySetSource {
  return Object.freeze({ issuer, location, fixed, load });
}

function jwksUriSource(issuer: string, jwksUri: string, deps: KeySetSourceDependencies): KeySetSource {
  return fixedSource(issuer, jwksUri, async () => ({ issuer, jwks: await fetchJsonDocument(deps.fetch, jwksUri, deps.timeoutMs, "Maskinporten's key set") }), false);
}

function discoveredSource(metadataUrl: string, ttlMs: number, deps: KeySetSourceDependencies): KeySetSource {
  let document: { issuer: string; jwksUri: string; fetchedAt: number } | undefined;
  const readMetadata = async (): Promise<{ issuer: string; jwksUri: string }> => {
    if (document !== undefined && deps.clock.now() - document.fetchedAt < ttlMs) return document;
    try {
      const metadata = await fetchJsonDocument(deps.fetch, metadataUrl, deps.timeoutMs, 'the Maskinporten metadata document');
      const { issuer, jwks_uri: jwksUri } = metadata;
      for (const [name, value] of [['issuer', issuer], ['jwks_uri', jwksUri]] as const) {
        const problem = problemWithEndpointUrl(value);
        if (problem !== undefined) throw new MalformedResponseError(`The "${name}" in the metadata document at ${metadataUrl} is unusable: ${problem}`);
      }
      document = { issuer: issuer as string, jwksUri: jwksUri as string, fetchedAt: deps.clock.now() };
    } catch (error) {
      // A day-old document beats none: Maskinporten's issuer and key URL practically never change.
      if (document === undefined) throw error;
    }
    return document;
  };
  return {
    get issuer() {
      return document?.issuer;
    },
    location: `the jwks_uri of ${metadataUrl}`,
    fixed: false,
    async load() {
      const { issuer, jwksUri } = await readMetadata();
      return { issuer, jwks: await fetchJsonDocument(deps.fetch, jwksUri, deps.timeoutMs, "Maskinporten's key set") };
    },
  };
}

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
  if (option === 'test' || option === 'prod') return jwksUriSource(ENVIRONMENTS[option].issuer, JWKS_URIS[option], deps);
  if (typeof option === 'string') {
    const lower = option.trim().toLowerCase();
    const hint = lower === 'test' || lower === 'prod' ? `write '${lower}' in lower case` : lower === 'production' ? `use 'prod' for production` : `use ${FORMS}`;
    throw new ConfigurationError(field, `${describeValue(option)} is not an environment: ${hint}.`);
  }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) throw new ConfigurationError(field, `is required and must be ${FORMS}.`);
  refuseUnknownOptions(option, ['issuer', 'jwksUri', 'jwks', 'tokenEndpoint', 'metadataUrl', 'metadataTtl'], `${field}.`);
  const record = option as Record<string, unknown>;
  if (record.metadataUrl !== undefined) {
    if (record.issuer !== undefined || record.jwksUri !== undefined || record.jwks !== undefined || record.tokenEndpoint !== undefined) {
      throw new ConfigurationError(field, 'give either metadataUrl (discovery) or issuer with jwksUri or jwks, not both: the metadata document names the issuer and the key set.');
    }
    const metadataUrl = url(record.metadataUrl, `${field}.metadataUrl`, ENVIRONMENTS.test.metadataUrl);
    const ttl = record.metadataTtl ?? DEFAULT_METADATA_TTL_SECONDS;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_METADATA_TTL_SECONDS) {
      throw new ConfigurationError(`${field}.metadataTtl`, `must be a number of seconds above 0 and at most ${MAX_METADATA_TTL_SECONDS}; the default is ${DEFAULT_METADATA_TTL_SECONDS} (one day).`);
    }
    return discoveredSource(metadataUrl, ttl * 1000, deps);
  }
  if (record.metadataTtl !== undefined) throw new ConfigurationError(`${field}.metadataTtl`, 'applies only with metadataUrl.');
  const issuer = issuerOf(record.issuer, `${field}.issuer`);
  if (record.tokenEndpoint !== undefined) url(record.tokenEndpoint, `${field}.tokenEndpoint`, ENVIRONMENTS.test.tokenEndpoint);
  if (record.jwks !== undefined) {
    if (record.jwksUri !== undefined) throw new ConfigurationError(field, 'give either jwksUri (fetched and refreshed) or jwks (fixed), not both.');
    const jwks = record.jwks as Partial<JsonWebKeySet> | null;
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) throw new ConfigurationError(`${field}.jwks`, 'must be a JWK Set: { keys: [...] }.');
    const document = { issuer, jwks: structuredClone(jwks) as Record<string, unknown> };
    return fixedSource(issuer, 'a fixed key set', () => Promise.resolve(document), true);
  }
  if (record.jwksUri === undefined) {
    throw new ConfigurationError(`${field}.jwksUri`, `is required to verify tokens: Maskinporten publishes its keys at ${JWKS_URIS.test} (test) and ${JWKS_URIS.prod} (prod); or use { metadataUrl }.`);
  }
  const jwksUri = url(record.jwksUri, `${field}.jwksUri`, JWKS_URIS.test);
  return jwksUriSource(issuer, jwksUri, deps);
}
