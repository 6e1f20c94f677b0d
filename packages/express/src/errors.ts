// How Maskinporten failures become HTTP answers. One table, shared by the middleware (next(err))
// and the proxy (RFC 9457 problem responses). Codes are stable; details never leave the process.
import { STATUS_CODES } from 'node:http';
import type { ServerResponse } from 'node:http';
import { ConfigurationError, problemBody, problemOf } from '@portvakt/core';
import type { HttpProblem, TokenFailureCode } from '@portvakt/core';

/**
 * Stable problem codes of the Express adapter.
 * @example
 * ```ts
 * const code: MaskinportenProblemCode = 'maskinporten_unavailable';
 * ```
 */
export type MaskinportenProblemCode =
  // Token failures, as core maps them for every adapter (httpStatusOfTokenFailure).
  | TokenFailureCode
  | 'invalid_claims'
  | 'upstream_unavailable'
  | 'upstream_not_allowed'
  | 'invalid_path'
  | 'body_already_read'
  | 'proxy_unavailable';

// The detail of the problems the adapter answers itself; token failures take core's words.
const OWN_DETAILS: Record<Exclude<MaskinportenProblemCode, TokenFailureCode>, string> = {
  invalid_claims: 'The request names an invalid organisation or person',
  upstream_unavailable: 'The upstream API could not be reached',
  upstream_not_allowed: 'The upstream chosen for this request may not receive the token',
  invalid_path: 'The request path is not a normalised path',
  body_already_read: 'The request body was read before the proxy',
  proxy_unavailable: 'The proxy could not be started',
};

/** The problem answer of one of the adapter's own failures. */
export function ownProblem(status: number, code: keyof typeof OWN_DETAILS): HttpProblem {
  return { status, code, title: STATUS_CODES[status] ?? 'Error', detail: OWN_DETAILS[code], headers: {} };
}

/**
 * The HTTP status and problem code for an error from resolving claims (`stage: 'claims'`: a bad
 * claim is the caller's 400) or from getting a token (core's mapping, shared with the NestJS
 * adapter: 503 unavailable, 504 timeout, 502 rejected, bad response or misconfigured).
 * @example
 * ```ts
 * import { classifyMaskinportenError } from '@portvakt/express';
 * const { status, code } = classifyMaskinportenError(err, 'token'); // e.g. 503, 'maskinporten_unavailable'
 * ```
 */
export function classify(error: unknown, stage: 'claims' | 'token'): { status: number; code: MaskinportenProblemCode } {
  const { status, code } = problemFor(error, stage);
  return { status, code: code as MaskinportenProblemCode };
}

/** The whole problem answer for such an error: the adapter's 400 for bad claims, else core's. */
export function problemFor(error: unknown, stage: 'claims' | 'token'): HttpProblem {
  if (stage === 'claims' && error instanceof ConfigurationError) return ownProblem(400, 'invalid_claims');
  return problemOf(error);
}

/**
 * An error for Express's `next(err)`: `status`/`statusCode`, `expose: false`, `code`, the original as `cause`.
 * @example
 * ```ts
 * app.use((err, req, res, next) => {
 *   if (err instanceof MaskinportenHttpError) return res.status(err.status).json({ code: err.code });
 *   next(err);
 * });
 * ```
 */
export class MaskinportenHttpError extends Error {
  readonly status: number;
  readonly statusCode: number;
  readonly expose = false;
  readonly code: MaskinportenProblemCode;
  constructor(error: unknown, stage: 'claims' | 'token') {
    const { status, code, detail } = problemFor(error, stage);
    super(`${detail} (${code})`, { cause: error });
    this.name = 'MaskinportenHttpError';
    this.status = status;
    this.statusCode = status;
    this.code = code as MaskinportenProblemCode;
  }
}

/** Writes an RFC 9457 problem response: the problem as it is, nothing that could be secret. */
export function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // RFC 9457: with type about:blank the title is the status phrase; what went wrong is in
  // `detail`, and `code` is the stable value to act on.
  const { status, headers } = problem;
  const body = JSON.stringify(problemBody(problem));
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/problem+json');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}
