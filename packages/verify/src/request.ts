/**
 * The request-verification flow every adapter shares (Express middleware, the Nest guard, a
 * Fastify or Hono hook): which verifier already checked this request, reading the bearer token,
 * recall or verify, the further requirements, and putting the claims on the request. Adapters only
 * call it and answer a refusal with the error's `toProblem()`.
 */
import { readBearerToken } from './bearer.js';
import type { MaskinportenTokenClaims } from './claims.js';
import type { TokenRequirements } from './requirements.js';
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

// Which verifier set a request's claims. A second pass with the same verifier (a router's check,
// then a route's; a global guard, then a controller's) checks only its own requirements against
// them instead of verifying again. The symbol is this module's own, so nothing else can pass for
// verified. (A property, not a WeakMap: a WeakMap entry per request costs the garbage collector.)
const VERIFIED_BY = Symbol('portvakt.verifiedBy');
type Marked = VerifiableRequest & { [VERIFIED_BY]?: MaskinportenVerifier };

/**
 * Verifies the bearer token of `request` against `verifier`, the verifier's own requirements and
 * `requirements` (one set, or a list that all apply), and puts the claims on
 * `request.maskinportenToken`. A request this verifier already verified keeps its claims and has
 * only `requirements` checked; a token the verifier remembers is answered without a promise.
 *
 * Returns the claims, or a promise of them when the token's signature must be checked. A refusal
 * (`MissingTokenError`, `InvalidTokenError`, `InsufficientScopeError`,
 * `OrganizationNotAllowedError`, `KeySetUnavailableError`) is thrown at once when it needs no I/O,
 * and otherwise rejects the promise; `error.toProblem()` is its HTTP answer.
 *
 * @example
 * ```ts
 * import { createMaskinportenVerifier, verifyRequest } from '@portvakt/verify';
 * const verifier = createMaskinportenVerifier({ environment: 'prod' });
 * server.on('request', async (req, res) => {
 *   try {
 *     const claims = await verifyRequest(verifier, req, { scope: 'nav:aareg' });
 *     res.end(claims.consumerOrg);
 *   } catch (error) {
 *     const problem = (error as PortvaktError).toProblem();
 *     res.writeHead(problem.status, problem.headers).end();
 *   }
 * });
 * ```
 */
export function verifyRequest(
  verifier: MaskinportenVerifier,
  request: VerifiableRequest,
  requirements?: TokenRequirements | readonly TokenRequirements[] | undefined,
): MaskinportenTokenClaims | Promise<MaskinportenTokenClaims> {
  const list: readonly TokenRequirements[] = requirements === undefined ? NONE : Array.isArray(requirements) ? requirements : [requirements as TokenRequirements];
  const marked = request as Marked;
  const previous = marked.maskinportenToken;
  if (previous !== undefined && marked[VERIFIED_BY] === verifier) {
    for (const required of list) verifier.checkRequirements(previous, required);
    return previous;
  }
  const first = list[0];
  const authorization = request.headers.authorization;
  // A token the verifier remembers is the exact string it verified: no promise, no signature.
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) {
    const claims = verifier.recall(authorization.slice(7), first);
    if (claims !== undefined) return accept(verifier, marked, claims, list);
  }
  const token = readBearerToken(authorization);
  return verifier.verify(token, first).then((claims) => accept(verifier, marked, claims, list));
}

const NONE: readonly TokenRequirements[] = Object.freeze([]);

function accept(verifier: MaskinportenVerifier, request: Marked, claims: MaskinportenTokenClaims, list: readonly TokenRequirements[]): MaskinportenTokenClaims {
  for (let i = 1; i < list.length; i++) verifier.checkRequirements(claims, list[i] as TokenRequirements);
  request.maskinportenToken = claims;
  request[VERIFIED_BY] = verifier;
  return claims;
}
