/**
 * Typed errors. Every error Portvakt throws is a {@link PortvaktError} with a stable string
 * `code`, so callers can `switch (err.code)`. Caller misuse of a function (a wrong argument type)
 * is a plain `TypeError`; failures of the operation are coded errors.
 *
 * No error ever carries the assertion, an access token or key material: messages are built from
 * our own words plus Maskinporten's `error`/`error_description`, and anything in those that looks
 * like a JWT is masked (see {@link redactSecrets}).
 */

import type { VerificationError } from './verify/errors.js';

/**
 * Codes of every {@link PortvaktError} subclass.
 * @example
 * ```ts
 * const code: PortvaktErrorCode = 'ERR_PORTVAKT_TOKEN_REJECTED';
 * ```
 */
export type PortvaktErrorCode =
  | 'ERR_PORTVAKT_CONFIGURATION'
  | 'ERR_PORTVAKT_KEY'
  | 'ERR_PORTVAKT_CERTIFICATE'
  | 'ERR_PORTVAKT_TOKEN_REJECTED'
  | 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE'
  | 'ERR_PORTVAKT_TIMEOUT'
  | 'ERR_PORTVAKT_ABORTED'
  | 'ERR_PORTVAKT_MALFORMED_RESPONSE'
  | 'ERR_PORTVAKT_CLIENT_CLOSED'
  | 'ERR_PORTVAKT_ALTINN_EXCHANGE'
  // Verifying tokens (an API provider's side): the classes are in verify/errors.ts.
  | 'ERR_PORTVAKT_TOKEN_MISSING'
  | 'ERR_PORTVAKT_INVALID_TOKEN'
  | 'ERR_PORTVAKT_INSUFFICIENT_SCOPE'
  | 'ERR_PORTVAKT_ORGANIZATION_NOT_ALLOWED'
  | 'ERR_PORTVAKT_KEY_SET_UNAVAILABLE';

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
// A PEM block with its END line; then one cut short (no END line). Only a header followed by key
// material counts as a secret: a header quoted on its own in our own words ("-----BEGIN PRIVATE
// KEY-----" in a hint) is left alone, and masking stops where the base64 stops, so the rest of a
// message survives.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const PEM_CUT = /-----BEGIN [A-Z0-9 ]+-----(?=(?:\s|\\[rn])*[A-Za-z0-9+/:-]{8})(?:[A-Za-z0-9+/=:,.-]|\s|\\[rn])*/g;
const SAFE_VALUE = /^[A-Za-z0-9 ._:/@+-]{0,40}$/;

/**
 * Masks anything that looks like a compact JWS/JWT or a PEM block in a string taken from outside
 * (an error description, a response body excerpt), so it can go into an error message safely.
 *
 * @example
 * ```ts
 * import { redactSecrets } from './errors.js'; // internal
 * redactSecrets('bad token eyJhbGciOiJSUzI1NiJ9.e30.sig'); // 'bad token [redacted]'
 * ```
 */
export function redactSecrets(text: string): string {
  return text.replace(PEM_BLOCK, '[redacted]').replace(PEM_CUT, '[redacted]').replace(JWT_LIKE, '[redacted]');
}

/**
 * A value as an error message may show it: short plain strings and numbers as they are, anything
 * else only by its kind and size. A secret pasted into the wrong option (a JWK in `environment`, a
 * key in `algorithm`) is then never echoed back. Internal; not exported from the package entry.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return SAFE_VALUE.test(value) && !/^eyJ/.test(value) ? JSON.stringify(value) : `a string of ${value.length} characters (not shown)`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `a bigint`;
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

/**
 * Base class of every error Portvakt throws.
 *
 * @example
 * ```ts
 * import { PortvaktError } from '@portvakt/core';
 * try {
 *   await client.getToken();
 * } catch (err) {
 *   if (err instanceof PortvaktError) console.error(err.code, err.message);
 * }
 * ```
 */
export class PortvaktError<C extends PortvaktErrorCode = PortvaktErrorCode> extends Error {
  /** Stable machine-readable code, e.g. `ERR_PORTVAKT_TOKEN_REJECTED`. */
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    // The class names of this error, so instanceof holds across the package's ESM and CommonJS
    // copies (an app can load both): see Symbol.hasInstance below.
    Object.defineProperty(this, BRAND, { value: classNamesOf(new.target), enumerable: false });
  }

  /**
   * `instanceof` that also recognises errors made by the other build of this package (ESM or
   * CommonJS), by class name, since a dual package can be loaded twice in one process.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const names = (value as { [BRAND]?: unknown } | null | undefined)?.[BRAND];
    return Array.isArray(names) && names.includes(this.name);
  }

  /** A JSON form with the code and message only: never the cause's internals. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const [k, v] of Object.entries(this)) {
      if (k === 'cause' || k === 'code') continue;
      out[k] = v;
    }
    return out;
  }
}

const BRAND = Symbol.for('portvakt.error.classes');

function classNamesOf(target: abstract new (...args: never[]) => unknown): readonly string[] {
  const names: string[] = [];
  for (let c: unknown = target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) names.push((c as { name: string }).name);
  return Object.freeze(names);
}

/**
 * An option given to Portvakt is invalid. Thrown at construction, before any network call.
 * `field` names the option (dotted path), and the message says how to fix it.
 *
 * @example
 * ```ts
 * import { ConfigurationError, createMaskinportenClient } from '@portvakt/core';
 * try {
 *   createMaskinportenClient({ clientId: '', environment: 'test', key: { jwk } });
 * } catch (err) {
 *   if (err instanceof ConfigurationError) console.error(err.field); // 'clientId'
 * }
 * ```
 */
export class ConfigurationError extends PortvaktError<'ERR_PORTVAKT_CONFIGURATION'> {
  /** The option at fault, as a dotted path (`transport.attemptTimeout`). */
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_PORTVAKT_CONFIGURATION', `Invalid option "${field}": ${message}`, options);
    this.field = field;
  }
}

/**
 * A signing key could not be loaded or used: wrong format, wrong passphrase, not RSA, too short.
 *
 * @example
 * ```ts
 * import { KeyError } from '@portvakt/core';
 * if (err instanceof KeyError) console.error('fix the key:', err.message);
 * ```
 */
export class KeyError extends PortvaktError<'ERR_PORTVAKT_KEY'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PORTVAKT_KEY', message, options);
  }
}

/**
 * Why a certificate was refused.
 * @example
 * ```ts
 * if (err instanceof CertificateError && err.problem === 'expired') renewCertificate();
 * ```
 */
export type CertificateProblem =
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_environment'
  | 'no_organization_number'
  | 'key_mismatch'
  | 'invalid';

/**
 * An enterprise certificate (virksomhetssertifikat) was refused: expired, not yet valid, from the
 * wrong environment's CA, or without an organisation number.
 *
 * @example
 * ```ts
 * import { CertificateError } from '@portvakt/core';
 * if (err instanceof CertificateError && err.problem === 'wrong_environment') {
 *   console.error('use a test certificate against test.maskinporten.no');
 * }
 * ```
 */
export class CertificateError extends PortvaktError<'ERR_PORTVAKT_CERTIFICATE'> {
  readonly problem: CertificateProblem;
  constructor(problem: CertificateProblem, message: string, options?: { cause?: unknown }) {
    super('ERR_PORTVAKT_CERTIFICATE', message, options);
    this.problem = problem;
  }
}

/**
 * Remediation hints for the MP codes Maskinporten documents (protocol.md section 3.4).
 * @example
 * ```ts
 * console.log(MP_CODE_HINTS['MP-110']);
 * ```
 */
export const MP_CODE_HINTS: Readonly<Record<string, string>> = Object.freeze({
  'MP-011': 'The grant is malformed (invalid parameter value). Check that the assertion is a single compact JWS with no stray whitespace.',
  'MP-012': 'The grant (jti) was used before. Portvakt signs a fresh grant per attempt; check that no proxy replays requests.',
  'MP-100': 'Unknown client: check clientId, and that the client exists in the same environment (test/prod) as the issuer you target.',
  'MP-110': 'Wrong audience: aud must equal the issuer exactly, trailing slash included (https://test.maskinporten.no/ or https://maskinporten.no/).',
  'MP-120': 'The certificate is not valid for this environment: use a test certificate against test and a production certificate against production.',
  'MP-121': 'The registered key has expired (keys live one year from upload). Upload it again in Digdir self-service, or rotate to a new key.',
  'MP-122': "The certificate's organisation number does not match the organisation that owns the client.",
  'MP-123': 'The x5c header is invalid: it must be an array of base64 DER certificates.',
  'MP-124': 'Signature or certificate validation failed: check that the kid matches the key you sign with, and that the certificate is valid and from the right environment.',
  'MP-130': 'The grant was rejected on time: check the machine clock (NTP) and that exp - iat is at most 120 seconds.',
  'MP-200': 'The scope is not registered on the client: add it in Digdir self-service, or ask the API owner for access.',
  'MP-201': 'The scope is not allowed for this integration type.',
  'MP-250': 'Your organisation (the consumer) has not been granted this scope by the API owner.',
  'MP-251': 'The customer has not delegated this scope to you (the supplier) in Altinn.',
  'MP-301': 'Unknown authorization_details type: Maskinporten supports urn:altinn:systemuser and urn:altinn:consent.',
  'MP-302': 'Unknown field in authorization_details.',
  'MP-303': 'Invalid value in authorization_details: check the system user organisation number and externalRef, and that the system user exists in Altinn.',
});

/**
 * Maskinporten answered the token request with an OAuth error (`invalid_grant`, `invalid_scope`,
 * ...). Never retried. `mpCode` is the `MP-nnn` code from the description when there is one, and
 * `hint` says what to do about it.
 *
 * @example
 * ```ts
 * import { TokenEndpointError } from '@portvakt/core';
 * if (err instanceof TokenEndpointError) console.error(err.status, err.error, err.mpCode, err.hint);
 * ```
 */
export class TokenEndpointError extends PortvaktError<'ERR_PORTVAKT_TOKEN_REJECTED'> {
  readonly status: number;
  readonly error: string;
  readonly errorDescription: string | undefined;
  readonly errorUri: string | undefined;
  readonly mpCode: string | undefined;
  readonly hint: string | undefined;

  constructor(details: { status: number; error: string; errorDescription?: string | undefined; errorUri?: string | undefined }) {
    const description = details.errorDescription === undefined ? undefined : redactSecrets(details.errorDescription);
    const mpCode = description?.match(/MP-\d{3}/)?.[0];
    const hint = mpCode === undefined ? undefined : MP_CODE_HINTS[mpCode];
    const parts = [`Maskinporten rejected the token request (HTTP ${details.status}, ${details.error})`];
    if (description) parts.push(`: ${description}`);
    if (hint) parts.push(`. Hint: ${hint}`);
    super('ERR_PORTVAKT_TOKEN_REJECTED', parts.join(''));
    this.status = details.status;
    this.error = details.error;
    this.errorDescription = description;
    this.errorUri = details.errorUri;
    this.mpCode = mpCode;
    this.hint = hint;
  }
}

/**
 * Maskinporten (or its metadata endpoint) could not be reached or kept answering with a transient
 * failure (network error, 408, 429, 5xx) after every allowed attempt.
 *
 * @example
 * ```ts
 * import { EndpointUnavailableError } from '@portvakt/core';
 * if (err instanceof EndpointUnavailableError) console.error(`gave up after ${err.attempts} attempts`);
 * ```
 */
export class EndpointUnavailableError extends PortvaktError<'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE'> {
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(message: string, details: { status?: number | undefined; attempts: number; cause?: unknown }) {
    super('ERR_PORTVAKT_ENDPOINT_UNAVAILABLE', message, { cause: details.cause });
    this.status = details.status;
    this.attempts = details.attempts;
  }
}

/**
 * A per-attempt timeout or the overall deadline ran out.
 *
 * @example
 * ```ts
 * import { TimeoutError } from '@portvakt/core';
 * if (err instanceof TimeoutError) console.error(`timed out after ${err.timeoutMs} ms`);
 * ```
 */
export class TimeoutError extends PortvaktError<'ERR_PORTVAKT_TIMEOUT'> {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('ERR_PORTVAKT_TIMEOUT', message, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The caller's `AbortSignal` fired. Only that caller's wait ends; a shared fetch goes on for others.
 *
 * @example
 * ```ts
 * import { AbortedError } from '@portvakt/core';
 * const token = await client.getToken({ signal: AbortSignal.timeout(2000) }).catch((err) => {
 *   if (err instanceof AbortedError) return undefined;
 *   throw err;
 * });
 * ```
 */
export class AbortedError extends PortvaktError<'ERR_PORTVAKT_ABORTED'> {
  constructor(message = 'The operation was aborted by the caller', options?: { cause?: unknown }) {
    super('ERR_PORTVAKT_ABORTED', message, options);
  }
}

/**
 * Maskinporten answered with something that is not a valid token or error response (not JSON,
 * missing `access_token`, bad `expires_in`, a redirect, ...). The body is never included.
 *
 * @example
 * ```ts
 * import { MalformedResponseError } from '@portvakt/core';
 * if (err instanceof MalformedResponseError) console.error(err.status, err.message);
 * ```
 */
export class MalformedResponseError extends PortvaktError<'ERR_PORTVAKT_MALFORMED_RESPONSE'> {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('ERR_PORTVAKT_MALFORMED_RESPONSE', message, options);
    this.status = status;
  }
}

/**
 * `getToken()` was called after `close()`.
 *
 * @example
 * ```ts
 * import { ClientClosedError } from '@portvakt/core';
 * await client.close();
 * await client.getToken().catch((err) => err instanceof ClientClosedError); // true
 * ```
 */
export class ClientClosedError extends PortvaktError<'ERR_PORTVAKT_CLIENT_CLOSED'> {
  constructor() {
    super('ERR_PORTVAKT_CLIENT_CLOSED', 'The Maskinporten client is closed: create a new one.');
  }
}

/**
 * Altinn's authentication API refused to exchange the Maskinporten token for an Altinn token
 * (protocol.md section 5.7): `status` is its HTTP status. A 401 or 403 usually means the
 * Maskinporten token lacks what Altinn needs (scope, organisation), or came from the other
 * environment (a test token at production Altinn). Not retried.
 *
 * @example
 * ```ts
 * import { AltinnExchangeError } from '@portvakt/core';
 * if (err instanceof AltinnExchangeError) console.error(`Altinn refused the exchange (HTTP ${err.status})`);
 * ```
 */
export class AltinnExchangeError extends PortvaktError<'ERR_PORTVAKT_ALTINN_EXCHANGE'> {
  readonly status: number;
  constructor(status: number) {
    super('ERR_PORTVAKT_ALTINN_EXCHANGE', `Altinn refused to exchange the Maskinporten token (HTTP ${status}): check that the token has the scopes Altinn's API needs, and that Altinn's environment (tt02 or production) matches Maskinporten's (test or production).`);
    this.status = status;
  }
}

/**
 * Every error Portvakt throws, as a union: `switch (err.code)` narrows it to the class, so
 * `err.mpCode` or `err.attempts` need no cast.
 *
 * @example
 * ```ts
 * import { isPortvaktError } from '@portvakt/core';
 * if (isPortvaktError(err)) {
 *   switch (err.code) {
 *     case 'ERR_PORTVAKT_TOKEN_REJECTED': log.error({ mp: err.mpCode }, err.hint); break;
 *     case 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE': log.warn({ attempts: err.attempts }, 'Maskinporten down'); break;
 *   }
 * }
 * ```
 */
export type AnyPortvaktError =
  | ConfigurationError
  | KeyError
  | CertificateError
  | TokenEndpointError
  | EndpointUnavailableError
  | TimeoutError
  | AbortedError
  | MalformedResponseError
  | ClientClosedError
  | AltinnExchangeError
  | VerificationError;

/**
 * Whether `value` is an error Portvakt threw (from either build of the package), typed as the
 * union {@link AnyPortvaktError} so its `code` narrows.
 *
 * @example
 * ```ts
 * if (isPortvaktError(err) && err.code === 'ERR_PORTVAKT_TOKEN_REJECTED') console.error(err.mpCode);
 * ```
 */
export function isPortvaktError(value: unknown): value is AnyPortvaktError {
  return value instanceof PortvaktError;
}

/**
 * How a failure to get a token is answered over HTTP, the same in every adapter:
 * - `maskinporten_unavailable` 503: Maskinporten unreachable or answering 408/429/5xx (transient);
 * - `maskinporten_timeout` 504: an attempt timeout or the deadline ran out;
 * - `maskinporten_rejected` 502: an OAuth error from Maskinporten (`mpCode` says which);
 * - `maskinporten_bad_response` 502: an answer that is not a valid token response;
 * - `altinn_exchange_rejected` 502: Altinn refused to exchange the Maskinporten token;
 * - `client_closed_request` 499: the caller went away (aborted);
 * - `maskinporten_misconfigured` 502: anything else (key, certificate, options, a closed client).
 *
 * @example
 * ```ts
 * import { httpStatusOfTokenFailure } from '@portvakt/core';
 * const { status, code } = httpStatusOfTokenFailure(err); // e.g. 503, 'maskinporten_unavailable'
 * ```
 */
export function httpStatusOfTokenFailure(error: unknown): { status: number; code: TokenFailureCode; mpCode?: string | undefined } {
  if (!isPortvaktError(error)) return { status: 502, code: 'maskinporten_misconfigured' };
  switch (error.code) {
    case 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE':
      return { status: 503, code: 'maskinporten_unavailable' };
    case 'ERR_PORTVAKT_TIMEOUT':
      return { status: 504, code: 'maskinporten_timeout' };
    case 'ERR_PORTVAKT_TOKEN_REJECTED':
      return { status: 502, code: 'maskinporten_rejected', mpCode: error.mpCode };
    case 'ERR_PORTVAKT_MALFORMED_RESPONSE':
      return { status: 502, code: 'maskinporten_bad_response' };
    case 'ERR_PORTVAKT_ABORTED':
      return { status: 499, code: 'client_closed_request' };
    case 'ERR_PORTVAKT_ALTINN_EXCHANGE':
      return { status: 502, code: 'altinn_exchange_rejected' };
    default:
      return { status: 502, code: 'maskinporten_misconfigured' };
  }
}

/**
 * The stable codes of {@link httpStatusOfTokenFailure}.
 * @example
 * ```ts
 * const code: TokenFailureCode = 'maskinporten_timeout';
 * ```
 */
export type TokenFailureCode =
  | 'maskinporten_unavailable'
  | 'maskinporten_timeout'
  | 'maskinporten_rejected'
  | 'maskinporten_bad_response'
  | 'maskinporten_misconfigured'
  | 'altinn_exchange_rejected'
  | 'client_closed_request';
