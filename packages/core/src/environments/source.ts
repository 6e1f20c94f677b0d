/**
 * Turns the `environment` option into an {@link EnvironmentSource}, validating it synchronously so a
 * mistake surfaces when the client is created, not on the first token request.
 */
import { ConfigurationError } from '../errors.js';
import { describeValue } from '../redact.js';
import type { Clock } from '../types.js';
import { MetadataCache } from './discovery.js';
import { ENVIRONMENTS, kindOfIssuer } from './presets.js';
import type { EnvironmentSource, ResolvedEnvironment } from './types.js';
import { problemWithEndpointUrl } from './urls.js';

/** Digdir: cache the metadata document for about 24 hours (protocol.md section 7). */
const DEFAULT_METADATA_TTL_SECONDS = 86_400;
const MAX_METADATA_TTL_SECONDS = 366 * 86_400;
const DEFAULT_METADATA_TIMEOUT_MS = 10_000;
const FORMS = `'test', 'prod', { issuer, tokenEndpoint } or { metadataUrl }`;
const MASKINPORTEN_HOSTS = new Set(['maskinporten.no', 'test.maskinporten.no']);

/**
 * What {@link createEnvironmentSource} needs besides the option.
 * @example
 * ```ts
 * const deps: EnvironmentDependencies = { fetch, clock: Date, attemptTimeout: 5000 };
 * ```
 */
export interface EnvironmentDependencies {
  /** Used for metadata discovery only. */
  fetch: typeof fetch;
  /** Decides when a cached metadata document is stale. */
  clock: Clock;
  /** The option's name in error messages; default `environment`. */
  field?: string | undefined;
  /** Timeout for fetching the metadata document, in ms; default 10 000. */
  attemptTimeout?: number | undefined;
}

/**
 * Validates the `environment` option and returns its source. Throws a `ConfigurationError` (field
 * `environment`, `environment.issuer`, ...) for anything invalid, before any network call. Every
 * URL must be https, except on loopback addresses (127.0.0.0/8, `[::1]`, `localhost`).
 *
 * @example
 * ```ts
 * import { createEnvironmentSource } from '../environments/index.js'; // internal
 * const source = createEnvironmentSource(
 *   { metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server' },
 *   { fetch, clock: Date },
 * );
 * const { issuer, tokenEndpoint } = await source.resolve();
 * ```
 */
export function createEnvironmentSource(option: unknown, deps: EnvironmentDependencies): EnvironmentSource {
  const field = deps.field ?? 'environment';
  if (option === 'test' || option === 'prod') return fixedSource(ENVIRONMENTS[option].issuer, ENVIRONMENTS[option].tokenEndpoint);
  if (typeof option === 'string') throw new ConfigurationError(field, stringHint(option));
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new ConfigurationError(field, `is required and must be ${FORMS}.`);
  }
  const record = option as Record<string, unknown>;
  const unknownKeys = Object.keys(record).filter((key) => !['issuer', 'tokenEndpoint', 'metadataUrl', 'metadataTtl'].includes(key));
  if (unknownKeys.length > 0) {
    throw new ConfigurationError(`${field}.${unknownKeys[0]}`, `is not an environment option: use ${FORMS}.`);
  }
  if (record.metadataUrl !== undefined) {
    if (record.issuer !== undefined || record.tokenEndpoint !== undefined) {
      throw new ConfigurationError(
        field,
        'give either metadataUrl (discovery) or issuer and tokenEndpoint (explicit), not both: the metadata document decides the issuer and token endpoint.',
      );
    }
    return discoveredSource(record.metadataUrl, record.metadataTtl, deps, field);
  }
  if (record.metadataTtl !== undefined) {
    throw new ConfigurationError(`${field}.metadataTtl`, 'applies only with metadataUrl: remove it, or use { metadataUrl, metadataTtl }.');
  }
  if (record.issuer === undefined && record.tokenEndpoint === undefined) {
    throw new ConfigurationError(field, `is empty: use ${FORMS}.`);
  }
  const issuer = validateIssuer(record.issuer, `${field}.issuer`);
  const tokenEndpoint = validateUrl(record.tokenEndpoint, `${field}.tokenEndpoint`, 'the token endpoint, for example "https://test.maskinporten.no/token"');
  return fixedSource(issuer, tokenEndpoint);
}

function fixedSource(issuer: string, tokenEndpoint: string): EnvironmentSource {
  const resolved: ResolvedEnvironment = Object.freeze({ issuer, tokenEndpoint, kind: kindOfIssuer(issuer) });
  const promise = Promise.resolve(resolved);
  return Object.freeze({
    kind: resolved.kind,
    issuer,
    metadataUrl: undefined,
    resolve: () => promise,
  });
}

function discoveredSource(metadataUrl: unknown, metadataTtl: unknown, deps: EnvironmentDependencies, field: string): EnvironmentSource {
  const url = validateUrl(metadataUrl, `${field}.metadataUrl`, 'the metadata URL, for example "https://test.maskinporten.no/.well-known/oauth-authorization-server"');
  let ttlSeconds = DEFAULT_METADATA_TTL_SECONDS;
  if (metadataTtl !== undefined) {
    if (typeof metadataTtl !== 'number' || !Number.isFinite(metadataTtl) || metadataTtl <= 0 || metadataTtl > MAX_METADATA_TTL_SECONDS) {
      throw new ConfigurationError(`${field}.metadataTtl`, `must be a number of seconds above 0 and at most ${MAX_METADATA_TTL_SECONDS}; the default is ${DEFAULT_METADATA_TTL_SECONDS} (one day).`);
    }
    ttlSeconds = metadataTtl;
  }
  if (typeof deps.fetch !== 'function') throw new ConfigurationError('transport.fetch', 'must be a fetch function.');
  const cache = new MetadataCache({
    fetch: deps.fetch,
    clock: deps.clock,
    metadataUrl: url,
    ttlMs: ttlSeconds * 1000,
    timeoutMs: deps.attemptTimeout ?? DEFAULT_METADATA_TIMEOUT_MS,
  });
  return Object.freeze({
    kind: 'discovered' as const,
    get issuer() {
      return cache.issuer;
    },
    metadataUrl: url,
    resolve: (signal?: AbortSignal) => cache.resolve(signal),
  });
}

function validateUrl(value: unknown, field: string, what: string): string {
  if (value === undefined) throw new ConfigurationError(field, `is required: give ${what}.`);
  const problem = problemWithEndpointUrl(value);
  if (problem !== undefined) throw new ConfigurationError(field, problem);
  return value as string;
}

/** The issuer is kept verbatim (it is the grant's aud), but obvious Maskinporten typos are refused. */
function validateIssuer(value: unknown, field: string): string {
  const issuer = validateUrl(value, field, 'the issuer, for example "https://test.maskinporten.no/"');
  const url = new URL(issuer);
  if (url.protocol === 'https:' && MASKINPORTEN_HOSTS.has(url.hostname) && url.port === '') {
    const expected = `https://${url.hostname}/`;
    if (issuer !== expected) {
      // protocol.md section 2.3: aud must equal the issuer exactly, trailing slash included; the
      // token endpoint is no longer accepted as aud. Either mistake gives MP-110.
      throw new ConfigurationError(field, `Maskinporten's issuer is exactly "${expected}" (with the trailing slash, no path); ${describeValue(issuer)} would be rejected with MP-110.`);
    }
  }
  return issuer;
}

function stringHint(value: string): string {
  const lower = value.trim().toLowerCase();
  if (lower === 'test' || lower === 'prod') return `must be '${lower}' in lower case.`;
  if (lower === 'production' || lower === 'prd' || lower === 'produksjon') return `use 'prod' for production.`;
  if (lower === 'ver2' || lower === 'ver1' || lower === 'yt2') return `the ${lower} environment is retired (protocol.md section 1.2): use 'test'.`;
  if (URL.canParse(value)) return `a URL needs a form: { metadataUrl: ${describeValue(value)} } for a metadata document, or { issuer, tokenEndpoint }.`;
  return `${describeValue(value)} is not an environment: use ${FORMS}.`;
}
