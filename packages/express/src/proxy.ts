// A token-injecting reverse proxy on http-proxy-middleware 3 or 4 (loaded on first use). A request
// is checked before anything is fetched: normalised path, body not yet read, upstream allowed.
// The token is fetched before proxying because http-proxy-middleware's proxyReq hook is
// synchronous and cannot wait.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { createProxyMiddleware, Options, Plugin, RequestHandler as ProxyHandler } from 'http-proxy-middleware';
import { ConfigurationError } from '@portvakt/core';
import { assertTokenSource, resolveTokenRequest } from '@portvakt/core/internal';
import type { BearerToken, TokenRequest, TokenSource } from '@portvakt/core';
import { isBodyConsumed } from './consumed-body.js';
import { ownProblem, problemFor, sendProblem } from './errors.js';
import type { ClaimsResolver } from './claims.js';
import { createErrorReporter } from './on-error.js';
import type { MaskinportenErrorHook } from './on-error.js';
import { claimsFor } from './claims.js';
import { checkFunction, checkOptionsObject } from './options.js';
import { checkProxyOptions, checkUpstream } from './proxy-options.js';
import type { RouterTarget } from './proxy-options.js';
import { isNormalisedPath } from './request-path.js';

const TOKEN = Symbol('portvakt.token');
const UPSTREAM = Symbol('portvakt.upstream');
type ProxiedRequest = IncomingMessage & { [TOKEN]?: BearerToken; [UPSTREAM]?: RouterTarget };
// http-proxy-middleware 4 calls a router with (req, res, options); 3 with req only.
type Router = (req: Request, res: Response, options: Options) => unknown;

/** http-proxy-middleware options that would send the request elsewhere; refused. */
type RefusedProxyOption = 'target' | 'forward' | 'toProxy' | 'followRedirects' | 'ws' | 'auth';

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
  /** A token source: a client from `createMaskinportenClient()`, or an Altinn token source built on one. */
  client: TokenSource<BearerToken>;
  scope?: string | readonly string[] | undefined;
  request?: TokenRequest | undefined;
  claims?: ClaimsResolver | undefined;
  /**
   * More http-proxy-middleware options (`pathRewrite`, `timeout`, `router`, ...). A `router`'s
   * answers must follow the rule for `target`. Options that send the request elsewhere (`forward`,
   * `toProxy`, `followRedirects`), `ws` and `auth` are refused.
   */
  proxy?: Omit<Options, RefusedProxyOption> | undefined;
  /** Called with every failure the proxy answers for (core's typed error) for your logs; the answer does not change. */
  onError?: MaskinportenErrorHook | undefined;
}

const PROXY_KEYS = ['target', 'client', 'scope', 'request', 'claims', 'proxy', 'onError'] as const;

const BODY_ALREADY_READ = new ConfigurationError(
  'maskinportenProxy',
  'got a request whose body was already read by a body parser: mount the proxy before express.json(), express.urlencoded() or any other body parser.',
);

function proxyUnavailable(cause: unknown): ConfigurationError {
  return new ConfigurationError(
    'http-proxy-middleware',
    'could not be loaded, so maskinportenProxy() cannot start: install version 3 or 4 (npm i http-proxy-middleware). It is loaded at run time and never bundled, so a bundled app needs it installed where the bundle runs.',
    { cause },
  );
}

// http-proxy-middleware is an optional peer, loaded when the first proxy is created. Its name must
// not be a literal in an import(): bundlers (esbuild, tsup, webpack) resolve every literal import
// at build time, even one that never runs, and so failed to bundle an app that uses only the
// middleware and has not installed it. A name passed as a parameter is left to run time, where
// Node resolves it like any import: from the app's node_modules unbundled, from beside the bundle
// bundled (it is never put in a bundle). The comments keep webpack from turning the import into an
// empty context and Vite from warning. tsc turns this import() into require() in the CommonJS
// build, as it did the literal one, so CommonJS (and Jest, which has no require(esm)) loads major 3
// through require; major 4 is ESM only and needs Node's require(esm) there.
const HTTP_PROXY_MIDDLEWARE = 'http-proxy-middleware';

type CreateProxyMiddleware = typeof createProxyMiddleware;

function importAtRunTime(specifier: string): Promise<{ createProxyMiddleware?: unknown; default?: { createProxyMiddleware?: unknown } }> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}

let loading: Promise<CreateProxyMiddleware> | undefined;

/** Imports http-proxy-middleware once per process (3 or 4; both export createProxyMiddleware); rejects when it is not installed. */
function loadHttpProxyMiddleware(): Promise<CreateProxyMiddleware> {
  loading ??= importAtRunTime(HTTP_PROXY_MIDDLEWARE).then((module) => {
    const create = module.createProxyMiddleware ?? module.default?.createProxyMiddleware;
    if (typeof create !== 'function') throw new TypeError('http-proxy-middleware has no createProxyMiddleware export');
    return create as CreateProxyMiddleware;
  });
  return loading;
}

/** Checks every option; returns the proxy's own token request. */
function validate(options: MaskinportenProxyOptions): TokenRequest {
  checkOptionsObject(options, PROXY_KEYS, '{ target, client, scope }');
  assertTokenSource(options.client, 'client');
  if (typeof options.target !== 'string' || URL.parse(options.target) === null) {
    throw new ConfigurationError('target', 'must be an absolute URL of the upstream API, e.g. "https://api.example.no".');
  }
  checkUpstream(options.target, 'target');
  checkFunction(options.claims, 'claims', '(req) => ({ consumerOrg })');
  checkFunction(options.onError, 'onError', '(error, req) => void');
  const request = resolveTokenRequest(options);
  checkProxyOptions(options.proxy);
  return request;
}

/**
 * A reverse proxy that puts a Maskinporten token on every request to `target`: it removes the
 * caller's `Authorization`, sets ours, streams bodies both ways and keeps paths and query strings.
 *
 * Every answer it gives itself is RFC 9457 `application/problem+json` with a stable `code` and
 * nothing secret: 400 `invalid_path` for a path that is not normalised (dot segments, encoded or
 * not, backslashes, absolute-form request targets), 500 `body_already_read` when a body parser
 * ran first, 502 `upstream_not_allowed` when a `proxy.router` answer breaks the rule for `target`,
 * and 502/503/504 when no token can be had. http-proxy-middleware (3 or 4) is imported when the
 * first proxy is created.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { maskinportenProxy } from '@portvakt/express';
 * const app = express();
 * app.use('/skatt', maskinportenProxy({ target: 'https://api.skatteetaten.no', client, scope: 'skatteetaten:testscope' }));
 * app.use(express.json()); // body parsers after the proxy
 * ```
 */
export function maskinportenProxy(options: MaskinportenProxyOptions): RequestHandler {
  const base = validate(options);
  const { client, claims } = options;
  const report = createErrorReporter(options.onError);
  const { on: userOn = {}, plugins: userPlugins = [], router, ...passedOn } = options.proxy ?? {};
  const { proxyReq: userProxyReq, error: userError, ...otherEvents } = userOn;
  const routeRequest = typeof router === 'function' ? (router as Router) : undefined;
  // Routes to the upstream already checked for this request (the static target when none).
  const routeToChecked = ((req: IncomingMessage) => (req as ProxiedRequest)[UPSTREAM]) as Options['router'];

  const setAuthorization = (proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse, opts: unknown) => {
    const token = (req as ProxiedRequest)[TOKEN];
    delete (req as ProxiedRequest)[TOKEN];
    proxyReq.removeHeader('authorization');
    if (token) proxyReq.setHeader('authorization', token.authorization);
    (userProxyReq as ((...args: unknown[]) => void) | undefined)?.(proxyReq, req, res, opts);
  };
  const answerError = (error: Error, req: IncomingMessage, res: ServerResponse | NodeJS.WritableStream, target: unknown) => {
    if (userError) return (userError as (...args: unknown[]) => void)(error, req, res, target);
    report.failure(error, req as Request);
    if ('setHeader' in res) sendProblem(res, ownProblem(502, 'upstream_unavailable'));
    else (res as { destroy?: () => void }).destroy?.();
  };
  // Registered as a plugin, not through `on`, so it runs even with `ejectPlugins: true`.
  const portvaktPlugin: Plugin = (proxyServer) => {
    proxyServer.on('proxyReq', setAuthorization);
    proxyServer.on('error', answerError);
  };
  // http-proxy-middleware's option types predate exactOptionalPropertyTypes; the values are ones
  // its own types allow.
  const proxyOptions = {
    changeOrigin: true,
    ...passedOn,
    target: options.target,
    ...(routeRequest ? { router: routeToChecked } : router === undefined ? {} : { router }),
    // An `error` handler here keeps http-proxy-middleware's own error page out; ours answers.
    on: { ...otherEvents, error: () => undefined },
    plugins: [portvaktPlugin, ...userPlugins],
  } as Options;

  let proxy: ProxyHandler | undefined;
  const ready = loadHttpProxyMiddleware().then((create) => (proxy = create<IncomingMessage, ServerResponse>(proxyOptions)));
  ready.catch(() => undefined); // reported on the first request

  const forward = async (req: Request, res: Response, next: NextFunction) => {
    let request: TokenRequest;
    try {
      request = await claimsFor(req, base, claims);
    } catch (error) {
      report.failure(error, req);
      return sendProblem(res, problemFor(error, 'claims'));
    }
    if (routeRequest) {
      let upstream: unknown;
      try {
        upstream = await routeRequest(req, res, proxyOptions);
      } catch (error) {
        report.failure(error, req, 'proxy.router');
        return sendProblem(res, ownProblem(502, 'upstream_unavailable'));
      }
      if (upstream !== undefined && upstream !== null && upstream !== '') {
        // The same rule as `target`, per request: the token goes over https, or http on loopback.
        try {
          checkUpstream(upstream, 'proxy.router');
        } catch (error) {
          report.failure(error, req);
          return sendProblem(res, ownProblem(502, 'upstream_not_allowed'));
        }
        Object.defineProperty(req, UPSTREAM, { value: upstream, enumerable: false, configurable: true });
      }
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
      return sendProblem(res, problemFor(error, 'token'));
    }
    res.off('close', onClose);
    await (proxy as ProxyHandler)(req, res, (error?: unknown) => {
      if (error === undefined) {
        // `pathFilter` did not match: the request goes on without our token.
        delete (req as ProxiedRequest)[TOKEN];
        return next();
      }
      // http-proxy-middleware 4 also passes errors here after the error event has been answered.
      if (res.headersSent) return;
      report.failure(error, req);
      sendProblem(res, ownProblem(502, 'upstream_unavailable'));
    });
  };

  return (req: Request, res: Response, next: NextFunction) => {
    // Before anything else, so a refused request costs no token and reaches no upstream.
    if (!isNormalisedPath(req.url) || !isNormalisedPath(req.originalUrl ?? req.url)) return sendProblem(res, ownProblem(400, 'invalid_path'));
    if (isBodyConsumed(req)) {
      report.misconfiguration(BODY_ALREADY_READ, req, 'body');
      return sendProblem(res, ownProblem(500, 'body_already_read'));
    }
    if (proxy) return void forward(req, res, next).catch(next);
    ready.then(
      () => forward(req, res, next),
      (error: unknown) => {
        report.misconfiguration(proxyUnavailable(error), req, 'module');
        sendProblem(res, ownProblem(500, 'proxy_unavailable'));
      },
    ).catch(next);
  };
}
