/**
 * RFC 8414 metadata discovery, for the client (`token_endpoint`) and the verifier (`jwks_uri`).
 * Digdir asks clients to configure themselves from the metadata document and to cache it for
 * about a day (docs/maskinporten-rules.md §1.1 and §7).
 *
 * Caching rules:
 * - One fetch at a time, shared by every concurrent `resolve()` (1 000 cold callers, one request).
 * - A document is served from memory until `ttl` has passed; the next `resolve()` after that
 *   fetches it again (one shared fetch) and waits for it.
 * - If that re-fetch fails, the previous document keeps being served, and no new fetch is tried
 *   for `min(ttl, 60 s)`: an unreachable metadata endpoint costs one waiting caller a minute, not
 *   every caller. Maskinporten's issuer and endpoints practically never change, so a day-old
 *   document is far better than none.
 * - While there is no document, a failure is not kept as a result, but it backs off: the next
 *   fetch starts 1 s after it, then 2, 4, 8, ... up to 60 s after each further failure, and a
 *   caller inside that window gets the last failure at once. So an endpoint that stays down makes
 *   at most 6 fetches in its first 60 s (at 0, 1, 3, 7, 15 and 31 s), then one a minute.
 */
import { AbortedError, MalformedResponseError } from '../errors.js';
import type { Clock } from '../types.js';
import { raceAbort } from '../shared/index.js';
import { fetchJsonDocument } from './documents.js';
import { kindOfIssuer } from './presets.js';
import type { EnvironmentKind } from './presets.js';
import { problemWithEndpointUrl } from './urls.js';

/** How long a failed re-fetch, with a document in hand, keeps us from trying again, at most. */
export const STALE_RETRY_MS = 60_000;
/** While there is no document: the wait after the first failure, doubled after each further one... */
export const FIRST_FAILURE_BACKOFF_MS = 1000;
/** ...up to this. */
export const MAX_FAILURE_BACKOFF_MS = 60_000;

/** The metadata members a cache can be asked for, by the name they get in the resolved value. */
const MEMBERS = { tokenEndpoint: 'token_endpoint', jwksUri: 'jwks_uri' } as const;

/** `tokenEndpoint` (the client's) or `jwksUri` (the verifier's). */
export type DiscoveredEndpointName = keyof typeof MEMBERS;

/**
 * What a metadata document says, for one reader: the issuer (verbatim), its kind, and the one
 * endpoint the reader needs. Other members are not read, so a document is refused only for what
 * its reader would use.
 * @example
 * ```ts
 * const { issuer, jwksUri }: DiscoveredEndpoints<'jwksUri'> = await cache.resolve();
 * ```
 */
export type DiscoveredEndpoints<N extends DiscoveredEndpointName> = { readonly issuer: string; readonly kind: EnvironmentKind } & { readonly [K in N]: string };

const WHAT = 'the Maskinporten metadata document';

/** Checks the issuer and the one endpoint a reader needs; the rest of the document is not read. */
function readMetadata<N extends DiscoveredEndpointName>(document: Record<string, unknown>, status: number, metadataUrl: string, endpoint: N): DiscoveredEndpoints<N> {
  const where = `${WHAT} at ${metadataUrl}`;
  const read = (member: string): string => {
    const value = document[member];
    if (typeof value !== 'string' || value === '') throw new MalformedResponseError(`The Maskinporten metadata document at ${metadataUrl} has no "${member}" string.`, status);
    const problem = problemWithEndpointUrl(value);
    if (problem !== undefined) throw new MalformedResponseError(`The "${member}" in ${where} is unusable: ${problem}`, status);
    return value;
  };
  // The issuer is kept verbatim: it becomes the grant's aud and is compared with a token's iss.
  const issuer = read('issuer');
  const value = read(MEMBERS[endpoint]);
  return Object.freeze({ issuer, kind: kindOfIssuer(issuer), [endpoint]: value }) as DiscoveredEndpoints<N>;
}

/**
 * The options of a {@link MetadataCache}.
 * @example
 * ```ts
 * const options: MetadataCacheOptions<'jwksUri'> = { fetch, clock: Date, metadataUrl, ttlMs: 86_400_000, timeoutMs: 5000, endpoint: 'jwksUri' };
 * ```
 */
export interface MetadataCacheOptions<N extends DiscoveredEndpointName> {
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly metadataUrl: string;
  readonly ttlMs: number;
  /** The time one fetch may take, body included. */
  readonly timeoutMs: number;
  /** The endpoint the reader needs from the document. */
  readonly endpoint: N;
}

/**
 * The cached, shared, TTL-bound view of one metadata URL, by the rules at the top of this file.
 *
 * @example
 * ```ts
 * import { MetadataCache } from '@portvakt/core/internal';
 * const metadata = new MetadataCache({ fetch, clock: Date, metadataUrl, ttlMs: 86_400_000, timeoutMs: 5000, endpoint: 'jwksUri' });
 * const { issuer, jwksUri } = await metadata.resolve();
 * ```
 */
export class MetadataCache<N extends DiscoveredEndpointName> {
  readonly #options: MetadataCacheOptions<N>;
  #document: { value: DiscoveredEndpoints<N>; fetchedAt: number } | undefined;
  #inFlight: Promise<DiscoveredEndpoints<N>> | undefined;
  /** No fetch starts before this (after a failure). */
  #retryAt = 0;
  /** Failures in a row while there is no document; they set the back-off. */
  #failures = 0;
  /** The last failure while there is no document: what a caller inside the back-off gets. */
  #lastFailure: unknown;
  #fetches = 0;

  constructor(options: MetadataCacheOptions<N>) {
    this.#options = { ...options };
  }

  get metadataUrl(): string {
    return this.#options.metadataUrl;
  }

  /** The issuer of the last document fetched, if any. */
  get issuer(): string | undefined {
    return this.#document?.value.issuer;
  }

  /** How many fetches were started. */
  get fetches(): number {
    return this.#fetches;
  }

  /**
   * The document's issuer and endpoint: from memory while it is fresh (or while a failed re-fetch
   * backs off), else from one shared fetch. A caller's abort ends only that caller's wait.
   */
  resolve(signal?: AbortSignal): Promise<DiscoveredEndpoints<N>> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const now = this.#options.clock.now();
    const document = this.#document;
    if (document !== undefined && (now - document.fetchedAt < this.#options.ttlMs || now < this.#retryAt)) return Promise.resolve(document.value);
    if (this.#inFlight === undefined) {
      if (document === undefined && now < this.#retryAt) return Promise.reject(this.#lastFailure);
      this.#inFlight = this.#refresh().finally(() => {
        this.#inFlight = undefined;
      });
    }
    // The shared fetch goes on for the others when this caller stops waiting.
    return raceAbort(this.#inFlight, signal, () => new AbortedError());
  }

  async #refresh(): Promise<DiscoveredEndpoints<N>> {
    const { fetch, clock, metadataUrl, timeoutMs, ttlMs, endpoint } = this.#options;
    this.#fetches += 1;
    try {
      const request = { url: metadataUrl, what: WHAT, accept: 'application/json', timeoutMs };
      const value = await fetchJsonDocument(fetch, request, (body, status) => readMetadata(body, status, metadataUrl, endpoint));
      this.#document = { value, fetchedAt: clock.now() };
      this.#retryAt = 0;
      this.#failures = 0;
      this.#lastFailure = undefined;
      return value;
    } catch (error) {
      const previous = this.#document;
      if (previous !== undefined) {
        this.#retryAt = clock.now() + Math.min(ttlMs, STALE_RETRY_MS);
        return previous.value;
      }
      this.#failures += 1;
      this.#lastFailure = error;
      this.#retryAt = clock.now() + Math.min(MAX_FAILURE_BACKOFF_MS, FIRST_FAILURE_BACKOFF_MS * 2 ** (this.#failures - 1));
      throw error;
    }
  }
}
