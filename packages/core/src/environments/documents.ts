/**
 * The one way Portvakt GETs a configuration document: the RFC 8414 metadata and the key set (JWKS).
 * One attempt, bounded in time and size, no redirects; the caches decide when to try again.
 */
import { EndpointUnavailableError, MalformedResponseError, TimeoutError } from '../errors.js';
import { createAbortScope, describeNetworkError, discardBody, isTransientStatus, parseJsonObject, readBodyText } from '../shared/index.js';

/** Metadata documents and key sets are a few kilobytes; anything above this is not one of them. */
export const MAX_CONFIGURATION_DOCUMENT_BYTES = 128 * 1024;

/**
 * What to fetch: `what` names the document in messages (`the Maskinporten metadata document`),
 * `accept` is the Accept header.
 * @example
 * ```ts
 * const request: DocumentRequest = { url: 'https://test.maskinporten.no/jwk', what: "Maskinporten's key set", accept: 'application/json', timeoutMs: 5000 };
 * ```
 */
export interface DocumentRequest {
  readonly url: string;
  readonly what: string;
  readonly accept: string;
  readonly timeoutMs: number;
}

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * GETs a document and returns its body as a JSON object, or what `read` makes of it (given the
 * HTTP status, for its errors). Throws `TimeoutError`, `EndpointUnavailableError` (network, 408,
 * 429, 5xx) or `MalformedResponseError` (a redirect, another status, a body over 128 KiB or not a
 * JSON object), each naming the document and its URL.
 *
 * @example
 * ```ts
 * import { fetchJsonDocument } from '@portvakt/core/internal';
 * const jwks = await fetchJsonDocument(fetch, { url: 'https://test.maskinporten.no/jwk', what: "Maskinporten's key set", accept: 'application/json', timeoutMs: 5000 });
 * ```
 */
export async function fetchJsonDocument(fetchImpl: typeof fetch, request: DocumentRequest): Promise<Record<string, unknown>>;
export async function fetchJsonDocument<T>(fetchImpl: typeof fetch, request: DocumentRequest, read: (document: Record<string, unknown>, status: number) => T): Promise<T>;
export async function fetchJsonDocument(
  fetchImpl: typeof fetch,
  request: DocumentRequest,
  read: (document: Record<string, unknown>, status: number) => unknown = (document) => document,
): Promise<unknown> {
  const { url, timeoutMs } = request;
  const where = `${request.what} at ${url}`;
  const subject = capitalise(where);
  const scope = createAbortScope([], { ms: timeoutMs, cause: 'attempt' });
  try {
    let response: Response;
    try {
      // Never follow a redirect: these documents decide where grants go and which keys are
      // trusted, so they come from the URL that was configured (or that its metadata names).
      response = await fetchImpl(url, { method: 'GET', headers: { accept: request.accept }, redirect: 'manual', signal: scope.signal });
    } catch (error) {
      if (scope.cause !== undefined) throw new TimeoutError(`Timed out after ${timeoutMs} ms fetching ${where}.`, timeoutMs);
      throw new EndpointUnavailableError(`Could not fetch ${where}: ${describeNetworkError(error)}.`, { attempts: 1 });
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      discardBody(response);
      throw new MalformedResponseError(`${subject} answered with a redirect (HTTP ${response.status}); redirects are never followed. Configure the final URL.`, response.status);
    }
    if (!response.ok) {
      discardBody(response);
      if (isTransientStatus(response.status)) throw new EndpointUnavailableError(`${subject} is unavailable (HTTP ${response.status}).`, { status: response.status, attempts: 1 });
      throw new MalformedResponseError(`${subject} answered HTTP ${response.status}: check the URL.`, response.status);
    }
    let text: string;
    try {
      text = await readBodyText(response, MAX_CONFIGURATION_DOCUMENT_BYTES);
    } catch (error) {
      if (error instanceof MalformedResponseError) throw error;
      if (scope.cause !== undefined) throw new TimeoutError(`Timed out after ${timeoutMs} ms reading ${where}.`, timeoutMs);
      throw new EndpointUnavailableError(`The connection broke while reading ${where}: ${describeNetworkError(error)}.`, { attempts: 1 });
    }
    const document = parseJsonObject(text);
    if (document === undefined) throw new MalformedResponseError(`${subject} is not a JSON object.`, response.status);
    return read(document, response.status);
  } finally {
    scope.dispose();
  }
}
