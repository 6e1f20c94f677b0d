/**
 * Typed errors. Every error Portvakt throws is a {@link PortvaktError} with a stable string
 * `code`, so callers can `switch (err.code)`. Caller misuse of a function (a wrong argument type)
 * is a plain `TypeError`; failures of the operation are coded errors.
 *
 * Each class owns its code (a static `code`, copied to every instance) and its name (a literal,
 * not the function name a minifier shortens), so no error can carry another class's code, and
 * `err.name` reads `ConfigurationError` in a minified bundle too.
 *
 * No error ever carries the assertion, an access token or key material: messages are built from
 * our own words plus Maskinporten's `error`/`error_description`, and anything in those that looks
 * like a JWT is masked (see redact.ts).
 */
import { STATUS_CODES } from 'node:http';
import { MP_CODE_HINTS } from './mp-codes.js';
import { redactSecrets } from './redact.js';

/**
 * Codes of the errors `@portvakt/core` throws (the verification package has its own).
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
  | 'ERR_PORTVAKT_ALTINN_EXCHANGE';

/**
 * How an error is answered over HTTP, the same in every adapter: adapters only serialise it (an
 * RFC 9457 body of `type: 'about:blank'`, `title`, `status`, `detail`, `code`, and `mpCode` when
 * there is one; the `headers` as they are). Nothing in it is secret.
 *
 * @example
 * ```ts
 * const problem: HttpProblem = err.toProblem();
 * res.status(problem.status).set(problem.headers).json({ type: 'about:blank', title: problem.title, status: problem.status, detail: problem.detail, code: problem.code });
 * ```
 */
export interface HttpProblem {
  readonly status: number;
  /** A stable code for the body (`maskinporten_unavailable`, `invalid_token`, ...). */
  readonly code: string;
  /** The status phrase (RFC 9457's `title` for `type: about:blank`). */
  readonly title: string;
  /** A safe sentence saying what went wrong. */
  readonly detail: string;
  /** Response headers the answer needs (`www-authenticate` for a refused token), lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Maskinporten's `MP-nnn` code, when it named one. */
  readonly mpCode?: string | undefined;
}

const BRAND = Symbol.for('portvakt.error.codes');

/** The codes of `target` and the classes it extends, read from each class's own static `code`. */
function codesOf(target: unknown): readonly string[] {
  const codes: string[] = [];
  for (let c = target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
    const code = Object.hasOwn(c, 'code') ? (c as { code?: unknown }).code : undefined;
    if (typeof code === 'string') codes.push(code);
  }
  return Object.freeze(codes);
}

/**
 * Gives an error class its name as a literal, so the name survives minification and a bundler's
 * renaming of a second copy (`ConfigurationError2`). Called once in each class's static block.
 *
 * @example
 * ```ts
 * class MyError extends PortvaktError {
 *   static override readonly code = 'ERR_PORTVAKT_CONFIGURATION';
 *   static { nameErrorClass(this, 'MyError'); }
 * }
 * ```
 */
export function nameErrorClass(target: abstract new (...args: never[]) => PortvaktError, name: string): void {
  Object.defineProperty(target, 'name', { value: name, configurable: true });
}

/**
 * Base class of every error Portvakt throws. Abstract: each subclass owns one code.
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
export abstract class PortvaktError extends Error {
  /** The code of this class's errors; each subclass sets its own. */
  static readonly code: string | undefined = undefined;
  /** Stable machine-readable code, e.g. `ERR_PORTVAKT_TOKEN_REJECTED`: always the class's own. */
  readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options?.cause === undefined ? undefined : { cause: options.cause });
    const code: unknown = (new.target as unknown as { code?: unknown }).code;
    if (typeof code !== 'string') throw new TypeError('PortvaktError is abstract: throw one of its subclasses, which own their codes.');
    this.code = code;
    this.name = new.target.name;
    // The codes of this error's classes, so instanceof holds across the package's ESM and
    // CommonJS copies (an app can load both) whatever a bundler names the classes.
    Object.defineProperty(this, BRAND, { value: codesOf(new.target), enumerable: false });
  }

  /**
   * `instanceof` that also recognises errors made by another copy of this package (its ESM and
   * CommonJS builds, or two bundled copies), by the codes the error's classes own.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const codes = (value as { [BRAND]?: unknown } | null | undefined)?.[BRAND];
    if (!Array.isArray(codes)) return false;
    const own = Object.hasOwn(this, 'code') ? (this as { code?: unknown }).code : undefined;
    // The base class (of any copy) has no code of its own: every Portvakt error is one.
    return typeof own === 'string' ? codes.includes(own) : true;
  }

  /**
   * The HTTP answer to this error, for adapters to serialise. A failure to get a token is a 502,
   * 503 or 504 (see {@link httpStatusOfTokenFailure}); verification errors answer 401, 403 or 503.
   */
  toProblem(): HttpProblem {
    const { status, code, mpCode } = httpStatusOfTokenFailure(this);
    return Object.freeze({ status, code, title: STATUS_CODES[status] ?? 'Error', detail: TOKEN_FAILURE_DETAILS[code], headers: NO_HEADERS, ...(mpCode === undefined ? {} : { mpCode }) });
  }

  /** A JSON form with the code and message only: never the cause's internals. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const [k, v] of Object.entries(this)) {
      if (k === 'cause' || k === 'code' || k === 'name') continue;
      out[k] = v;
    }
    return out;
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

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
export class ConfigurationError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_CONFIGURATION' as const;
  static {
    nameErrorClass(this, 'ConfigurationError');
  }
  declare readonly code: 'ERR_PORTVAKT_CONFIGURATION';
  /** The option at fault, as a dotted path (`transport.attemptTimeout`). */
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`Invalid option "${field}": ${message}`, options);
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
export class KeyError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_KEY' as const;
  static {
    nameErrorClass(this, 'KeyError');
  }
  declare readonly code: 'ERR_PORTVAKT_KEY';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
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
export class CertificateError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_CERTIFICATE' as const;
  static {
    nameErrorClass(this, 'CertificateError');
  }
  declare readonly code: 'ERR_PORTVAKT_CERTIFICATE';
  readonly problem: CertificateProblem;
  constructor(problem: CertificateProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.problem = problem;
  }
}

/**
 * Maskinporten answered the token request with an OAuth error (`invalid_grant`, `invalid_scope`,
 * ...). Never retried. `mpCode` is the `MP-nnn` code from the description when there is one, and
 * `hint` says what to do about it. Through NAIS Texas (`via: 'texas'`) the error is Texas' answer:
 * Maskinporten's error passed on, or Texas' own (`invalid_request`, "identity provider
 * 'maskinporten' is not enabled"), with `error` and `errorDescription` as Texas sent them.
 *
 * @example
 * ```ts
 * import { TokenEndpointError } from '@portvakt/core';
 * if (err instanceof TokenEndpointError) console.error(err.status, err.error, err.mpCode, err.hint);
 * ```
 */
export class TokenEndpointError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_TOKEN_REJECTED' as const;
  static {
    nameErrorClass(this, 'TokenEndpointError');
  }
  declare readonly code: 'ERR_PORTVAKT_TOKEN_REJECTED';
  readonly status: number;
  readonly error: string;
  readonly errorDescription: string | undefined;
  readonly errorUri: string | undefined;
  readonly mpCode: string | undefined;
  readonly hint: string | undefined;
  /** Who answered: Maskinporten itself, or NAIS Texas (passing Maskinporten's answer on, or its own). */
  readonly via: 'maskinporten' | 'texas';

  constructor(details: { status: number; error: string; errorDescription?: string | undefined; errorUri?: string | undefined; via?: 'maskinporten' | 'texas' | undefined; hint?: string | undefined }) {
    const description = details.errorDescription === undefined ? undefined : redactSecrets(details.errorDescription);
    const mpCode = description?.match(/MP-\d{3}/)?.[0];
    const hint = details.hint ?? (mpCode === undefined ? undefined : MP_CODE_HINTS[mpCode]);
    const via = details.via ?? 'maskinporten';
    const parts = [`${via === 'texas' ? 'NAIS Texas refused' : 'Maskinporten rejected'} the token request (HTTP ${details.status}, ${details.error})`];
    if (description) parts.push(`: ${description}`);
    if (hint) parts.push(`. Hint: ${hint}`);
    super(parts.join(''));
    this.status = details.status;
    this.error = details.error;
    this.errorDescription = description;
    this.errorUri = details.errorUri;
    this.mpCode = mpCode;
    this.hint = hint;
    this.via = via;
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
export class EndpointUnavailableError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' as const;
  static {
    nameErrorClass(this, 'EndpointUnavailableError');
  }
  declare readonly code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE';
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(message: string, details: { status?: number | undefined; attempts: number; cause?: unknown }) {
    super(message, { cause: details.cause });
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
export class TimeoutError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_TIMEOUT' as const;
  static {
    nameErrorClass(this, 'TimeoutError');
  }
  declare readonly code: 'ERR_PORTVAKT_TIMEOUT';
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(message, options);
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
export class AbortedError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_ABORTED' as const;
  static {
    nameErrorClass(this, 'AbortedError');
  }
  declare readonly code: 'ERR_PORTVAKT_ABORTED';
  constructor(message = 'The operation was aborted by the caller', options?: { cause?: unknown }) {
    super(message, options);
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
export class MalformedResponseError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_MALFORMED_RESPONSE' as const;
  static {
    nameErrorClass(this, 'MalformedResponseError');
  }
  declare readonly code: 'ERR_PORTVAKT_MALFORMED_RESPONSE';
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
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
export class ClientClosedError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_CLIENT_CLOSED' as const;
  static {
    nameErrorClass(this, 'ClientClosedError');
  }
  declare readonly code: 'ERR_PORTVAKT_CLIENT_CLOSED';
  constructor() {
    super('The Maskinporten client is closed: create a new one.');
  }
}

/**
 * Altinn's authentication API refused to exchange the Maskinporten token for an Altinn token
 * (docs/maskinporten-rules.md §5.7): `status` is its HTTP status. A 401 or 403 usually means the
 * Maskinporten token lacks what Altinn needs (scope, organisation), or came from the other
 * environment (a test token at production Altinn). Not retried.
 *
 * @example
 * ```ts
 * import { AltinnExchangeError } from '@portvakt/core';
 * if (err instanceof AltinnExchangeError) console.error(`Altinn refused the exchange (HTTP ${err.status})`);
 * ```
 */
export class AltinnExchangeError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_ALTINN_EXCHANGE' as const;
  static {
    nameErrorClass(this, 'AltinnExchangeError');
  }
  declare readonly code: 'ERR_PORTVAKT_ALTINN_EXCHANGE';
  readonly status: number;
  constructor(status: number) {
    super(`Altinn refused to exchange the Maskinporten token (HTTP ${status}): check that the token has the scopes Altinn's API needs, and that Altinn's environment (tt02 or production) matches Maskinporten's (test or production).`);
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
  | AltinnExchangeError;

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

/** The `detail` of each token failure's problem answer: the same words in every adapter. */
const TOKEN_FAILURE_DETAILS: Readonly<Record<TokenFailureCode, string>> = Object.freeze({
  maskinporten_unavailable: 'Maskinporten is unavailable',
  maskinporten_timeout: 'Maskinporten did not answer in time',
  maskinporten_rejected: 'Maskinporten refused the token request',
  maskinporten_bad_response: 'Maskinporten gave an invalid answer',
  maskinporten_misconfigured: 'The Maskinporten client is misconfigured',
  altinn_exchange_rejected: 'Altinn refused to exchange the Maskinporten token',
  client_closed_request: 'The client closed the request',
});

/**
 * The HTTP answer to a failure to get a token, for any thrown value: a Portvakt error answers
 * with its own {@link PortvaktError.toProblem}; anything else is a 502
 * `maskinporten_misconfigured`. What every adapter serialises.
 *
 * @example
 * ```ts
 * import { problemOf } from '@portvakt/core';
 * const { status, code, detail, headers } = problemOf(err); // e.g. 503, 'maskinporten_unavailable'
 * ```
 */
export function problemOf(error: unknown): HttpProblem {
  if (error instanceof PortvaktError && typeof (error as { toProblem?: unknown }).toProblem === 'function') return error.toProblem();
  return Object.freeze({ status: 502, code: 'maskinporten_misconfigured', title: STATUS_CODES[502] ?? 'Error', detail: TOKEN_FAILURE_DETAILS.maskinporten_misconfigured, headers: NO_HEADERS });
}

/**
 * The RFC 9457 body of a problem answer, as every adapter sends it (with
 * `content-type: application/problem+json`): `type: 'about:blank'`, the status phrase as `title`,
 * `status`, `detail`, `code`, and `mpCode` when Maskinporten named one.
 *
 * @example
 * ```ts
 * import { problemBody, problemOf } from '@portvakt/core';
 * const problem = problemOf(err);
 * reply.code(problem.status).headers(problem.headers).type('application/problem+json').send(problemBody(problem));
 * ```
 */
export function problemBody(problem: HttpProblem): { type: 'about:blank'; title: string; status: number; detail: string; code: string; mpCode?: string } {
  const { status, title, detail, code, mpCode } = problem;
  return mpCode === undefined ? { type: 'about:blank', title, status, detail, code } : { type: 'about:blank', title, status, detail, code, mpCode };
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
