/**
 * A verifier for apps on NAIS that asks Texas, the pod's token sidecar, whether a token is valid
 * (`POST $NAIS_TOKEN_INTROSPECTION_ENDPOINT`, docs/maskinporten-rules.md §11.1). Texas checks the
 * signature, `iss` and the times; everything else (scope, consumer, audience, person, consent,
 * system user, the claim types) is checked here on the claims Texas returns, by the same flow and
 * requirements as the local verifier. So the guards take either, and answer alike.
 *
 * - Before Texas is asked, the token's form is checked as the local verifier checks it (one
 *   spelling per token, a JWS header Maskinporten could have made): junk never reaches the sidecar
 *   or the memory.
 * - A token Texas found active is remembered until its `exp` (at most `cache.maxEntries`), so a hot
 *   route is not one sidecar call per request; a herd of requests with one token makes one call.
 *   An inactive token is never remembered.
 * - One attempt per introspection, bounded by `timeout`: Texas is on loopback, and a client whose
 *   token could not be checked gets 503 and tries again.
 */
import { ConfigurationError, EndpointUnavailableError, MalformedResponseError, TimeoutError } from '@portvakt/core';
import type { Clock } from '@portvakt/core';
import { createAbortScope, describeNetworkError, describeValue, discardBody, inspectSymbol, numberOption, parseJsonObject, problemWithEndpointUrl, readBodyText, refuseUnknownOptions, validateClock } from '@portvakt/core/internal';
import { readClaims } from './claims.js';
import { decodeAccessToken } from './compact.js';
import { IntrospectionUnavailableError, InvalidTokenError } from './errors.js';
import { createFlow, markOwnVerifier } from './flow.js';
import type { Validated } from './flow.js';
import { compileRequirements, REQUIREMENT_KEYS } from './requirements.js';
import type { TokenRequirements } from './requirements.js';
import type { MaskinportenVerifier } from './verifier.js';

/**
 * Options of {@link createTexasIntrospectionVerifier}. The requirements given here apply to every
 * token, as with `createMaskinportenVerifier()`.
 *
 * @example
 * ```ts
 * const options: TexasIntrospectionVerifierOptions = { scope: 'nav:aareg/read' }; // endpoint from NAIS_TOKEN_INTROSPECTION_ENDPOINT
 * ```
 */
export interface TexasIntrospectionVerifierOptions extends TokenRequirements {
  /**
   * Texas' introspection endpoint: https, or http on a loopback address (Texas listens on
   * 127.0.0.1 in the pod). Default `process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT`.
   */
  endpoint?: string | undefined;
  /**
   * The issuer tokens must carry, checked again on Texas' answer (Texas checks it against its own
   * configuration). Default: Texas' word.
   */
  issuer?: string | undefined;
  /** Leeway on `exp`, `nbf`, `iat` and a consent's `validTo` when a remembered token is used, in seconds; default 5, at most 300. */
  clockTolerance?: number | undefined;
  /** Timeout of one introspection, in milliseconds; default 5000. */
  timeout?: number | undefined;
  /** Tokens Texas found active are remembered until they expire (`maxEntries`, default 1000); `false` asks Texas for every request. */
  cache?: { maxEntries?: number | undefined } | false | undefined;
  /** `fetch` for the introspection requests; default the global one. */
  fetch?: typeof fetch | undefined;
  /** Clock in epoch milliseconds; default `Date`. */
  clock?: Clock | undefined;
}

const OPTION_KEYS = ['endpoint', 'issuer', 'clockTolerance', 'timeout', 'cache', 'fetch', 'clock', ...REQUIREMENT_KEYS] as const;
/** What the form check accepts; Texas itself takes RS256 only and answers the others inactive. */
const ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512']);
/** Texas' answer is the token's claims and two members: far below this. */
const MAX_ANSWER_BYTES = 64 * 1024;
const TEXAS = "NAIS Texas' introspection endpoint";
/** Every remembered token is of the one epoch: Texas has no key set the app could see replaced. */
const EPOCH = Symbol('texas');

function endpointOf(given: unknown): string {
  const fromEnv = given === undefined;
  const field = fromEnv ? 'NAIS_TOKEN_INTROSPECTION_ENDPOINT' : 'endpoint';
  const value = fromEnv ? process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT : given;
  if (value === undefined || value === '') {
    throw new ConfigurationError(field, "is required: give Texas' introspection endpoint as `endpoint`, or run on NAIS with Maskinporten enabled (spec.maskinporten.enabled: true), where NAIS sets NAIS_TOKEN_INTROSPECTION_ENDPOINT.");
  }
  const problem = problemWithEndpointUrl(value);
  if (problem !== undefined) throw new ConfigurationError(field, problem);
  const path = new URL(value as string).pathname.replace(/\/+$/, '').toLowerCase();
  // The other endpoints NAIS hands over are easily taken for this one (in any case of letters).
  if (path.endsWith('/api/v1/token') || path.endsWith('/api/v1/token/exchange')) {
    throw new ConfigurationError(field, 'is Texas\' token endpoint, not its introspection endpoint: use NAIS_TOKEN_INTROSPECTION_ENDPOINT (".../api/v1/introspect").');
  }
  return value as string;
}

/** The requirement members of the options. */
function requirementsOf(options: TexasIntrospectionVerifierOptions): TokenRequirements {
  const { scope, audience, consumers, suppliers, pid, consent, systemUser, organizationPolicy } = options;
  return { scope, audience, consumers, suppliers, pid, consent, systemUser, organizationPolicy };
}

/**
 * Creates a verifier that asks NAIS Texas whether a Maskinporten token is valid, then checks the
 * requirements on the claims Texas returns. It has the local verifier's shape, so
 * `requireMaskinportenToken()`, `MaskinportenTokenGuard` (`MaskinportenVerifierModule.forRoot({ verifier })`),
 * the Fastify plugin and `verifyRequest()` take it as they take `createMaskinportenVerifier()`.
 * Options are validated here, before any request (`ConfigurationError` naming the field).
 *
 * Answers: Texas' `active: false` is 401 `invalid_token` (reason `inactive`); a requirement not met
 * is the local verifier's 401 or 403; Texas unreachable, slow, failing, or without Maskinporten
 * enabled is 503 `introspection_unavailable`.
 *
 * @example
 * ```ts
 * import { createTexasIntrospectionVerifier } from '@portvakt/verify';
 * import { requireMaskinportenToken } from '@portvakt/express/verify';
 *
 * // On NAIS: NAIS_TOKEN_INTROSPECTION_ENDPOINT is set when the manifest enables Maskinporten.
 * const verifier = createTexasIntrospectionVerifier({ scope: 'nav:aareg/read' });
 * app.use('/api', requireMaskinportenToken({ verifier, consumers: ['910753614'] }));
 * ```
 */
export function createTexasIntrospectionVerifier(options: TexasIntrospectionVerifierOptions = {}): MaskinportenVerifier {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError('options', 'must be an object: { endpoint?, scope?, ... }.');
  }
  refuseUnknownOptions(options, OPTION_KEYS, '', { owner: 'createTexasIntrospectionVerifier()' });
  const endpoint = endpointOf(options.endpoint);
  const issuer = options.issuer;
  if (issuer !== undefined && (typeof issuer !== 'string' || problemWithEndpointUrl(issuer) !== undefined)) {
    throw new ConfigurationError('issuer', 'must be the issuer URL tokens carry, such as "https://maskinporten.no/", or left out.');
  }
  const fetchImpl: unknown = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new ConfigurationError('fetch', 'must be a fetch function.');
  const clock = validateClock(options.clock);
  const toleranceMs = numberOption(options.clockTolerance, 'clockTolerance', { fallback: 5, min: 0, max: 300, unit: 'seconds' }) * 1000;
  const timeoutMs = numberOption(options.timeout, 'timeout', { fallback: 5000, min: 1, max: 60_000, unit: 'milliseconds' });
  const cacheIn: unknown = options.cache ?? {};
  if (cacheIn !== false && (typeof cacheIn !== 'object' || cacheIn === null || Array.isArray(cacheIn))) throw new ConfigurationError('cache', 'must be { maxEntries } or false.');
  if (cacheIn !== false) refuseUnknownOptions(cacheIn, ['maxEntries'], 'cache.');
  const maxEntries = cacheIn === false ? 0 : numberOption((cacheIn as { maxEntries?: unknown }).maxEntries, 'cache.maxEntries', { fallback: 1000, min: 1, max: 1_000_000, unit: 'entries' });
  if (!Number.isInteger(maxEntries)) throw new ConfigurationError('cache.maxEntries', 'must be a whole number of entries.');
  const defaults = compileRequirements(requirementsOf(options), '');
  let introspections = 0;

  /** One introspection: Texas' answer as a JSON object, or IntrospectionUnavailableError. */
  async function ask(token: string): Promise<Record<string, unknown>> {
    introspections += 1;
    const scope = createAbortScope([], { ms: timeoutMs, cause: 'attempt' });
    const unavailable = (message: string, cause: Error) => new IntrospectionUnavailableError(`The token could not be checked: ${message}`, { cause });
    try {
      let response: Response;
      try {
        // Never follow a redirect: the token goes to the configured endpoint only.
        response = await (fetchImpl as typeof fetch)(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ identity_provider: 'maskinporten', token }),
          redirect: 'manual',
          signal: scope.signal,
        });
      } catch (error) {
        if (scope.cause !== undefined) throw unavailable(`${TEXAS} did not answer within ${timeoutMs} ms.`, new TimeoutError(`Timed out after ${timeoutMs} ms calling ${TEXAS}.`, timeoutMs));
        throw unavailable(`${TEXAS} could not be reached: ${describeNetworkError(error)}.`, new EndpointUnavailableError(`Could not reach ${TEXAS} at ${endpoint}: ${describeNetworkError(error)}.`, { attempts: 1 }));
      }
      if (response.status !== 200) {
        discardBody(response);
        // Texas answers every introspection with 200; anything else is the sidecar failing (or not Texas).
        throw unavailable(`${TEXAS} answered HTTP ${response.status}.`, new EndpointUnavailableError(`${TEXAS} at ${endpoint} answered HTTP ${response.status}.`, { status: response.status, attempts: 1 }));
      }
      let text: string;
      try {
        text = await readBodyText(response, MAX_ANSWER_BYTES);
      } catch (error) {
        if (error instanceof MalformedResponseError) throw unavailable(`${TEXAS} answered with a body too large to be an introspection.`, error);
        if (scope.cause !== undefined) throw unavailable(`${TEXAS} did not finish its answer within ${timeoutMs} ms.`, new TimeoutError(`Timed out after ${timeoutMs} ms reading ${TEXAS}.`, timeoutMs));
        throw unavailable(`the connection to ${TEXAS} broke.`, new EndpointUnavailableError(`The connection to ${TEXAS} broke: ${describeNetworkError(error)}.`, { attempts: 1 }));
      }
      const answer = parseJsonObject(text);
      if (answer === undefined || typeof answer.active !== 'boolean') {
        throw unavailable(`${TEXAS} answered with something that is not an introspection result.`, new MalformedResponseError(`${TEXAS} at ${endpoint} answered without a boolean "active".`, 200));
      }
      return answer;
    } finally {
      scope.dispose();
    }
  }

  async function validate(token: string): Promise<Validated> {
    // The form first: one spelling per token, a header Maskinporten could have made.
    decodeAccessToken(token, ALGORITHMS);
    const answer = await ask(token);
    if (answer.active !== true) {
      const error = typeof answer.error === 'string' ? answer.error : '';
      // Not the token's fault: the app's manifest does not enable Maskinporten (docs/maskinporten-rules.md §11.1).
      if (/is not enabled|does not support introspection/.test(error)) {
        throw new IntrospectionUnavailableError(`NAIS Texas does not introspect Maskinporten tokens for this app (${describeValue(error.slice(0, 80))}): enable Maskinporten in the NAIS manifest (spec.maskinporten.enabled: true).`, {
          cause: new MalformedResponseError(`${TEXAS} refused: ${describeValue(error.slice(0, 80))}.`, 200),
        });
      }
      throw new InvalidTokenError('inactive', `NAIS Texas found the token inactive${error === '' ? '' : `: ${describeValue(error.slice(0, 120))}`}.`);
    }
    const { active: _active, error: _error, ...payload } = answer;
    const claims = readClaims(payload);
    if (issuer !== undefined && claims.issuer !== issuer) throw new InvalidTokenError('wrong_issuer', `The token's issuer is not ${issuer}.`);
    return { claims, epoch: EPOCH };
  }

  const flow = createFlow({ clock, toleranceMs, maxEntries, defaults, validate, epoch: () => EPOCH });
  const verifier: MaskinportenVerifier & { [inspectSymbol](): string } = {
    get issuer() {
      return issuer;
    },
    verify: flow.verify,
    recall: flow.recall,
    checkRequirements: flow.checkRequirements,
    // Nothing to load: Texas holds the keys.
    ready: () => Promise.resolve(),
    [inspectSymbol]() {
      return `TexasIntrospectionVerifier { endpoint: ${endpoint}, introspections: ${introspections}, remembered tokens: ${flow.size}${flow.inFlight === 0 ? '' : `, in flight: ${flow.inFlight}`} }`;
    },
  };
  return markOwnVerifier(Object.freeze(verifier));
}
