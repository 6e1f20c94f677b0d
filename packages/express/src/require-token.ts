// The API-provider side: verifying the Maskinporten token an incoming request carries. The checks
// and the HTTP answers are core's (createMaskinportenVerifier, httpStatusOfVerificationFailure);
// this file reads the header, answers refusals and puts the claims on the request.
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigurationError, httpStatusOfVerificationFailure, isVerificationError, readBearerToken, validateTokenRequirements } from '@portvakt/core';
import type { MaskinportenTokenClaims, MaskinportenVerifier, TokenRequirements } from '@portvakt/core';
import { createErrorReporter } from './on-error.js';
import type { MaskinportenErrorHook } from './on-error.js';
import { checkFunction, checkOptionsObject } from './options.js';

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
  /** A verifier from `createMaskinportenVerifier()` in `@portvakt/core`. */
  verifier: MaskinportenVerifier;
  /** Called with every refusal (core's typed verification error) for your logs; the answer does not change. */
  onError?: MaskinportenErrorHook | undefined;
}

const OPTION_KEYS = ['verifier', 'onError', 'scope', 'audience', 'consumers', 'suppliers'] as const;

// Which verifier set a request's claims: a later requireMaskinportenToken() with the same verifier
// (a route's scope after a router's check) checks its requirements against them instead of
// verifying the token again. The symbol is this module's own, so nothing else can pass for
// verified. (A property, not a WeakMap: a WeakMap entry per request costs the garbage collector.)
const VERIFIED_BY = Symbol('portvakt.verifiedBy');
type MarkedRequest = Request & { [VERIFIED_BY]?: MaskinportenVerifier };

function isVerifier(value: unknown): value is MaskinportenVerifier {
  const candidate = value as Partial<MaskinportenVerifier> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.verify === 'function' && typeof candidate.recall === 'function' && typeof candidate.checkRequirements === 'function';
}

/** Answers a refusal as an RFC 9457 problem, with the bearer challenge RFC 6750 asks for. */
function refuse(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, title, detail, code, wwwAuthenticate } = httpStatusOfVerificationFailure(error);
  const body = JSON.stringify({ type: 'about:blank', title, status, detail, code });
  res.statusCode = status;
  if (wwwAuthenticate !== undefined) res.setHeader('www-authenticate', wwwAuthenticate);
  res.setHeader('content-type', 'application/problem+json');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
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
 * import { createMaskinportenVerifier } from '@portvakt/core';
 * import { requireMaskinportenToken } from '@portvakt/express';
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
  if (!isVerifier(verifier)) throw new ConfigurationError('verifier', 'must be a verifier from createMaskinportenVerifier() in @portvakt/core.');
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
    const previous = req.maskinportenToken;
    if (previous !== undefined && (req as MarkedRequest)[VERIFIED_BY] === verifier) {
      try {
        if (own !== undefined) verifier.checkRequirements(previous, own);
      } catch (error) {
        return fail(error, req, res, next);
      }
      return next();
    }
    const authorization = req.headers.authorization;
    let token: string;
    try {
      // A token the verifier remembers is the exact string it verified: answered without a promise.
      if (authorization?.startsWith('Bearer ') === true) {
        const claims = verifier.recall(authorization.slice(7), own);
        if (claims !== undefined) {
          req.maskinportenToken = claims;
          (req as MarkedRequest)[VERIFIED_BY] = verifier;
          return next();
        }
      }
      token = readBearerToken(authorization);
    } catch (error) {
      return fail(error, req, res, next);
    }
    verifier.verify(token, own).then(
      (claims) => {
        req.maskinportenToken = claims;
        (req as MarkedRequest)[VERIFIED_BY] = verifier;
        next();
      },
      (error: unknown) => fail(error, req, res, next),
    );
  };
}
