// The Fastify glue of the API-provider side. The flow (bearer, recall or verify, requirements,
// claims on the request) and the HTTP answers are the verification package's (verifyRequest(),
// error.toProblem()), so Fastify answers exactly as Express and Nest do: the status, the
// WWW-Authenticate challenge and the RFC 9457 problem body.
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import { ConfigurationError, problemBody } from '@portvakt/core';
import type { PortvaktError } from '@portvakt/core';
import { refuseUnknownOptions } from '@portvakt/core/internal';
import { isVerificationError, validateRequestRequirements, verifyRequest } from '@portvakt/verify';
import type { MaskinportenTokenClaims, MaskinportenVerifier, RequestRequirements } from '@portvakt/verify';

/**
 * A route's requirements in its `config.maskinporten`: requirements on top of the plugin's, `true`
 * (the plugin's alone, for a route under `global: false`), or `false` (an open route under
 * `global: true`).
 *
 * @example
 * ```ts
 * app.get('/persons/:pid', { config: { maskinporten: { scope: 'nav:person', pid: (req) => (req.params as { pid: string }).pid } } }, handler);
 * ```
 */
export type MaskinportenRouteConfig = boolean | RequestRequirements<FastifyRequest>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified claims of the request's Maskinporten token, set by `@portvakt/fastify`. */
    maskinportenToken?: MaskinportenTokenClaims | undefined;
  }
  interface FastifyInstance {
    /**
     * A hook (for `onRequest`, `preHandler` or `addHook`) that requires a Maskinporten token
     * meeting the plugin's requirements and these. The same verifier checks a request once: a
     * second hook checks only its own requirements against the claims.
     */
    requireMaskinportenToken(requirements?: RequestRequirements<FastifyRequest>): onRequestHookHandler;
  }
  interface FastifyContextConfig {
    /** This route's Maskinporten requirements (see `@portvakt/fastify`). */
    maskinporten?: MaskinportenRouteConfig | undefined;
  }
}

/**
 * Called with every refusal (the verification package's typed error) and the request it happened
 * on, for your logs; what it returns or throws does not change the answer.
 *
 * @example
 * ```ts
 * const onError: MaskinportenFastifyErrorHook = (error, request) => request.log.info({ code: error.code }, 'token refused');
 * ```
 */
export type MaskinportenFastifyErrorHook = (error: PortvaktError, request: FastifyRequest) => void;

/**
 * Options of {@link maskinportenFastify}: the verifier, requirements for every guarded route (on
 * top of the verifier's own), which routes are guarded, and a hook for refusals.
 *
 * @example
 * ```ts
 * const options: MaskinportenFastifyOptions = { verifier, scope: 'nav:cases/read', global: true };
 * ```
 */
export interface MaskinportenFastifyOptions extends RequestRequirements<FastifyRequest> {
  /** A verifier from `createMaskinportenVerifier()` or `createTexasIntrospectionVerifier()` in `@portvakt/verify`. */
  verifier: MaskinportenVerifier;
  /**
   * `true` (default): every route of the app is guarded, except those with
   * `config: { maskinporten: false }`. `false`: only routes with a `config.maskinporten`.
   */
  global?: boolean | undefined;
  /** Called with every refusal, for your logs. */
  onError?: MaskinportenFastifyErrorHook | undefined;
}

const REQUIREMENT_KEYS = ['scope', 'audience', 'consumers', 'suppliers', 'pid', 'consent', 'systemUser', 'organizationPolicy'] as const;
// Fastify's own registration options reach the plugin too.
const OPTION_KEYS = ['verifier', 'global', 'onError', ...REQUIREMENT_KEYS, 'prefix', 'logLevel', 'logSerializers'] as const;
/** Where onRoute keeps a route's checked requirements, in the route's own config. */
const ROUTE_REQUIREMENTS = Symbol('portvakt.fastify.routeRequirements');

type Requirements = RequestRequirements<FastifyRequest>;
type RouteRequirements = readonly Requirements[] | 'open';

function isVerifier(value: unknown): value is MaskinportenVerifier {
  const candidate = value as Partial<MaskinportenVerifier> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.verify === 'function' && typeof candidate.recall === 'function' && typeof candidate.checkRequirements === 'function';
}

/** The requirement members of `options`, copied (the caller may change its object) and frozen, or undefined. */
function ownRequirements(options: Record<string, unknown>, field: string): Requirements | undefined {
  const given: Record<string, unknown> = {};
  for (const key of REQUIREMENT_KEYS) if (options[key] !== undefined) given[key] = options[key];
  const checked = validateRequestRequirements<FastifyRequest>(given, field);
  return Object.keys(checked).length === 0 ? undefined : checked;
}

/** Answers a refusal as an RFC 9457 problem, with the bearer challenge RFC 6750 asks for. */
function refuse(reply: FastifyReply, error: PortvaktError): void {
  const problem = error.toProblem();
  // A Buffer, so Fastify sends the content type as given (a string would get "; charset=utf-8"
  // appended): the same header as the Express middleware's.
  reply.code(problem.status).headers({ ...problem.headers, 'content-type': 'application/problem+json', 'cache-control': 'no-store' }).send(Buffer.from(JSON.stringify(problemBody(problem))));
}

/** The hook that runs `requirements` for a request, answering refusals itself. */
function createHook(verifier: MaskinportenVerifier, report: (error: PortvaktError, request: FastifyRequest) => void, requirementsOf: (request: FastifyRequest) => RouteRequirements | Requirements | undefined): onRequestHookHandler {
  const fail = (error: unknown, request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    if (!isVerificationError(error)) return done(error as Error);
    report(error, request);
    refuse(reply, error);
  };
  // Callback style: a token the verifier remembers is answered without a promise.
  return function maskinportenToken(request, reply, done) {
    let verified;
    try {
      const requirements = requirementsOf(request);
      if (requirements === 'open') return done();
      verified = verifyRequest(verifier, request, requirements);
    } catch (error) {
      return fail(error, request, reply, done);
    }
    if (verified instanceof Promise) verified.then(() => done(), (error: unknown) => fail(error, request, reply, done));
    else done();
  };
}

/** Sets the plugin up on `fastify`; throws a `ConfigurationError` for a bad option. */
function setUp(fastify: FastifyInstance, options: MaskinportenFastifyOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigurationError('options', 'must be an object: { verifier, scope? }.');
  refuseUnknownOptions(options, OPTION_KEYS, '', { owner: '@portvakt/fastify' });
  const { verifier, global = true, onError } = options;
  if (!isVerifier(verifier)) throw new ConfigurationError('verifier', 'must be a verifier from createMaskinportenVerifier() or createTexasIntrospectionVerifier() in @portvakt/verify.');
  if (typeof global !== 'boolean') throw new ConfigurationError('global', 'must be true (every route is guarded unless its config says maskinporten: false) or false (only routes with config.maskinporten).');
  if (onError !== undefined && typeof onError !== 'function') throw new ConfigurationError('onError', 'must be a function (error, request) => void, or left out.');
  const pluginLevel = ownRequirements(options as unknown as Record<string, unknown>, '');
  const base: readonly Requirements[] = pluginLevel === undefined ? Object.freeze([]) : Object.freeze([pluginLevel]);

  let hookFailed = false;
  const report = (error: PortvaktError, request: FastifyRequest): void => {
    if (onError === undefined) return;
    try {
      const returned: unknown = onError(error, request);
      if (returned instanceof Promise) returned.catch(() => undefined);
    } catch {
      if (!hookFailed) request.log.error('@portvakt/fastify: the onError hook threw; its error was ignored.');
      hookFailed = true;
    }
  };

  /** A route's requirements, checked and frozen when the route is added: a mistake stops the app at start-up. */
  const routeRequirements = (config: unknown, where: string): RouteRequirements | undefined => {
    if (config === undefined) return global ? base : undefined;
    if (config === false) return 'open';
    if (config === true) return base;
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new ConfigurationError(`${where}config.maskinporten`, 'must be requirements such as { scope: "nav:read" }, true, or false.');
    }
    refuseUnknownOptions(config, REQUIREMENT_KEYS, `${where}config.maskinporten.`);
    const own = ownRequirements(config as Record<string, unknown>, `${where}config.maskinporten.`);
    return own === undefined ? base : Object.freeze([...base, own]);
  };

  fastify.decorateRequest('maskinportenToken', undefined);
  fastify.decorate('requireMaskinportenToken', function requireMaskinportenToken(requirements?: Requirements): onRequestHookHandler {
    if (requirements !== undefined && (typeof requirements !== 'object' || requirements === null || Array.isArray(requirements))) {
      throw new ConfigurationError('requirements', 'must be an object such as { scope: "nav:write" }, or left out.');
    }
    if (requirements !== undefined) refuseUnknownOptions(requirements, REQUIREMENT_KEYS, 'requirements.');
    const own = requirements === undefined ? undefined : ownRequirements(requirements as Record<string, unknown>, 'requirements.');
    const list: readonly Requirements[] = own === undefined ? base : Object.freeze([...base, own]);
    return createHook(verifier, report, () => list);
  });

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as Record<PropertyKey, unknown>;
    const requirements = routeRequirements(config.maskinporten, `${route.method} ${route.url} `);
    // Kept on the route's config, which Fastify hands to every request of the route: a copy, since
    // the caller's object may be frozen or shared by other routes.
    route.config = { ...config, [ROUTE_REQUIREMENTS]: requirements } as NonNullable<RouteOptions['config']>;
  });

  fastify.addHook(
    'onRequest',
    createHook(verifier, report, (request) => {
      const config = request.routeOptions.config as unknown as Record<PropertyKey, unknown> | undefined;
      if (config !== undefined && Object.hasOwn(config, ROUTE_REQUIREMENTS)) return (config[ROUTE_REQUIREMENTS] as RouteRequirements | undefined) ?? 'open';
      // A route added before the plugin, or Fastify's 404 handler: the plugin's rule, read now.
      return routeRequirements(config?.maskinporten, '') ?? 'open';
    }),
  );
}

const plugin: FastifyPluginCallback<MaskinportenFastifyOptions> = (fastify, options, done) => {
  try {
    setUp(fastify, options);
  } catch (error) {
    return done(error as Error);
  }
  done();
};

// What fastify-plugin would set: the hook and decorators reach the whole app (no encapsulation),
// the plugin has a name in Fastify's errors and `printPlugins()`, and it says which Fastify it is for.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@portvakt/fastify',
  [Symbol.for('plugin-meta')]: { name: '@portvakt/fastify', fastify: '5.x' },
});

/**
 * The Fastify 5 plugin that verifies incoming Maskinporten access tokens. Every route of the app
 * is guarded (`global: false`: only routes with a `config.maskinporten`), with the verifier's
 * requirements, the plugin's, and the route's `config.maskinporten`; `app.requireMaskinportenToken()`
 * makes a hook for an encapsulated context (a "router") or a route's `onRequest`. Requirements of
 * every level apply: `scope`, `audience`, `consumers`, `suppliers`, `pid` (also a function of the
 * request), `consent`, `systemUser` and `organizationPolicy(claims, request)`.
 *
 * The claims go on `request.maskinportenToken`. A refusal is answered in the hook, exactly as the
 * Express middleware and the Nest guard answer it: 401, 403 or 503 as `application/problem+json`
 * (`{ type, title, status, detail, code }`) with `WWW-Authenticate` and `Cache-Control: no-store`.
 * Anything else (an organisation policy that throws) goes to Fastify's error handler.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createMaskinportenVerifier } from '@portvakt/verify';
 * import { maskinportenFastify } from '@portvakt/fastify';
 *
 * const app = Fastify();
 * await app.register(maskinportenFastify, { verifier: createMaskinportenVerifier({ environment: 'prod' }), scope: 'nav:cases/read' });
 * app.get('/cases', async (request) => ({ consumer: request.maskinportenToken!.consumerOrg }));
 * app.get('/persons/:pid', { config: { maskinporten: { pid: (req) => (req.params as { pid: string }).pid } } }, handler);
 * app.get('/health', { config: { maskinporten: false } }, async () => ({ ok: true }));
 * ```
 */
export const maskinportenFastify: FastifyPluginCallback<MaskinportenFastifyOptions> = plugin;
