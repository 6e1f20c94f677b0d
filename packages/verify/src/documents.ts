/**
 * Fetching the two documents a verifier reads: the RFC 8414 metadata (for `jwks_uri` and the
 * issuer) and the key set. One attempt each, bounded in time and size, no redirects; the key-set
 * cache decides when to try again.
 */
import { EndpointUnavailableError, MalformedResponseError, TimeoutError } from '@portvakt/core';
import { createAbortScope, describeNetworkError, discardBody, isTransientStatus, parseJsonObject, readBodyText } from '@portvakt/core/internal';

/** Key sets and metadata are a few kilobytes; anything above this is not one of them. */
export const MAX_KEY_DOCUMENT_BYTES = 128 * 1024;

/**
 * GETs `url` and returns its body as a JSON object. Throws `TimeoutError`,
 * `EndpointUnavailableError` (network, 408, 429, 5xx) or `MalformedResponseError` (a redirect,
 * another status, a body that is too large or not a JSON object).
 *
 * @example
 * ```ts
 * import { fetchJsonDocument } from './documents.js'; // internal
 * const jwks = await fetchJsonDocument(fetch, 'https://test.maskinporten.no/jwk', 5000, 'the key set');
 * ```
 */
export async function fetchJsonDocument(fetchImpl: typeof fetch, url: string, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  const where = `${what} at ${url}`;
  const subject = where.charAt(0).toUpperCase() + where.slice(1);
  const scope = createAbortScope([], { ms: timeoutMs, cause: 'attempt' });
  try {
    let response: Response;
    try {
      // Never follow a redirect: the keys decide which tokens are trusted, so they come from the
      // URL that was configured (or that the configured metadata names), and nowhere else.
      response = await fetchImpl(url, { method: 'GET', headers: { accept: 'application/json, application/jwk-set+json' }, redirect: 'manual', signal: scope.signal });
    } catch (error) {
      if (scope.cause !== undefined) throw new TimeoutError(`Timed out after ${timeoutMs} ms fetching ${where}.`, timeoutMs);
      throw new EndpointUnavailableError(`Could not fetch ${where}: ${describeNetworkError(error)}.`, { attempts: 1 });
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      discardBody(response);
      throw new MalformedResponseError(`${subject} answered with a redirect (HTTP ${response.status}); redirects are never followed.`, response.status);
    }
    if (!response.ok) {
      discardBody(response);
      if (isTransientStatus(response.status)) throw new EndpointUnavailableError(`${subject} is unavailable (HTTP ${response.status}).`, { status: response.status, attempts: 1 });
      throw new MalformedResponseError(`${subject} answered HTTP ${response.status}.`, response.status);
    }
    let text: string;
    try {
      text = await readBodyText(response, MAX_KEY_DOCUMENT_BYTES);
    } catch (error) {
      if (error instanceof MalformedResponseError) throw error;
      if (scope.cause !== undefined) throw new TimeoutError(`Timed out after ${timeoutMs} ms reading ${where}.`, timeoutMs);
      throw new EndpointUnavailableError(`The connection broke while reading ${where}: ${describeNetworkError(error)}.`, { attempts: 1 });
    }
    const document = parseJsonObject(text);
    if (document === undefined) throw new MalformedResponseError(`${subject} is not a JSON object.`, response.status);
    return document;
  } finally {
    scope.dispose();
  }
}
