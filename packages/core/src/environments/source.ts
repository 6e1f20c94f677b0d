/**
 * Turns the client's `environment` option into an {@link EnvironmentSource}. The option is read by
 * the rules the verifier shares (option.ts), synchronously, so a mistake surfaces when the client
 * is created, not on the first token request; discovery goes through the shared metadata cache.
 */
import { ConfigurationError } from '../errors.js';
import type { Clock } from '../types.js';
import { MetadataCache } from './discovery.js';
import { planClientEnvironment } from './option.js';
import type { ClientEnvironmentPlan } from './option.js';
import type { EnvironmentSource, ResolvedEnvironment } from './types.js';

const DEFAULT_METADATA_TIMEOUT_MS = 10_000;

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
  /** Decides when a cached metadata document is stale, and when a failed fetch may be tried again. */
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
  return environmentSourceOf(planClientEnvironment(option, deps.field ?? 'environment'), deps);
}

/**
 * The source of an environment already read by `planClientEnvironment`: what a client uses when it
 * has read its options first (client/configuration.ts).
 *
 * @example
 * ```ts
 * const source = environmentSourceOf(planClientEnvironment('test'), { fetch, clock: Date });
 * ```
 */
export function environmentSourceOf(plan: ClientEnvironmentPlan, deps: EnvironmentDependencies): EnvironmentSource {
  if (plan.form === 'fixed') {
    const resolved: ResolvedEnvironment = Object.freeze({ issuer: plan.issuer, tokenEndpoint: plan.tokenEndpoint, kind: plan.kind });
    const promise = Promise.resolve(resolved);
    return Object.freeze({ kind: plan.kind, issuer: plan.issuer, metadataUrl: undefined, resolve: () => promise });
  }
  if (typeof deps.fetch !== 'function') throw new ConfigurationError('transport.fetch', 'must be a fetch function.');
  const cache = new MetadataCache({
    fetch: deps.fetch,
    clock: deps.clock,
    metadataUrl: plan.metadataUrl,
    ttlMs: plan.ttlMs,
    timeoutMs: deps.attemptTimeout ?? DEFAULT_METADATA_TIMEOUT_MS,
    endpoint: 'tokenEndpoint',
  });
  return Object.freeze({
    kind: 'discovered' as const,
    get issuer() {
      return cache.issuer;
    },
    metadataUrl: plan.metadataUrl,
    resolve: (signal?: AbortSignal) => cache.resolve(signal),
  });
}
