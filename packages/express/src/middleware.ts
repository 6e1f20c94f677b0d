import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigurationError, createAuthorizedFetch, createOriginPolicy } from '@portvakt/core';
import { assertTokenSource, resolveTokenRequest } from '@portvakt/core/internal';
import type { BearerToken, GetTokenOptions, TokenRequest, TokenSource } from '@portvakt/core';
import { MaskinportenHttpError } from './errors.js';
import { createErrorReporter } from './on-error.js';
import type { MaskinportenErrorHook } from './on-error.js';
import { claimsFor } from './claims.js';
import type { ClaimsResolver } from './claims.js';
import { checkFunction, checkOptionsObject } from './options.js';

/**
 * What the middleware puts on `req.maskinporten`.
 * @example
 * ```ts
 * const token = await req.maskinporten!.getToken({ scope: 'nav:aareg' });
 * ```
 */
export interface RequestMaskinporten {
  /** A token for this request's claims (plus overrides). Errors carry `status`, `expose: false`, `code`. */
  getToken(overrides?: GetTokenOptions): Promise<BearerToken>;
  /** `fetch` that adds this request's token for the allowed `origins` only (never across redirects elsewhere). */
  fetch(input: string | URL | globalThis.Request, init?: RequestInit): Promise<globalThis.Response>;
}

declare global {
  // Declaration merging into Express's Request (works for @types/express 4 and 5).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      maskinporten?: RequestMaskinporten;
    }
  }
}

/**
 * Options of {@link maskinporten}.
 *
 * @example
 * ```ts
 * const options: MaskinportenMiddlewareOptions = { client, scope: 'nav:aareg', origins: ['https://api.nav.no'] };
 * ```
 */
export interface MaskinportenMiddlewareOptions {
  /** A token source: a client from `createMaskinportenClient()`, or an Altinn token source built on one. */
  client: TokenSource<BearerToken>;
  scope?: string | readonly string[] | undefined;
  /** Fixed claims for every request. */
  request?: TokenRequest | undefined;
  /** Claims from the incoming request (merged over `scope`/`request`). */
  claims?: ClaimsResolver | undefined;
  /** Origins `req.maskinporten.fetch` may send the token to; required to use it. */
  origins?: readonly (string | URL)[] | undefined;
  /** Called with every claims or token failure (core's typed error) for your logs; the caller's answer does not change. */
  onError?: MaskinportenErrorHook | undefined;
}

const MIDDLEWARE_KEYS = ['client', 'scope', 'request', 'claims', 'origins', 'onError'] as const;

/** Checks every option; returns the adapter's own token request. */
function validate(options: MaskinportenMiddlewareOptions): TokenRequest {
  checkOptionsObject(options, MIDDLEWARE_KEYS, '{ client, scope }');
  assertTokenSource(options.client, 'client');
  checkFunction(options.claims, 'claims', '(req) => ({ systemUser: { orgno } })');
  checkFunction(options.onError, 'onError', '(error, req) => void');
  const request = resolveTokenRequest(options);
  if (options.origins !== undefined) createOriginPolicy(options.origins, 'origins');
  return request;
}

/**
 * Express middleware that gives each request `req.maskinporten.getToken()` and
 * `req.maskinporten.fetch()`, with claims from the request when `claims` is given. Options are
 * validated here (unknown keys too); claim errors (an invalid organisation number from the URL,
 * say) go to `next(err)` as 400 with `expose: false`. `onError` gets every claims and token
 * failure as core's typed error, for your logs.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { maskinporten } from '@portvakt/express';
 * const app = express();
 * app.use('/customers/:orgno', maskinporten({
 *   client, scope: 'skatteetaten:innrapportering', origins: ['https://api.skatteetaten.no'],
 *   claims: (req) => {
 *     const { orgno } = req.params; // string | string[] with @types/express 5
 *     if (typeof orgno !== 'string') throw new ConfigurationError('orgno', 'give one organisation number.');
 *     return { systemUser: { orgno } };
 *   },
 *   onError: (error, req) => logger.warn({ err: error, path: req.originalUrl }),
 * }));
 * app.get('/customers/:orgno/status', async (req, res) => {
 *   const upstream = await req.maskinporten!.fetch('https://api.skatteetaten.no/status');
 *   res.status(upstream.status).json(await upstream.json());
 * });
 * ```
 */
export function maskinporten(options: MaskinportenMiddlewareOptions): RequestHandler {
  const base = validate(options);
  const { client, claims, origins } = options;
  const report = createErrorReporter(options.onError);
  return (req: Request, _res: Response, next: NextFunction) => {
    void (async () => {
      let request: TokenRequest;
      try {
        request = await claimsFor(req, base, claims); // bad claims are refused now, as a 400
      } catch (error) {
        report.failure(error, req);
        return next(new MaskinportenHttpError(error, 'claims'));
      }
      const getToken = async (overrides?: GetTokenOptions) => {
        try {
          return await client.getToken({ ...request, ...overrides });
        } catch (error) {
          report.failure(error, req);
          throw new MaskinportenHttpError(error, 'token');
        }
      };
      let authorizedFetch: typeof fetch | undefined;
      req.maskinporten = {
        getToken,
        fetch(input, init) {
          if (!origins) throw new ConfigurationError('origins', 'is required to use req.maskinporten.fetch: list the origins that may receive the token.');
          authorizedFetch ??= createAuthorizedFetch(client, { request, origins });
          return authorizedFetch(input, init).catch((error: unknown) => {
            // A TypeError is fetch's own (network, redirect); the rest are token failures.
            if (error instanceof TypeError) throw error;
            report.failure(error, req);
            throw new MaskinportenHttpError(error, 'token');
          });
        },
      };
      next();
    })();
  };
}
