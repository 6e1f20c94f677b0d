/**
 * RFC 8414 metadata discovery. Digdir asks clients to configure themselves from the metadata
 * document and to cache it for about a day (protocol.md sections 1.1 and 7).
 *
 * Caching rules:
 * - The first fetch is shared by every concurrent `resolve()`; a failure is not cached, so the next
 *   `resolve()` tries again.
 * - A document is served from memory until `ttl` has passed; the next `resolve()` after that
 *   fetches it again (one shared fetch) and waits for it.
 * - If that re-fetch fails, the previous document keeps being served, and no new fetch is tried
 *   for `min(ttl, 60 s)`, so an unreachable metadata endpoint costs one waiting caller a minute,
 *   not every caller. Maskinporten's issuer and token endpoint practically never change, so a
 *   day-old document is far better than no token.
 */
import { AbortedError, EndpointUnavailableError, MalformedResponseError, TimeoutError } from '../errors.js';
import type { Clock } from '../types.js';
import { createAbortScope, describeNetworkError, discardBody, isTransientStatus, parseJsonObject, readBodyText, raceAbort } from '../shared/index.js';
import { kindOfIssuer } from './presets.js';
import { problemWithEndpointUrl } from './urls.js';
import type { ResolvedEnvironment } from './types.js';

/** How long a failed re-fetch keeps us from trying again, at most. */
const RETRY_AFTER_FAILED_REFRESH_MS = 60_000;

/** Fetches and validates one metadata document. One attempt; the cache decides when to try again. */
export async function fetchMetadata(fetchImpl: typeof fetch, metadataUrl: string, timeoutMs: number): Promise<ResolvedEnvironment> {
  const where = `the Maskinporten metadata document at ${metadataUrl}`;
  const scope = createAbortScope([], { ms: timeoutMs, cause: 'attempt' });
  try {
    let response: Response;
    try {
      // Never follow a redirect: the document decides where grants go, so it must come from the
      // URL that was configured.
      response = await fetchImpl(metadataUrl, { method: 'GET', headers: { accept: 'application/json' }, redirect: 'manual', signal: scope.signal });
    } catch (error) {
      if (scope.cause !== undefined) throw new TimeoutError(`Timed out after ${timeoutMs} ms fetching ${where}.`, timeoutMs);
      throw new EndpointUnavailableError(`Could not fetch ${where}: ${describeNetworkError(error)}.`, { attempts: 1 });
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      discardBody(response);
      throw new MalformedResponseError(`${capitalise(where)} answered with a redirect (HTTP ${response.status}); redirects are never followed. Configure the final URL.`, response.status);
    }
    if (!response.ok) {
      discardBody(response);
      const transient = isTransientStatus(response.status);
      if (transient) throw new EndpointUnavailableError(`${capitalise(where)} is unavailable (HTTP ${response.status}).`, { status: response.status, attempts: 1 });
      throw new MalformedResponseError(`${capitalise(where)} answered HTTP ${response.status}: check the metadata URL.`, response.status);
    }
    let text: string;
    try {
      text = await readBodyText(response);
    } catch (error) {
      if (error instanceof MalformedResponseError) throw error;
      if (scope.cause !== undefined) throw new TimeoutError(`Timed out after ${timeoutMs} ms reading ${where}.`, timeoutMs);
      throw new EndpointUnavailableError(`The connection broke while reading ${where}: ${describeNetworkError(error)}.`, { attempts: 1 });
    }
    return parseMetadata(text, where, response.status);
  } finally {
    scope.dispose();
  }
}

function parseMetadata(text: string, where: string, status: number): ResolvedEnvironment {
  const document = parseJsonObject(text);
  if (document === undefined) throw new MalformedResponseError(`${capitalise(where)} is not a JSON object.`, status);
  const { issuer, token_endpoint: tokenEndpoint } = document;
  if (typeof issuer !== 'string' || issuer === '') throw new MalformedResponseError(`${capitalise(where)} has no "issuer" string.`, status);
  const issuerProblem = problemWithEndpointUrl(issuer);
  if (issuerProblem !== undefined) throw new MalformedResponseError(`The "issuer" in ${where} is unusable: ${issuerProblem}`, status);
  if (typeof tokenEndpoint !== 'string' || tokenEndpoint === '') {
    throw new MalformedResponseError(`${capitalise(where)} has no "token_endpoint" string.`, status);
  }
  const endpointProblem = problemWithEndpointUrl(tokenEndpoint);
  if (endpointProblem !== undefined) throw new MalformedResponseError(`The "token_endpoint" in ${where} is unusable: ${endpointProblem}`, status);
  // The issuer is kept verbatim: it becomes the grant's aud (protocol.md section 2.3).
  return Object.freeze({ issuer, tokenEndpoint, kind: kindOfIssuer(issuer) });
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The cached, shared, TTL-bound view of one metadata URL. */
export class MetadataCache {
  readonly #fetch: typeof fetch;
  readonly #clock: Clock;
  readonly #metadataUrl: string;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  #document: { value: ResolvedEnvironment; fetchedAt: number } | undefined;
  #inFlight: Promise<ResolvedEnvironment> | undefined;
  #retryAt = 0;

  constructor(options: { fetch: typeof fetch; clock: Clock; metadataUrl: string; ttlMs: number; timeoutMs: number }) {
    this.#fetch = options.fetch;
    this.#clock = options.clock;
    this.#metadataUrl = options.metadataUrl;
    this.#ttlMs = options.ttlMs;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The issuer of the last document fetched, if any. */
  get issuer(): string | undefined {
    return this.#document?.value.issuer;
  }

  resolve(signal?: AbortSignal): Promise<ResolvedEnvironment> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const now = this.#clock.now();
    const document = this.#document;
    if (document !== undefined && (now - document.fetchedAt < this.#ttlMs || now < this.#retryAt)) {
      return Promise.resolve(document.value);
    }
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = undefined;
    });
    // A caller's abort ends only that caller's wait; the shared fetch goes on for the others.
    return raceAbort(this.#inFlight, signal, () => new AbortedError());
  }

  async #refresh(): Promise<ResolvedEnvironment> {
    try {
      const value = await fetchMetadata(this.#fetch, this.#metadataUrl, this.#timeoutMs);
      this.#document = { value, fetchedAt: this.#clock.now() };
      this.#retryAt = 0;
      return value;
    } catch (error) {
      const previous = this.#document;
      if (previous === undefined) throw error;
      this.#retryAt = this.#clock.now() + Math.min(this.#ttlMs, RETRY_AFTER_FAILED_REFRESH_MS);
      return previous.value;
    }
  }
}
