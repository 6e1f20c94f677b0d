// The API-provider side: verifying the Maskinporten token an incoming request carries. The flow
// (bearer, recall or verify, requirements, claims on the request) and the HTTP answers are the
// verification package's (verifyRequest, error.toProblem()); this file is Express glue.
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigurationError } from '@portvakt/core';
import type { PortvaktError } from '@portvakt/core';
import { isVerificationError, validateRequestRequirements, verifyRequest } from '@portvakt/verify';
import type { MaskinportenTokenClaims, MaskinportenVerifier, RequestRequirements } from '@portvakt/verify';
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
 * this middleware (on top of the verifier's own): `scope`, `audience`, `consumers`, `suppliers`,
 * `pid` (also a function of the request, such as `(req) => req.params.pid`), `consent`,
 * `systemUser`, and `organizationPolicy(claims, req)`.
 *
 * @example
 * ```ts
 * const options: RequireMaskinportenTokenOptions = { verifier, scope: 'nav:aareg', consumers: ['910753614'], pid: (req) => req.params.pid };
 * ```
 */
export interface RequireMaskinportenTokenOptions extends RequestRequirements<Request> {
  /** A verifier from `createMaskinportenVerifier()` in `@portvakt/verify`. */
  verifier: MaskinportenVerifier;
  /** Called with every refusal (core's typed verification error) for your logs; the answer does not change. */
  onError?: MaskinportenErrorHook | undefined;
}

const REQUIREMENT_KEYS = ['scope', 'audience', 'consumers', 'suppliers', 'pid', 'consent', 'systemUser', 'organizationPolicy'] as const;
const OPTION_KEYS = ['verifier', 'onError', ...REQUIREMENT_KEYS] as const;

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
 * `WWW-Authenticate`: 401 `token_missing` or `invalid_token`; 403 `insufficient_scope` (naming the
 * required scopes), `organization_not_allowed`, `person_not_allowed`, `consent_missing` or
 * `system_user_not_allowed`; 503 `key_set_unavailable` or `introspection_unavailable`. Anything
 * else (a bug, or an organisation policy that throws) goes to `next(err)`.
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
 * // A pid-restricted route: the token must be for the person in the path.
 * app.get('/api/persons/:pid', requireMaskinportenToken({ verifier, pid: (req) => req.params.pid }), handler);
 * ```
 */
export function requireMaskinportenToken(options: RequireMaskinportenTokenOptions): RequestHandler {
  checkOptionsObject(options, OPTION_KEYS, '{ verifier, scope? }');
  const { verifier, onError } = options;
  if (!isVerifier(verifier)) throw new ConfigurationError('verifier', 'must be a verifier from createMaskinportenVerifier() or createTexasIntrospectionVerifier() in @portvakt/verify.');
  checkFunction(onError, 'onError', '(error, req) => void');
  // A frozen copy of the caller's requirements (they may change their objects afterwards), so the
  // verifier compiles them once.
  const given: Record<string, unknown> = {};
  for (const key of REQUIREMENT_KEYS) if (options[key] !== undefined) given[key] = options[key];
  const checked = validateRequestRequirements<Request>(given);
  const own = Object.keys(checked).length === 0 ? undefined : checked;
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
