// The API-provider side: verifying the Maskinporten token an incoming request carries. The flow
// (bearer, recall or verify, requirements, claims on the request) and the HTTP answers are the
// verification package's (verifyRequest, error.toProblem()); this file is Express glue.
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigurationError } from '@portvakt/core';
import type { PortvaktError } from '@portvakt/core';
import { isVerificationError, validateTokenRequirements, verifyRequest } from '@portvakt/verify';
import type { MaskinportenTokenClaims, MaskinportenVerifier, TokenRequirements } from '@portvakt/verify';
import { createErrorReporter } from './on-error.js';
import type { MaskinportenErrorHook } from './on-error.js';
import { checkFunction, checkOptionsObject } from './options.js';
import { sendProblem } from './errors.js';

declare global {
  // Declaration merging into Express's Request (works for @types/express 4 and 5).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified claims of the request's Maskinporten token, set by `requireMaskinportenToken()`. */
      maskinportenToken?: MaskinportenTokenClaims;
    }
  }
}

/**
 * Options of {@link requireMaskinportenToken}: the verifier, and requirements for the routes behind
 * this middleware (on top of the verifier's own).
 *
 * @example
 * ```ts
 * const options: RequireMaskinportenTokenOptions = { verifier, scope: 'nav:aareg', consumers: ['910753614'] };
 * ```
 */
export interface RequireMaskinportenTokenOptions extends TokenRequirements {
  /** A verifier from `createMaskinportenVerifier()` in `@portvakt/verify`. */
  verifier: MaskinportenVerifier;
  /** Called with every refusal (core's typed verification error) for your logs; the answer does not change. */
  onError?: MaskinportenErrorHook | undefined;
}

const OPTION_KEYS = ['verifier', 'onError', 'scope', 'audience', 'consumers', 'suppliers'] as const;

function isVerifier(value: unknown): value is MaskinportenVerifier {
  const candidate = value as Partial<MaskinportenVerifier> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.verify === 'function' && typeof candidate.recall === 'function' && typeof candidate.checkRequirements === 'function';
}

/** Answers a refusal as an RFC 9457 problem, with the bearer challenge RFC 6750 asks for. */
function refuse(res: ServerResponse, error: PortvaktError): void {
  sendProblem(res, error.toProblem());
}

/**
 * Express middleware that lets a request through only with a valid Maskinporten access token in
 * `Authorization: Bearer`, meeting the verifier's requirements and these. The claims go on
 * `req.maskinportenToken`. Refusals are answered here, as `application/problem+json` with
 * `WWW-Authenticate`: 401 `token_missing` or `invalid_token`, 403 `insufficient_scope` (naming the
 * required scopes) or `organization_not_allowed`, 503 `key_set_unavailable`. Anything else (a bug)
 * goes to `next(err)`.
 *
 * Mounted twice with the same verifier (a router, then a route), the second one checks only its
 * own requirements against the claims the first one verified: both apply.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createMaskinportenVerifier } from '@portvakt/verify';
 * import { requireMaskinportenToken } from '@portvakt/express/verify';
 *
 * const verifier = createMaskinportenVerifier({ environment: 'prod' });
 * const app = express();
 * app.use('/api', requireMaskinportenToken({ verifier, scope: 'nav:aareg/read' }));
 * app.post('/api/cases', requireMaskinportenToken({ verifier, scope: 'nav:aareg/write' }), (req, res) => {
 *   res.json({ consumer: req.maskinportenToken!.consumerOrg });
 * });
 * ```
 */
export function requireMaskinportenToken(options: RequireMaskinportenTokenOptions): RequestHandler {
  checkOptionsObject(options, OPTION_KEYS, '{ verifier, scope? }');
  const { verifier, onError, scope, audience, consumers, suppliers } = options;
  if (!isVerifier(verifier)) throw new ConfigurationError('verifier', 'must be a verifier from createMaskinportenVerifier() in @portvakt/verify.');
  checkFunction(onError, 'onError', '(error, req) => void');
  // Frozen, so the verifier compiles them once.
  const requirements: TokenRequirements = Object.freeze({ scope, audience, consumers, suppliers });
  validateTokenRequirements(requirements);
  const own = scope !== undefined || audience !== undefined || consumers !== undefined || suppliers !== undefined ? requirements : undefined;
  const report = createErrorReporter(onError);

  const fail = (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (!isVerificationError(error)) return next(error);
    report.failure(error, req);
    refuse(res, error);
  };

  return (req: Request, res: Response, next: NextFunction) => {
    let verified;
    try {
      verified = verifyRequest(verifier, req, own);
    } catch (error) {
      return fail(error, req, res, next);
    }
    if (verified instanceof Promise) verified.then(() => next(), (error: unknown) => fail(error, req, res, next));
    else next();
  };
}
