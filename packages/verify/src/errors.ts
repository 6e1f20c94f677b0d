/**
 * Why a Maskinporten access token was refused, as typed errors that carry their HTTP answer
 * (RFC 6750 section 3): `status`, the bearer `error` code and a ready `WWW-Authenticate` value, so
 * any framework can answer without a table of its own. Messages are our own words; a value taken
 * from the token appears only through `describeValue` (short plain strings), and the token itself
 * never does.
 */
import { STATUS_CODES } from 'node:http';
import { PortvaktError } from '@portvakt/core';
import { nameErrorClass } from '@portvakt/core/internal';
import type { HttpProblem } from '@portvakt/core';

/**
 * The codes of the verification errors.
 * @example
 * ```ts
 * const code: VerificationErrorCode = 'ERR_PORTVAKT_INVALID_TOKEN';
 * ```
 */
export type VerificationErrorCode =
  | 'ERR_PORTVAKT_TOKEN_MISSING'
  | 'ERR_PORTVAKT_INVALID_TOKEN'
  | 'ERR_PORTVAKT_INSUFFICIENT_SCOPE'
  | 'ERR_PORTVAKT_ORGANIZATION_NOT_ALLOWED'
  | 'ERR_PORTVAKT_REQUIREMENT_NOT_MET'
  | 'ERR_PORTVAKT_KEY_SET_UNAVAILABLE'
  | 'ERR_PORTVAKT_INTROSPECTION_UNAVAILABLE';


/**
 * Why a token is `invalid_token` (HTTP 401):
 * - `malformed`: not a compact JWS, bad base64url, a header or payload that is not a JSON object,
 *   no `kid`;
 * - `too_large`: longer than 16 KiB, refused before any parsing;
 * - `encrypted`: a JWE (Maskinporten's tokens are signed, never encrypted);
 * - `unsupported_algorithm`: `alg` other than RS256, RS384 or RS512 (`none`, HS256, ES256, PS256 ...);
 * - `critical_header`: a `crit` header (no extension is understood, so none may be critical);
 * - `duplicate_member`: a member name twice in one JSON object of the header or the payload;
 * - `missing_claim`, `invalid_claim`: a claim Maskinporten always sets is missing, or a claim has
 *   the wrong type or shape;
 * - `wrong_issuer`: `iss` is not exactly the environment's issuer;
 * - `unknown_key`: no key with the token's `kid` in the key set, after the refetch rules;
 * - `bad_signature`: the signature does not verify with that key;
 * - `expired`, `not_yet_valid`, `issued_in_future`: `exp`, `nbf` or `iat` outside the clock tolerance;
 * - `wrong_audience`: `aud` is not one this API accepts;
 * - `wrong_token_type`: `token_type` other than `Bearer` (a sender-constrained token is no bearer token);
 * - `consent_expired`: the consent's `validTo` has passed;
 * - `inactive`: NAIS Texas' introspection says the token is not active (its signature, issuer or
 *   times fail there).
 *
 * @example
 * ```ts
 * if (err instanceof InvalidTokenError && err.reason === 'expired') metrics.expiredTokens.inc();
 * ```
 */
export type InvalidTokenReason =
  | 'malformed'
  | 'too_large'
  | 'encrypted'
  | 'unsupported_algorithm'
  | 'critical_header'
  | 'duplicate_member'
  | 'missing_claim'
  | 'invalid_claim'
  | 'wrong_issuer'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'wrong_audience'
  | 'wrong_token_type'
  | 'consent_expired'
  | 'inactive';

const REASON_DESCRIPTIONS: Readonly<Record<InvalidTokenReason, string>> = {
  malformed: 'The access token is not a well-formed signed JWT',
  too_large: 'The access token is too large',
  encrypted: 'Encrypted tokens are not accepted',
  unsupported_algorithm: 'The token is not signed with an algorithm Maskinporten uses',
  critical_header: 'The token has critical header parameters',
  duplicate_member: 'The token has a duplicate JSON member',
  missing_claim: 'The token lacks a claim Maskinporten always sets',
  invalid_claim: 'The token has a claim of the wrong type',
  wrong_issuer: 'The token is not from the expected Maskinporten environment',
  unknown_key: 'The token is signed with an unknown key',
  bad_signature: 'The token signature is invalid',
  expired: 'The access token expired',
  not_yet_valid: 'The access token is not valid yet',
  issued_in_future: 'The token is issued in the future',
  wrong_audience: 'The token is not meant for this API',
  wrong_token_type: 'The token is not a bearer token',
  consent_expired: 'The consent in the token has expired',
  inactive: 'The access token is not active',
};

/**
 * The `error_description` sent for a reason: fixed text from our own words, with only characters
 * RFC 6750 allows inside a quoted header value.
 *
 * @example
 * ```ts
 * describeInvalidTokenReason('expired'); // 'The access token expired'
 * ```
 */
export function describeInvalidTokenReason(reason: InvalidTokenReason): string {
  return REASON_DESCRIPTIONS[reason];
}

/**
 * The request has no bearer token: no `Authorization` header, or another scheme (Basic, DPoP).
 * HTTP 401 with a bare `WWW-Authenticate: Bearer` (RFC 6750 section 3.1: no error code when the
 * request carries no authentication).
 *
 * @example
 * ```ts
 * import { MissingTokenError, readBearerToken } from '@portvakt/verify';
 * try {
 *   readBearerToken(req.headers.authorization);
 * } catch (err) {
 *   if (err instanceof MissingTokenError) res.status(err.status).set('www-authenticate', err.wwwAuthenticate).end();
 * }
 * ```
 */
export class MissingTokenError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_TOKEN_MISSING' as const;
  static {
    nameErrorClass(this, 'MissingTokenError');
  }
  declare readonly code: 'ERR_PORTVAKT_TOKEN_MISSING';
  /** The 401, 403 or 503 answer, with its `WWW-Authenticate` challenge (see {@link httpStatusOfVerificationFailure}). */
  override toProblem(): HttpProblem {
    return problemOfVerification(this);
  }
  readonly status = 401 as const;
  readonly wwwAuthenticate = 'Bearer';
  constructor(message = 'The request has no bearer token: send "Authorization: Bearer <access token>".') {
    super(message);
  }
}

/**
 * The token is not a valid Maskinporten access token for this API (`invalid_token`, HTTP 401):
 * malformed, forged, expired, from another environment or for another audience. `reason` says
 * which check failed.
 *
 * @example
 * ```ts
 * import { InvalidTokenError } from '@portvakt/verify';
 * try {
 *   await verifier.verify(token);
 * } catch (err) {
 *   if (err instanceof InvalidTokenError) console.warn(err.reason); // 'expired', 'bad_signature', ...
 * }
 * ```
 */
export class InvalidTokenError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_INVALID_TOKEN' as const;
  static {
    nameErrorClass(this, 'InvalidTokenError');
  }
  declare readonly code: 'ERR_PORTVAKT_INVALID_TOKEN';
  /** The 401, 403 or 503 answer, with its `WWW-Authenticate` challenge (see {@link httpStatusOfVerificationFailure}). */
  override toProblem(): HttpProblem {
    return problemOfVerification(this);
  }
  readonly status = 401 as const;
  readonly error = 'invalid_token' as const;
  readonly reason: InvalidTokenReason;
  readonly wwwAuthenticate: string;
  constructor(reason: InvalidTokenReason, message: string) {
    super(message);
    this.reason = reason;
    this.wwwAuthenticate = `Bearer error="invalid_token", error_description="${REASON_DESCRIPTIONS[reason]}"`;
  }
}

/**
 * The token is valid but lacks a scope the API requires (`insufficient_scope`, HTTP 403). The
 * `WWW-Authenticate` value names every required scope in `scope="..."` (RFC 6750 section 3).
 *
 * @example
 * ```ts
 * import { InsufficientScopeError } from '@portvakt/verify';
 * if (err instanceof InsufficientScopeError) console.warn('missing', err.missingScopes);
 * ```
 */
export class InsufficientScopeError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_INSUFFICIENT_SCOPE' as const;
  static {
    nameErrorClass(this, 'InsufficientScopeError');
  }
  declare readonly code: 'ERR_PORTVAKT_INSUFFICIENT_SCOPE';
  /** The 401, 403 or 503 answer, with its `WWW-Authenticate` challenge (see {@link httpStatusOfVerificationFailure}). */
  override toProblem(): HttpProblem {
    return problemOfVerification(this);
  }
  readonly status = 403 as const;
  readonly error = 'insufficient_scope' as const;
  /** Every scope required where the check failed. */
  readonly requiredScopes: readonly string[];
  /** The required scopes the token does not have. */
  readonly missingScopes: readonly string[];
  readonly wwwAuthenticate: string;
  constructor(requiredScopes: readonly string[], missingScopes: readonly string[]) {
    super(`The access token lacks the scope${missingScopes.length === 1 ? '' : 's'} ${missingScopes.join(', ')} required here.`);
    this.requiredScopes = Object.freeze([...requiredScopes]);
    this.missingScopes = Object.freeze([...missingScopes]);
    // Configured scopes are checked to be RFC 6750 scope-tokens, so they go into the header as they are.
    this.wwwAuthenticate = `Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="${requiredScopes.join(' ')}"`;
  }
}

/**
 * The token is valid, but its consumer (or supplier, for delegated tokens) is not an organisation
 * this API serves (HTTP 403). The bearer error is `insufficient_scope`, RFC 6750's code for a
 * token without the privileges the request needs; no `scope` is named, since no scope would help.
 *
 * @example
 * ```ts
 * import { OrganizationNotAllowedError } from '@portvakt/verify';
 * if (err instanceof OrganizationNotAllowedError) console.warn(`${err.role} not allowed`);
 * ```
 */
export class OrganizationNotAllowedError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_ORGANIZATION_NOT_ALLOWED' as const;
  static {
    nameErrorClass(this, 'OrganizationNotAllowedError');
  }
  declare readonly code: 'ERR_PORTVAKT_ORGANIZATION_NOT_ALLOWED';
  /** The 401, 403 or 503 answer, with its `WWW-Authenticate` challenge (see {@link httpStatusOfVerificationFailure}). */
  override toProblem(): HttpProblem {
    return problemOfVerification(this);
  }
  readonly status = 403 as const;
  readonly error = 'insufficient_scope' as const;
  /** Which party was refused: the `consumer`, or the `supplier` of a delegated token. */
  readonly role: 'consumer' | 'supplier';
  readonly wwwAuthenticate: string;
  constructor(role: 'consumer' | 'supplier', message: string) {
    super(message);
    this.role = role;
    this.wwwAuthenticate = `Bearer error="insufficient_scope", error_description="The ${role} organisation is not allowed"`;
  }
}

/**
 * What a {@link RequirementNotMetError} is about:
 * - `pid`: the API serves one person per request, and the token is for none or for another
 *   (docs/maskinporten-rules.md §5.5, §6.8);
 * - `consent`: no consent in the token to the token's consumer, still valid, for the resource
 *   (and metadata) the API requires (§5.4, §6.10, §11.3);
 * - `systemUser`: the token has no Altinn system user, or one of another system or customer (§5.3).
 *
 * @example
 * ```ts
 * const which: TokenRequirementName = 'pid';
 * ```
 */
export type TokenRequirementName = 'pid' | 'consent' | 'systemUser';

const REQUIREMENT_ANSWERS: Readonly<Record<TokenRequirementName, { code: VerificationFailureCode; description: string; detail: string }>> = {
  pid: { code: 'person_not_allowed', description: 'The token is not for the person this request is about', detail: 'The access token is not for the person this request is about.' },
  consent: { code: 'consent_missing', description: 'The token carries no valid consent for this resource', detail: 'The access token carries no valid consent, given to its consumer, for this resource.' },
  systemUser: { code: 'system_user_not_allowed', description: 'The token has no system user allowed here', detail: 'The access token has no Altinn system user allowed here.' },
};

/**
 * The token is valid, but it does not meet one of the API's requirements on its person, consent or
 * system user (HTTP 403). The bearer error is `insufficient_scope`, RFC 6750's code for a token
 * without the privileges the request needs; `requirement` says which.
 *
 * @example
 * ```ts
 * import { RequirementNotMetError } from '@portvakt/verify';
 * if (err instanceof RequirementNotMetError && err.requirement === 'pid') audit.personMismatch(req);
 * ```
 */
export class RequirementNotMetError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_REQUIREMENT_NOT_MET' as const;
  static {
    nameErrorClass(this, 'RequirementNotMetError');
  }
  declare readonly code: 'ERR_PORTVAKT_REQUIREMENT_NOT_MET';
  /** The 401, 403 or 503 answer, with its `WWW-Authenticate` challenge (see {@link httpStatusOfVerificationFailure}). */
  override toProblem(): HttpProblem {
    return problemOfVerification(this);
  }
  readonly status = 403 as const;
  readonly error = 'insufficient_scope' as const;
  readonly requirement: TokenRequirementName;
  readonly wwwAuthenticate: string;
  constructor(requirement: TokenRequirementName, message: string) {
    super(message);
    this.requirement = requirement;
    this.wwwAuthenticate = `Bearer error="insufficient_scope", error_description="${REQUIREMENT_ANSWERS[requirement].description}"`;
  }
}

/**
 * NAIS Texas' introspection endpoint could not say whether the token is valid (HTTP 503): it did
 * not answer in time, answered with an error status, or with something that is not an
 * introspection result. Not the caller's fault, so no `WWW-Authenticate` challenge. `cause` is
 * the failure (`EndpointUnavailableError`, `TimeoutError` or `MalformedResponseError`).
 *
 * @example
 * ```ts
 * import { IntrospectionUnavailableError } from '@portvakt/verify';
 * if (err instanceof IntrospectionUnavailableError) metrics.texasDown.inc();
 * ```
 */
export class IntrospectionUnavailableError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_INTROSPECTION_UNAVAILABLE' as const;
  static {
    nameErrorClass(this, 'IntrospectionUnavailableError');
  }
  declare readonly code: 'ERR_PORTVAKT_INTROSPECTION_UNAVAILABLE';
  /** The 401, 403 or 503 answer, with its `WWW-Authenticate` challenge (see {@link httpStatusOfVerificationFailure}). */
  override toProblem(): HttpProblem {
    return problemOfVerification(this);
  }
  readonly status = 503 as const;
  readonly wwwAuthenticate: undefined = undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Maskinporten's key set could not be had, so the token could be neither accepted nor refused
 * (HTTP 503): no key set was fetched yet, or the token names a key that is not in the cached set
 * and the refetch failed. Not the caller's fault, so no `WWW-Authenticate` challenge. `cause` is
 * the fetch failure (`EndpointUnavailableError`, `TimeoutError` or `MalformedResponseError`).
 *
 * @example
 * ```ts
 * import { KeySetUnavailableError } from '@portvakt/verify';
 * if (err instanceof KeySetUnavailableError) res.status(503).set('retry-after', '5').end();
 * ```
 */
export class KeySetUnavailableError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_KEY_SET_UNAVAILABLE' as const;
  static {
    nameErrorClass(this, 'KeySetUnavailableError');
  }
  declare readonly code: 'ERR_PORTVAKT_KEY_SET_UNAVAILABLE';
  /** The 401, 403 or 503 answer, with its `WWW-Authenticate` challenge (see {@link httpStatusOfVerificationFailure}). */
  override toProblem(): HttpProblem {
    return problemOfVerification(this);
  }
  readonly status = 503 as const;
  readonly wwwAuthenticate: undefined = undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Every error `verify()` and `readBearerToken()` throw, as a union: `switch (err.code)` narrows it.
 * @example
 * ```ts
 * function log(err: VerificationError) {
 *   if (err.code === 'ERR_PORTVAKT_INVALID_TOKEN') console.warn(err.reason);
 * }
 * ```
 */
export type VerificationError =
  | MissingTokenError
  | InvalidTokenError
  | InsufficientScopeError
  | OrganizationNotAllowedError
  | RequirementNotMetError
  | KeySetUnavailableError
  | IntrospectionUnavailableError;

/**
 * Stable codes of {@link httpStatusOfVerificationFailure}, for problem bodies and logs.
 * @example
 * ```ts
 * const code: VerificationFailureCode = 'insufficient_scope';
 * ```
 */
export type VerificationFailureCode =
  | 'token_missing'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'organization_not_allowed'
  | 'person_not_allowed'
  | 'consent_missing'
  | 'system_user_not_allowed'
  | 'key_set_unavailable'
  | 'introspection_unavailable'
  | 'verification_failed';

/**
 * How a verification failure is answered over HTTP, the same in every adapter.
 * @example
 * ```ts
 * const answer: VerificationFailureAnswer = httpStatusOfVerificationFailure(err);
 * ```
 */
export interface VerificationFailureAnswer {
  status: number;
  code: VerificationFailureCode;
  /** The status phrase, for RFC 9457's `title` with `type: about:blank`. */
  title: string;
  /** A safe sentence for the problem body's `detail` (never the token or its claims). */
  detail: string;
  /** The `WWW-Authenticate` value for 401 and 403 answers. */
  wwwAuthenticate: string | undefined;
  /** For `invalid_token`: which check failed. */
  reason?: InvalidTokenReason | undefined;
}

/**
 * Whether `value` is one of the verification errors (from either build of the package).
 * @example
 * ```ts
 * if (isVerificationError(err)) res.status(err.status);
 * ```
 */
export function isVerificationError(value: unknown): value is VerificationError {
  return (
    value instanceof MissingTokenError ||
    value instanceof InvalidTokenError ||
    value instanceof InsufficientScopeError ||
    value instanceof OrganizationNotAllowedError ||
    value instanceof RequirementNotMetError ||
    value instanceof KeySetUnavailableError ||
    value instanceof IntrospectionUnavailableError
  );
}

/**
 * The HTTP answer to a failed verification: 401 `token_missing` or `invalid_token`, 403
 * `insufficient_scope`, `organization_not_allowed`, `person_not_allowed`, `consent_missing` or
 * `system_user_not_allowed`, 503 `key_set_unavailable` or `introspection_unavailable`, and 500
 * `verification_failed` for anything else (a bug, not the caller's fault). Adapters send `status`,
 * the `WWW-Authenticate` header when there is one, and an RFC 9457 problem built from the rest.
 *
 * @example
 * ```ts
 * import { httpStatusOfVerificationFailure } from '@portvakt/verify';
 * const { status, code, wwwAuthenticate, detail } = httpStatusOfVerificationFailure(err);
 * if (wwwAuthenticate) res.setHeader('www-authenticate', wwwAuthenticate);
 * res.status(status).json({ type: 'about:blank', title: STATUS_CODES[status], status, detail, code });
 * ```
 */
export function httpStatusOfVerificationFailure(error: unknown): VerificationFailureAnswer {
  const answer = (status: number, code: VerificationFailureCode, detail: string, wwwAuthenticate: string | undefined): VerificationFailureAnswer => ({
    status,
    code,
    title: STATUS_CODES[status] ?? 'Error',
    detail,
    wwwAuthenticate,
  });
  if (error instanceof InvalidTokenError) return { ...answer(401, 'invalid_token', `${REASON_DESCRIPTIONS[error.reason]}.`, error.wwwAuthenticate), reason: error.reason };
  if (error instanceof MissingTokenError) return answer(401, 'token_missing', 'A Maskinporten access token is required: send Authorization: Bearer <token>.', error.wwwAuthenticate);
  if (error instanceof InsufficientScopeError) return answer(403, 'insufficient_scope', `The access token lacks a required scope (${error.missingScopes.join(' ')}).`, error.wwwAuthenticate);
  if (error instanceof OrganizationNotAllowedError) return answer(403, 'organization_not_allowed', `The token's ${error.role} organisation may not use this API.`, error.wwwAuthenticate);
  if (error instanceof RequirementNotMetError) {
    const { code, detail } = REQUIREMENT_ANSWERS[error.requirement];
    return answer(403, code, detail, error.wwwAuthenticate);
  }
  if (error instanceof KeySetUnavailableError) return answer(503, 'key_set_unavailable', "Maskinporten's signing keys could not be fetched; try again shortly.", undefined);
  if (error instanceof IntrospectionUnavailableError) return answer(503, 'introspection_unavailable', 'The token could not be checked: the introspection endpoint did not answer; try again shortly.', undefined);
  return answer(500, 'verification_failed', 'The access token could not be verified.', undefined);
}

/** The problem answer of a verification error: its status, code, detail and challenge. */
function problemOfVerification(error: VerificationError): HttpProblem {
  const { status, code, title, detail, wwwAuthenticate } = httpStatusOfVerificationFailure(error);
  return Object.freeze({ status, code, title, detail, headers: Object.freeze(wwwAuthenticate === undefined ? {} : { 'www-authenticate': wwwAuthenticate }) });
}
