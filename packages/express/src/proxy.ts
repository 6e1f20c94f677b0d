// A token-injecting reverse proxy on http-proxy-middleware. The token is fetched before proxying
// because http-proxy-middleware's proxyReq hook is synchronous and cannot wait.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Options } from 'http-proxy-middleware';
import { ConfigurationError, PortvaktError, createOriginPolicy, validateTokenRequest } from '@portvakt/core';
import type { AccessToken, MaskinportenClient, TokenRequest } from '@portvakt/core';
import { isBodyConsumed } from './consumed-body.js';
import { classify, sendProblem } from './errors.js';
import type { ClaimsResolver } from './middleware.js';
import { createErrorReporter } from './on-error.js';
import type { MaskinportenErrorHook } from './on-error.js';
import { checkFunction, checkOptionsObject, refuseUnknownClaims } from './options.js';
import { checkProxyOptions } from './proxy-options.js';
import { isNormalisedPath } from './request-path.js';

const TOKEN = Symbol('portvakt.token');
type WithToken = IncomingMessage & { [TOKEN]?: AccessToken };

const BODY_ALREADY_READ = new PortvaktError(
  'ERR_PORTVAKT_CONFIGURATION',
  'maskinportenProxy() got a request whose body was already read by a body parser: mount the proxy before express.json(), express.urlencoded() or any other body parser.',
);

/**
 * Options of {@link maskinportenProxy}.
 *
 * @example
 * ```ts
 * const options: MaskinportenProxyOptions = { target: 'https://api.skatteetaten.no', client, scope: 'skatteetaten:x' };
 * ```
 */
export interface MaskinportenProxyOptions {
  /** The upstream API: https, or http on loopback. */
  target: string;
  client: MaskinportenClient;
  scope?: string | readonly string[] | undefined;
  request?: TokenRequest | undefined;
  claims?: ClaimsResolver | undefined;
  /** More http-proxy-middleware options (`pathRewrite`, `timeout`, ...); `target` and the `on.proxyReq` hook stay ours. */
  proxy?: Omit<Options, 'target'> | undefined;
  /** Called with every failure the proxy answers for (core's typed error) for your logs; the answer does not change. */
  onError?: MaskinportenErrorHook | undefined;
}

const PROXY_KEYS = ['target', 'client', 'scope', 'request', 'claims', 'proxy', 'onError'] as const;

function validate(options: MaskinportenProxyOptions): void {
  checkOptionsObject(options, PROXY_KEYS, '{ target, client, scope }');
  if (typeof options.client?.getToken !== 'function') throw new ConfigurationError('client', 'must be a client from createMaskinportenClient().');
  if (typeof options.target !== 'string' || URL.parse(options.target) === null) {
    throw new ConfigurationError('target', 'must be an absolute URL of the upstream API, e.g. "https://api.example.no".');
  }
  createOriginPolicy([new URL(options.target).origin], 'target');
  checkFunction(options.claims, 'claims', '(req) => ({ consumerOrg })');
  checkFunction(options.onError, 'onError', '(error, req) => void');
  refuseUnknownClaims(options.request, 'request');
  validateTokenRequest({ ...options.request, ...(options.scope !== undefined ? { scope: options.scope } : {}) });
  checkProxyOptions(options.proxy);
}

/**
 * A reverse proxy that puts a Maskinporten token on every request to `target`: it removes the
 * caller's `Authorization`, sets ours, streams bodies both ways and keeps paths and query strings.
 * When no token can be had the caller gets an RFC 9457 `application/problem+json` answer (502,
 * 503 or 504 with a stable `code`) and nothing secret. A path that is not normalised (dot
 * segments, encoded or not, backslashes, an absolute-form request target) is answered with 400
 * `invalid_path` before any token is fetched. A request whose body a body parser has already read
 * is answered with 500 `body_already_read` (and one log line): mount the proxy before the parser.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { maskinportenProxy } from '@portvakt/express';
 * const app = express();
 * app.use('/skatt', maskinportenProxy({ target: 'https://api.skatteetaten.no', client, scope: 'skatteetaten:testscope' }));
 * ```
 */
export function maskinportenProxy(options: MaskinportenProxyOptions): RequestHandler {
  validate(options);
  const base: TokenRequest = { ...options.request, ...(options.scope !== undefined ? { scope: options.scope } : {}) };
  const { client, claims } = options;
  const report = createErrorReporter(options.onError);
  const userOn = options.proxy?.on ?? {};

  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    changeOrigin: true,
    ...options.proxy,
    target: options.target,
    on: {
      ...userOn,
      proxyReq(proxyReq, req, res, opts) {
        const token = (req as WithToken)[TOKEN];
        proxyReq.removeHeader('authorization');
        if (token) proxyReq.setHeader('authorization', token.authorization);
        (userOn.proxyReq as ((...a: unknown[]) => void) | undefined)?.(proxyReq, req, res, opts);
      },
      error(err, req, res, targetUrl) {
        if (userOn.error) return (userOn.error as (...a: unknown[]) => void)(err, req, res, targetUrl);
        report.failure(err, req as Request);
        if ('setHeader' in res) sendProblem(res as ServerResponse, 502, 'upstream_unavailable');
        else res.destroy();
      },
    },
  });

  return (req: Request, res: Response, next: NextFunction) => {
    // Before anything else, so a refused request costs no token and reaches no upstream.
    if (!isNormalisedPath(req.url) || !isNormalisedPath(req.originalUrl ?? req.url)) return sendProblem(res, 400, 'invalid_path');
    if (isBodyConsumed(req)) {
      report.misconfiguration(BODY_ALREADY_READ, req, 'body');
      return sendProblem(res, 500, 'body_already_read');
    }
    void (async () => {
      let request = base;
      try {
        if (claims) {
          const resolved = await claims(req);
          refuseUnknownClaims(resolved, 'claims');
          request = { ...base, ...resolved };
          validateTokenRequest(request);
        }
      } catch (error) {
        report.failure(error, req);
        const { status, code } = classify(error, 'claims');
        return sendProblem(res, status, code);
      }
      const controller = new AbortController();
      const onClose = () => {
        if (!res.writableFinished) controller.abort();
      };
      res.once('close', onClose);
      try {
        const token = await client.getToken({ ...request, signal: controller.signal });
        Object.defineProperty(req, TOKEN, { value: token, enumerable: false, configurable: true });
      } catch (error) {
        res.off('close', onClose);
        if (controller.signal.aborted) return;
        report.failure(error, req);
        const { status, code } = classify(error, 'token');
        return sendProblem(res, status, code);
      }
      res.off('close', onClose);
      await proxy(req, res, next);
    })().catch(next);
  };
}
