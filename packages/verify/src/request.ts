/**
 * The request-verification flow every adapter shares (Express middleware, the Nest guard, the
 * Fastify plugin, a Hono hook): which verifier already checked this request, reading the bearer
 * token, recall or verify, the requirements (those that are functions of the request included),
 * and putting the claims on the request. Adapters only call it and answer a refusal with the
 * error's `toProblem()`.
 */
import { ConfigurationError } from '@portvakt/core';
import { readBearerToken } from './bearer.js';
import type { MaskinportenTokenClaims } from './claims.js';
import { RequirementNotMetError } from './errors.js';
import { isOwnVerifier } from './flow.js';
import { isDeeplyFrozen, policyCheck, REQUEST_CHECK, REQUIREMENT_KEYS, validateTokenRequirements } from './requirements.js';
import type { ClaimsCheck, ConsentRequirement, TokenRequirements } from './requirements.js';
import type { MaskinportenVerifier } from './verifier.js';

/**
 * What the flow needs of an incoming request: its headers (Node's `IncomingMessage`, Express,
 * Fastify and Nest requests all have them), and the property the verified claims go to.
 *
 * @example
 * ```ts
 * const request: VerifiableRequest = { headers: { authorization: `Bearer ${token}` } };
 * ```
 */
export interface VerifiableRequest {
  headers: { authorization?: string | readonly string[] | undefined };
  /** Set by {@link verifyRequest} to the token's verified claims. */
  maskinportenToken?: MaskinportenTokenClaims | undefined;
}

/**
 * Requirements of a guard (a router, a route, a controller, a handler) or of one
 * {@link verifyRequest} call: {@link TokenRequirements}, where `pid` may also be a function of the
 * request (the person the request is about, from its path, say), and `organizationPolicy` also
 * gets the request.
 *
 * @example
 * ```ts
 * const requirements: RequestRequirements<express.Request> = {
 *   scope: 'nav:cases/read',
 *   pid: (req) => req.params.pid,
 *   organizationPolicy: async (claims, req) => cases.mayRead(claims.consumerOrg, req.params.caseId),
 * };
 * ```
 */
export interface RequestRequirements<Request = VerifiableRequest> extends Omit<TokenRequirements, 'pid' | 'consent' | 'organizationPolicy'> {
  /**
   * `true`: the token must carry a `pid`; a string: the 11-digit pid it must be for; a function:
   * the person this request is about, read from the request. A function that gives no string (no
   * person in the request) refuses every token: 403 `person_not_allowed`.
   */
  pid?: true | string | ((request: Request) => string | undefined) | undefined;
  /**
   * {@link TokenRequirements.consent}, where `from` may also be a function of the request: the
   * person (or organisation) the request is about, who must be the one who consented.
   */
  consent?: string | (Omit<ConsentRequirement, 'from'> & { from?: string | ((request: Request) => string | undefined) | undefined }) | undefined;
  /**
   * The API's own decision on the token's organisation for this request (a function of the claims
   * and the request; may be async). Anything but `true` refuses with 403 `organization_not_allowed`;
   * a throw or rejection is an error of the API.
   */
  organizationPolicy?: ((claims: MaskinportenTokenClaims, request: Request) => boolean | Promise<boolean>) | undefined;
}

// Which verifier set a request's claims, and which claims it set. A second pass with the same
// verifier (a router's check, then a route's; a global guard, then a controller's) checks only its
// own requirements against them instead of verifying again, as long as `maskinportenToken` still
// holds those very claims: claims put there by anything else are never taken as verified. The map
// is this module's own, so nothing else can pass for verified. (A WeakMap, not a symbol property
// on the request: a second new property on Node's IncomingMessage cost about 3 % of a loopback
// request in tools/bench/verify.bench.mjs, against none measurable for the map.)
const verifiedBy = new WeakMap<object, { readonly verifier: MaskinportenVerifier; readonly claims: MaskinportenTokenClaims }>();

/** A person read from the request, who consented, and a policy that gets the request: the parts checked per request. */
interface RequestParts {
  readonly pidOf: ((request: never) => unknown) | undefined;
  readonly consentFromOf: ((request: never) => unknown) | undefined;
  readonly policy: ((claims: MaskinportenTokenClaims, request: never) => unknown) | undefined;
}

/** A list of requirements, split into what the verifier compiles once and what needs the request. */
interface Plan {
  /** Undefined (none), one requirements object, or a frozen list of them: handed to the verifier. */
  readonly fixed: TokenRequirements | readonly TokenRequirements[] | undefined;
  readonly perRequest: readonly RequestParts[];
}

const EMPTY_PLAN: Plan = Object.freeze({ fixed: undefined, perRequest: Object.freeze([]) });

// Each frozen requirements object split once: a guard that builds a new list per request (Nest's,
// of a controller's and a handler's) still hands the verifier the same objects, compiled once.
const itemSplits = new WeakMap<object, { fixed: TokenRequirements; parts: RequestParts | undefined }>();

function splitRequirements(requirements: RequestRequirements<never> | readonly RequestRequirements<never>[]): Plan {
  const list = (Array.isArray(requirements) ? requirements : [requirements]) as readonly RequestRequirements<never>[];
  const fixed: TokenRequirements[] = [];
  const perRequest: RequestParts[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) {
      fixed.push(item);
      continue;
    }
    const known = itemSplits.get(item);
    if (known !== undefined) {
      fixed.push(known.fixed);
      if (known.parts !== undefined) perRequest.push(known.parts);
      continue;
    }
    const pidOf = typeof item.pid === 'function' ? item.pid : undefined;
    const consent = item.consent;
    const consentFromOf = typeof consent === 'object' && consent !== null && typeof consent.from === 'function' ? consent.from : undefined;
    const policy = item.organizationPolicy;
    if (pidOf === undefined && consentFromOf === undefined && policy === undefined) {
      fixed.push(item as TokenRequirements);
      if (Object.isFrozen(item)) itemSplits.set(item, { fixed: item as TokenRequirements, parts: undefined });
      continue;
    }
    if (policy !== undefined && typeof policy !== 'function') {
      throw new ConfigurationError('organizationPolicy', 'must be a function (claims, request) => boolean | Promise<boolean>, or left out.');
    }
    const { pid, organizationPolicy: _policy, consent: _consent, ...rest } = item;
    // Own members (a misspelt one is refused when compiled), then every other requirement read by
    // its name: one a class's getter or a prototype gives must not be dropped.
    const fixedPart: TokenRequirements = { ...rest };
    for (const name of REQUIREMENT_KEYS) {
      if (name === 'pid' || name === 'organizationPolicy' || name === 'consent') continue;
      const value = (item as Record<string, unknown>)[name];
      if (value !== undefined) (fixedPart as Record<string, unknown>)[name] = value;
    }
    if (pidOf === undefined && pid !== undefined) fixedPart.pid = pid as true | string;
    if (consent !== undefined) fixedPart.consent = consentFromOf === undefined ? (consent as TokenRequirements['consent']) : { ...(consent as ConsentRequirement), from: undefined };
    const split = { fixed: Object.freeze(fixedPart), parts: Object.freeze({ pidOf, consentFromOf, policy }) };
    // A frozen item (and its consent, which a function may sit in) cannot change: split once.
    if (Object.isFrozen(item) && (typeof consent !== 'object' || consent === null || Object.isFrozen(consent))) itemSplits.set(item, split);
    fixed.push(split.fixed);
    perRequest.push(split.parts);
  }
  return Object.freeze({ fixed: fixed.length === 0 ? undefined : fixed.length === 1 ? fixed[0] : Object.freeze(fixed), perRequest: Object.freeze(perRequest) });
}

// Frozen requirement objects and lists (an adapter's route options) cannot change, so each is split
// once; anything else is split on each call.
const plans = new WeakMap<object, Plan>();
// The last frozen input and its plan: a hot route asks with the same object every time.
let lastInput: object | undefined;
let lastPlan: Plan = EMPTY_PLAN;
function planOf(requirements: RequestRequirements<never> | readonly RequestRequirements<never>[] | undefined): Plan {
  if (requirements === undefined) return EMPTY_PLAN;
  if (requirements === lastInput) return lastPlan;
  if (typeof requirements !== 'object' || requirements === null || !Object.isFrozen(requirements)) return splitRequirements(requirements);
  let plan = plans.get(requirements);
  if (plan === undefined) {
    plan = splitRequirements(requirements);
    // Kept only for an object frozen all the way down: a nested list frozen with it cannot change.
    if (!isDeeplyFrozen(requirements)) return plan;
    plans.set(requirements, plan);
  }
  lastInput = requirements;
  lastPlan = plan;
  return plan;
}

/**
 * Checks a guard's requirements the way {@link verifyRequest} will read them, so a guard refuses a
 * wrong option when it is set up rather than on the first request: {@link TokenRequirements}, with
 * `pid` and `consent.from` also as functions of the request and `organizationPolicy` as a function
 * of the claims and the request. Throws a `ConfigurationError` naming the field (`fieldPrefix` +
 * `pid`, ...). Returns a frozen copy (lists and nested objects copied too, functions as they are):
 * what the caller does to its object afterwards changes nothing, and the copy is compiled once.
 *
 * @example
 * ```ts
 * import { validateRequestRequirements } from '@portvakt/verify';
 * const own = validateRequestRequirements({ scope: 'nav:cases', pid: (req: { params: { pid: string } }) => req.params.pid });
 * validateRequestRequirements({ pid: 'yes' }); // ConfigurationError: pid must be true, an 11-digit pid or a function of the request
 * ```
 */
export function validateRequestRequirements<Request = VerifiableRequest>(requirements: unknown, fieldPrefix = ''): Readonly<RequestRequirements<Request>> {
  if (typeof requirements !== 'object' || requirements === null || Array.isArray(requirements)) {
    throw new ConfigurationError(fieldPrefix === '' ? 'requirements' : fieldPrefix.trim(), 'must be an object such as { scope: "nav:aareg" }.');
  }
  const { pid, organizationPolicy, consent, ...rest } = requirements as RequestRequirements<never>;
  if (organizationPolicy !== undefined && typeof organizationPolicy !== 'function') {
    throw new ConfigurationError(`${fieldPrefix}organizationPolicy`, 'must be a function (claims, request) => boolean | Promise<boolean>, or left out.');
  }
  if (typeof pid !== 'function' && pid !== undefined && pid !== true && typeof pid !== 'string') {
    throw new ConfigurationError(`${fieldPrefix}pid`, 'must be true (a pid is required), the 11-digit pid the token must be for, or a function of the request giving the person it is about.');
  }
  const consentFrom = typeof consent === 'object' && consent !== null ? consent.from : undefined;
  const fixedConsent = typeof consentFrom === 'function' ? { ...(consent as ConsentRequirement), from: undefined } : consent;
  validateTokenRequirements({ ...rest, pid: typeof pid === 'function' ? undefined : pid, consent: fixedConsent }, fieldPrefix);
  return copyRequirements(requirements as Record<string, unknown>) as Readonly<RequestRequirements<Request>>;
}

/** A frozen copy of checked requirements, arrays and plain objects copied all the way down (functions kept). */
function copyRequirements(value: Record<string, unknown>, top = true): Readonly<Record<string, unknown>> {
  const copy: Record<string, unknown> = {};
  // Own members, then (at the top) every requirement read by its name: one a class's getter or a
  // prototype gives is kept, as the verifier would read it from the original.
  const names = top ? new Set([...Object.keys(value), ...REQUIREMENT_KEYS]) : Object.keys(value);
  for (const key of names) {
    const member = value[key];
    if (member === undefined) continue;
    copy[key] = Array.isArray(member) ? Object.freeze([...(member as unknown[])]) : typeof member === 'object' && member !== null ? copyRequirements(member as Record<string, unknown>, false) : member;
  }
  return Object.freeze(copy);
}

/** The per-request parts of a plan, bound to one request: a check on the claims. */
function requestCheck(parts: readonly RequestParts[], request: unknown): ClaimsCheck {
  return (claims) => {
    let pending: Promise<void> | undefined;
    for (const { pidOf, consentFromOf, policy } of parts) {
      if (pidOf !== undefined) {
        const person = (pidOf as (request: unknown) => unknown)(request);
        // docs/maskinporten-rules.md §6.8: the pid must be the person of the call; a request that
        // names no person matches no token.
        if (typeof person !== 'string' || person === '') throw new RequirementNotMetError('pid', 'The request names no person to compare the token with.');
        if (claims.pid === undefined) throw new RequirementNotMetError('pid', 'The token has no pid; this API serves one person per request and needs a pid-restricted token.');
        if (claims.pid !== person) throw new RequirementNotMetError('pid', 'The token is for another person than the one this request is about.');
      }
      if (consentFromOf !== undefined) {
        // docs/maskinporten-rules.md §6.10: the consent's from is the party the request is about.
        const party = (consentFromOf as (request: unknown) => unknown)(request);
        const consent = claims.consent;
        if (typeof party !== 'string' || party === '' || consent === undefined || (consent.fromPid !== party && consent.fromOrg !== party)) {
          throw new RequirementNotMetError('consent', 'The token carries no consent from the party this request is about.');
        }
      }
      if (policy !== undefined) {
        const check = policyCheck((c) => (policy as (claims: MaskinportenTokenClaims, request: unknown) => boolean | Promise<boolean>)(c, request));
        pending = pending === undefined ? toPromise(check(claims)) : pending.then(() => check(claims));
      }
    }
    return pending;
  };
}

function toPromise(value: void | Promise<void>): Promise<void> | undefined {
  return value === undefined ? undefined : value;
}

/**
 * Verifies the bearer token of `request` against `verifier`, the verifier's own requirements and
 * `requirements` (one set, or a list that all apply), and puts the claims on
 * `request.maskinportenToken`. A request this verifier already verified keeps its claims and has
 * only `requirements` checked; a token the verifier remembers is answered without a promise
 * (unless an organisation policy has to be waited for).
 *
 * Returns the claims, or a promise of them. A refusal (`MissingTokenError`, `InvalidTokenError`,
 * `InsufficientScopeError`, `OrganizationNotAllowedError`, `RequirementNotMetError`,
 * `KeySetUnavailableError`, `IntrospectionUnavailableError`) is thrown at once when it needs no
 * I/O, and otherwise rejects the promise; `error.toProblem()` is its HTTP answer. A token is
 * remembered by the verifier only when every requirement of the call is met.
 *
 * @example
 * ```ts
 * import { createMaskinportenVerifier, verifyRequest } from '@portvakt/verify';
 * const verifier = createMaskinportenVerifier({ environment: 'prod' });
 * server.on('request', async (req, res) => {
 *   try {
 *     const claims = await verifyRequest(verifier, req, { scope: 'nav:aareg', pid: (r) => new URL(r.url!, 'http://x').searchParams.get('pid') ?? undefined });
 *     res.end(claims.consumerOrg);
 *   } catch (error) {
 *     const problem = (error as PortvaktError).toProblem();
 *     res.writeHead(problem.status, problem.headers).end();
 *   }
 * });
 * ```
 */
export function verifyRequest<Request extends VerifiableRequest>(
  verifier: MaskinportenVerifier,
  request: Request,
  requirements?: RequestRequirements<Request> | readonly RequestRequirements<Request>[] | undefined,
): MaskinportenTokenClaims | Promise<MaskinportenTokenClaims> {
  const { fixed, perRequest } = planOf(requirements as RequestRequirements<never> | undefined);
  const check = perRequest.length === 0 ? undefined : requestCheck(perRequest, request);
  const previous = request.maskinportenToken;
  const seen = previous === undefined ? undefined : verifiedBy.get(request);
  if (seen !== undefined && seen.verifier === verifier && seen.claims === previous) {
    const pending = fixed === undefined ? undefined : verifier.checkRequirements(previous, fixed);
    return settle(pending, previous, check);
  }
  const authorization = request.headers.authorization;
  // A token the verifier remembers is the exact string it verified: no promise, no signature. It
  // was accepted before, so a refusal here leaves it remembered; a new token is remembered only by
  // verify(), once the request's own check has passed too.
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) {
    const claims = verifier.recall(authorization.slice(7), fixed);
    if (claims !== undefined) return settle(undefined, claims, check, request, verifier);
  }
  const token = readBearerToken(authorization);
  if (check === undefined) return verifier.verify(token, fixed).then((claims) => mark(request, verifier, claims));
  // This package's verifiers run the request's own check before they remember the token; any other
  // verifier has it run here, after its verify().
  if (!isOwnVerifier(verifier)) return verifier.verify(token, fixed).then((claims) => settle(undefined, claims, check, request, verifier));
  const all = [...(fixed === undefined ? [] : Array.isArray(fixed) ? fixed : [fixed as TokenRequirements]), { [REQUEST_CHECK]: check } as TokenRequirements];
  return verifier.verify(token, all).then((claims) => mark(request, verifier, claims));
}

/** The request's own check (when there is one) after `pending`, then the claims on the request. */
function settle(
  pending: void | Promise<void>,
  claims: MaskinportenTokenClaims,
  check: ClaimsCheck | undefined,
  request?: VerifiableRequest,
  verifier?: MaskinportenVerifier,
): MaskinportenTokenClaims | Promise<MaskinportenTokenClaims> {
  if (pending === undefined && check === undefined) return request === undefined ? claims : mark(request, verifier as MaskinportenVerifier, claims);
  const done = (): MaskinportenTokenClaims => (request === undefined ? claims : mark(request, verifier as MaskinportenVerifier, claims));
  if (pending !== undefined) return pending.then(() => (check === undefined ? undefined : check(claims))).then(done);
  const waiting = (check as ClaimsCheck)(claims);
  return waiting === undefined ? done() : waiting.then(done);
}

function mark(request: VerifiableRequest, verifier: MaskinportenVerifier, claims: MaskinportenTokenClaims): MaskinportenTokenClaims {
  request.maskinportenToken = claims;
  verifiedBy.set(request, { verifier, claims });
  return claims;
}
