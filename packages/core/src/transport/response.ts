/**
 * Reading the token endpoint's answer (docs/maskinporten-rules.md §3.1 and §3.4). The body is parsed
 * defensively and never copied into an error: a success body holds the token, and an error body
 * contributes only the OAuth fields, with anything token-like masked.
 */
import { MalformedResponseError, TokenEndpointError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import { discardBody, isTransientStatus, parseJsonObject, readBodyText } from '../shared/index.js';
import { parseDateHeader } from './retry.js';

/**
 * A parsed successful token response.
 *
 * @example
 * ```ts
 * const { accessToken, tokenType, expiresIn } = response; // 'eyJ...', 'Bearer', 120
 * ```
 */
export interface TokenEndpointResponse {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Seconds, as Maskinporten sent it (docs/maskinporten-rules.md §3.2: never assume a lifetime). */
  readonly expiresIn: number;
  /** The granted scopes, for information only (docs/maskinporten-rules.md §3.1). */
  readonly scope: string | undefined;
}

/** What one attempt produced. */
export type AttemptOutcome =
  | { readonly kind: 'success'; readonly response: TokenEndpointResponse }
  | { readonly kind: 'rejected'; readonly error: TokenEndpointError; readonly serverDateMs: number | undefined }
  | { readonly kind: 'transient'; readonly status: number; readonly retryAfter: string | null; readonly serverDateMs: number | undefined; readonly detail?: string | undefined }
  | { readonly kind: 'unavailable'; readonly status: number };

/** OAuth error fields are short; a longer one is cut so a hostile server cannot flood logs. */
const MAX_OAUTH_FIELD = 1000;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/**
 * The longest access token Portvakt accepts, in characters: from the token endpoint, from Altinn's
 * exchange, and in a request a verifier checks. Far above any JWT Maskinporten issues (a few
 * kilobytes), far below what breaks an HTTP header (servers keep them under 8-16 KB; docs/maskinporten-rules.md
 * §7).
 *
 * @example
 * ```ts
 * import { MAX_TOKEN_LENGTH } from '@portvakt/core';
 * if (token.length > MAX_TOKEN_LENGTH) throw new Error('not a Maskinporten token');
 * ```
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const MIN_EXPIRES_IN = 1;
const MAX_EXPIRES_IN = 86_400;

/** The token endpoint must answer itself: following a redirect would send the request elsewhere. */
export function refuseRedirect(response: Response): void {
  const { status } = response;
  if (response.type === 'opaqueredirect' || (status >= 300 && status <= 399)) {
    discardBody(response);
    throw new MalformedResponseError(
      `The token endpoint answered with a redirect (HTTP ${status || 'opaque redirect'}); Portvakt never follows redirects from the token endpoint. Configure the final token endpoint URL.`,
      status,
    );
  }
}

/** Classifies a response; throws MalformedResponseError for redirects and unreadable bodies. */
export async function readAttemptOutcome(response: Response): Promise<AttemptOutcome> {
  const { status } = response;
  refuseRedirect(response);
  if (status >= 200 && status <= 299) {
    return { kind: 'success', response: parseTokenResponse(await readBodyText(response), status) };
  }
  const serverDateMs = parseDateHeader(response.headers.get('date'));
  if (isTransientStatus(status)) {
    // The body is not needed: 429 and 5xx are retried whatever they say.
    discardBody(response);
    return { kind: 'transient', status, retryAfter: response.headers.get('retry-after'), serverDateMs };
  }
  const body = parseJsonObject(await readBodyText(response));
  const error = body?.error;
  if (typeof error === 'string' && error !== '') {
    return {
      kind: 'rejected',
      serverDateMs,
      error: new TokenEndpointError({
        status,
        error: oauthField(error),
        errorDescription: typeof body?.error_description === 'string' ? oauthField(body.error_description) : undefined,
        errorUri: typeof body?.error_uri === 'string' ? oauthField(body.error_uri) : undefined,
      }),
    };
  }
  if (status === 501 || status === 505) return { kind: 'unavailable', status };
  throw new MalformedResponseError(`The token endpoint answered HTTP ${status} without an OAuth error body (expected JSON with an "error" field).`, status);
}

/** An OAuth error field as it may go into an error: cut to a sane length, anything token-like masked. */
export function oauthField(value: string): string {
  return redactSecrets(value.length > MAX_OAUTH_FIELD ? `${value.slice(0, MAX_OAUTH_FIELD)}...` : value);
}

/** docs/maskinporten-rules.md §3.1: access_token, token_type, expires_in, and an optional scope. */
export function parseTokenResponse(text: string, status: number): TokenEndpointResponse {
  const body = parseJsonObject(text);
  if (body === undefined) throw new MalformedResponseError(`The token response (HTTP ${status}) is not a JSON object.`, status);
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresInRaw, scope } = body;
  // The token goes into an HTTP header as it is: visible ASCII only, so a hostile or broken server
  // cannot smuggle a CR/LF or a space-separated second credential into the caller's requests.
  if (typeof accessToken !== 'string' || accessToken.length === 0 || accessToken.length > MAX_TOKEN_LENGTH || !VISIBLE_ASCII.test(accessToken)) {
    throw new MalformedResponseError(`The token response (HTTP ${status}) has no valid "access_token" (a string of visible ASCII characters).`, status);
  }
  // docs/maskinporten-rules.md §3.1: token_type is Bearer. DPoP-bound tokens would need a proof on every
  // request, which Portvakt does not send, so any other type is refused rather than attached.
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw new MalformedResponseError(`The token response (HTTP ${status}) has no "token_type" of Bearer.`, status);
  }
  const expiresIn = typeof expiresInRaw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(expiresInRaw) ? Number(expiresInRaw) : expiresInRaw;
  // Sane bounds: below a second the token is useless, and beyond a day the figure is not one
  // Maskinporten gives (its lifetimes are minutes to hours); a huge value would pin a token forever.
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < MIN_EXPIRES_IN || expiresIn > MAX_EXPIRES_IN) {
    throw new MalformedResponseError(`The token response (HTTP ${status}) has no "expires_in" from ${MIN_EXPIRES_IN} to ${MAX_EXPIRES_IN} seconds.`, status);
  }
  if (scope !== undefined && scope !== null && typeof scope !== 'string') {
    throw new MalformedResponseError(`The token response (HTTP ${status}) has a "scope" that is not a string.`, status);
  }
  return Object.freeze({ accessToken, tokenType: 'Bearer', expiresIn, scope: typeof scope === 'string' ? scope : undefined });
}
