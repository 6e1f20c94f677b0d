/**
 * The token request (docs/maskinporten-rules.md §2.4): a form POST of the grant to the token endpoint, with
 * a per-attempt timeout, an overall deadline, retries for transient failures and a one-time clock
 * correction when Maskinporten rejects the grant's `iat`.
 */
import { AbortedError, EndpointUnavailableError, PortvaktError, TimeoutError } from '../errors.js';
import type { TokenEndpointError } from '../errors.js';
import type { Clock } from '../types.js';
import { createAbortScope, describeNetworkError, raceAbort, sleep } from '../shared/index.js';
import type { AbortScope } from '../shared/index.js';
import type { ResolvedTransportOptions } from './options.js';
import { readAttemptOutcome } from './response.js';
import type { AttemptOutcome, TokenEndpointResponse } from './response.js';
import { fullJitterBackoff, parseRetryAfter } from './retry.js';

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Maskinporten accepts an `iat` within 10 s of its clock (docs/maskinporten-rules.md §2.2). The `Date`
 * header has one-second resolution, so only an offset above 2 s is worth correcting.
 */
const CLOCK_OFFSET_THRESHOLD_MS = 2_000;

/**
 * The grant is rejected on time: MP-130 (expired, used too late, clock skew) or the description
 * "Issue time is after now" (docs/maskinporten-rules.md §3.4).
 */
function isIssueTimeRejection(error: TokenEndpointError): boolean {
  return error.mpCode === 'MP-130' || /issue time|\biat\b/i.test(error.errorDescription ?? '');
}

/**
 * One token request.
 *
 * @example
 * ```ts
 * const { response, sentAt, attempts } = await transport.requestToken({
 *   tokenEndpoint: 'https://test.maskinporten.no/token',
 *   createAssertion: (nowMs) => createGrant({ ...grantInput, nowMs }),
 * });
 * ```
 */
export interface TokenRequestArgs {
  readonly tokenEndpoint: string;
  /**
   * Builds a fresh grant for each attempt (docs/maskinporten-rules.md §7: a grant is never reused).
   * `nowMs` is the local clock plus the offset learnt from Maskinporten.
   */
  readonly createAssertion: (nowMs: number) => Promise<string>;
  /** Ends the request with an AbortedError; no retries after it. */
  readonly signal?: AbortSignal | undefined;
  /** Told of every attempt and retry, for diagnostics; left out when nobody listens. */
  readonly observer?: TransportObserver | undefined;
}

/**
 * A token request of another shape than a grant: the same body for every attempt, read by
 * `readOutcome`. Everything else is as for {@link TokenRequestArgs}: the attempt timeout, the
 * deadline, retries of transient failures, no redirects. NAIS Texas takes its requests this way.
 *
 * @example
 * ```ts
 * const { response } = await transport.post({
 *   endpoint: 'http://127.0.0.1:3000/api/v1/token',
 *   contentType: 'application/json',
 *   body: JSON.stringify({ identity_provider: 'maskinporten', target: 'nav:aareg' }),
 *   readOutcome: readTexasOutcome,
 * });
 * ```
 */
export interface PostArgs {
  readonly endpoint: string;
  readonly contentType: string;
  readonly body: string;
  /** Reads one answer: a token, a refusal (never retried), or a transient failure. */
  readonly readOutcome: (response: Response) => Promise<AttemptOutcome>;
  readonly signal?: AbortSignal | undefined;
  readonly observer?: TransportObserver | undefined;
}

/**
 * Why an attempt is followed by another: no answer within the attempt timeout, a network error, a
 * transient HTTP status (408, 429, 5xx), or an `iat` rejection retried once with a corrected clock.
 */
export type RetryReason = 'timeout' | 'network' | 'status' | 'clock-offset';

/**
 * What a transport tells its observer: `attempt` before each token request is sent (1-based),
 * `retry` when an attempt failed and another follows after `delayMs`.
 *
 * @example
 * ```ts
 * const reasons: RetryReason[] = [];
 * const observer: TransportObserver = { attempt: () => undefined, retry: (r) => void reasons.push(r.reason) };
 * await transport.requestToken({ tokenEndpoint, createAssertion, observer });
 * ```
 */
export interface TransportObserver {
  attempt(attempt: number): void;
  retry(retry: { attempt: number; reason: RetryReason; status: number | undefined; delayMs: number }): void;
}

/**
 * The result of a token request. `sentAt` is the local clock when the successful attempt was sent:
 * the token's lifetime is anchored there (docs/maskinporten-rules.md §10).
 *
 * @example
 * ```ts
 * const expiresAt = result.sentAt + result.response.expiresIn * 1000;
 * ```
 */
export interface TokenRequestResult {
  readonly response: TokenEndpointResponse;
  readonly sentAt: number;
  readonly attempts: number;
}

/**
 * Sends token requests to Maskinporten.
 *
 * @example
 * ```ts
 * import { createTransport, validateTransportOptions } from '../transport/index.js'; // internal
 * const transport = createTransport(validateTransportOptions(undefined), Date);
 * ```
 */
export interface Transport {
  requestToken(args: TokenRequestArgs): Promise<TokenRequestResult>;
  /** Sends another kind of token request with the same timeouts and retries; see {@link PostArgs}. */
  post(args: PostArgs): Promise<TokenRequestResult>;
  /** Maskinporten's clock minus ours, learnt from its `Date` header after an `iat` rejection. */
  readonly clockOffsetMs: number;
}

/**
 * Seams for waiting and randomness. Defaults: `setTimeout` and `Math.random`. Tests (and custom
 * schedulers) inject them to control backoff without real waiting.
 *
 * @example
 * ```ts
 * const waits: number[] = [];
 * const runtime: TransportRuntime = { sleep: async (ms) => void waits.push(ms), random: () => 0.5 };
 * ```
 */
export interface TransportRuntime {
  /** Waits `ms`, rejecting with `signal.reason` if it aborts first. */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  /** A number in [0, 1). */
  random?: (() => number) | undefined;
}

/** A transient failure of one attempt, and what to say about it if it is the last. */
interface TransientFailure {
  status: number | undefined;
  retryAfterMs: number | undefined;
  timedOut: boolean;
  description: string;
}

/**
 * Creates a transport. POSTs `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=...`
 * as `application/x-www-form-urlencoded` and:
 * - never follows a redirect (a 3xx is a MalformedResponseError);
 * - retries network errors, attempt timeouts, 408, 429 and 5xx except 501/505, up to
 *   `maxAttempts`, waiting `Retry-After` (capped at `maxRetryAfter`) or a full-jitter backoff,
 *   and stops early with EndpointUnavailableError when the wait would pass the deadline;
 * - never retries an OAuth error (TokenEndpointError), except once, with a corrected clock, when
 *   Maskinporten rejects the grant's issue time and its `Date` header shows our clock is off by
 *   more than 2 s (this extra attempt is not counted against `maxAttempts`);
 * - signs a fresh grant for every attempt.
 *
 * @example
 * ```ts
 * import { createTransport, validateTransportOptions } from '../transport/index.js'; // internal
 * const transport = createTransport(validateTransportOptions({ attemptTimeout: 5000 }), Date);
 * const { response } = await transport.requestToken({ tokenEndpoint, createAssertion });
 * ```
 */
export function createTransport(options: ResolvedTransportOptions, clock: Clock, runtime: TransportRuntime = {}): Transport {
  const wait = runtime.sleep ?? sleep;
  const random = runtime.random ?? Math.random;
  let clockOffsetMs = 0;

  /** The body of one attempt, made fresh for each (a grant is never reused). */
  type BodyOf = (nowMs: number) => Promise<{ contentType: string; body: string }>;

  function requestToken({ tokenEndpoint, createAssertion, signal, observer }: TokenRequestArgs): Promise<TokenRequestResult> {
    const bodyOf: BodyOf = async (nowMs) => ({
      contentType: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({ grant_type: GRANT_TYPE, assertion: await createAssertion(nowMs) }).toString(),
    });
    return run(tokenEndpoint, bodyOf, readAttemptOutcome, true, signal, observer);
  }

  function post({ endpoint, contentType, body, readOutcome, signal, observer }: PostArgs): Promise<TokenRequestResult> {
    return run(endpoint, () => Promise.resolve({ contentType, body }), readOutcome, false, signal, observer);
  }

  async function run(
    tokenEndpoint: string,
    bodyOf: BodyOf,
    readOutcome: (response: Response) => Promise<AttemptOutcome>,
    correctClock: boolean,
    signal: AbortSignal | undefined,
    observer: TransportObserver | undefined,
  ): Promise<TokenRequestResult> {
    if (signal?.aborted) throw new AbortedError();
    const deadlineAt = clock.now() + options.deadline;
    const overall = createAbortScope([[signal, 'caller']], { ms: options.deadline, cause: 'deadline' });
    const ended = (): PortvaktError | undefined => {
      if (overall.cause === 'caller') return new AbortedError();
      if (overall.cause === 'deadline') {
        return new TimeoutError(`No answer from the token endpoint ${tokenEndpoint} within the deadline of ${options.deadline} ms.`, options.deadline);
      }
      return undefined;
    };
    let attempts = 0;
    let transientFailures = 0;
    let clockCorrected = false;
    try {
      for (;;) {
        const nowMs = clock.now() + clockOffsetMs;
        const request = await raceAbort(Promise.resolve().then(() => bodyOf(nowMs)), overall.signal, () => ended() ?? new AbortedError());
        attempts++;
        observer?.attempt(attempts);
        const sentAt = clock.now();
        const result = await attempt(tokenEndpoint, request, readOutcome, overall, ended);
        let failure: TransientFailure;
        if ('failure' in result) {
          failure = result.failure;
        } else {
          const { outcome, receivedAt } = result;
          switch (outcome.kind) {
            case 'success':
              return { response: outcome.response, sentAt, attempts };
            case 'rejected': {
              const { error, serverDateMs } = outcome;
              if (correctClock && !clockCorrected && serverDateMs !== undefined && isIssueTimeRejection(error)) {
                // Learn Maskinporten's clock from its Date header and try once more with it.
                const observed = serverDateMs - receivedAt;
                if (Math.abs(observed - clockOffsetMs) > CLOCK_OFFSET_THRESHOLD_MS) {
                  clockOffsetMs = observed;
                  clockCorrected = true;
                  observer?.retry({ attempt: attempts, reason: 'clock-offset', status: error.status, delayMs: 0 });
                  continue;
                }
              }
              throw error;
            }
            case 'unavailable':
              throw new EndpointUnavailableError(`The token endpoint ${tokenEndpoint} answered HTTP ${outcome.status}, which is not retried.`, {
                status: outcome.status,
                attempts,
              });
            case 'transient':
              failure = {
                status: outcome.status,
                retryAfterMs: parseRetryAfter(outcome.retryAfter, outcome.serverDateMs, clock.now() + clockOffsetMs),
                timedOut: false,
                description: outcome.detail === undefined ? `HTTP ${outcome.status}` : `HTTP ${outcome.status}, ${outcome.detail}`,
              };
          }
        }
        transientFailures++;
        if (transientFailures >= options.maxAttempts) throw finalFailure(tokenEndpoint, failure, attempts, options.attemptTimeout);
        const delay =
          failure.retryAfterMs !== undefined
            ? Math.min(failure.retryAfterMs, options.maxRetryAfter)
            : fullJitterBackoff(transientFailures - 1, options.backoffBase, options.backoffMax, random);
        if (clock.now() + delay >= deadlineAt) {
          throw new EndpointUnavailableError(
            `The token endpoint ${tokenEndpoint} is unavailable (${failure.description}); waiting ${delay} ms for another attempt would pass the deadline of ${options.deadline} ms.`,
            { status: failure.status, attempts },
          );
        }
        observer?.retry({ attempt: attempts, reason: failure.timedOut ? 'timeout' : failure.status === undefined ? 'network' : 'status', status: failure.status, delayMs: delay });
        try {
          await wait(delay, overall.signal);
        } catch (error) {
          throw ended() ?? error;
        }
      }
    } finally {
      overall.dispose();
    }
  }

  async function attempt(
    tokenEndpoint: string,
    request: { contentType: string; body: string },
    readOutcome: (response: Response) => Promise<AttemptOutcome>,
    overall: AbortScope,
    ended: () => PortvaktError | undefined,
  ): Promise<{ outcome: AttemptOutcome; receivedAt: number } | { failure: TransientFailure }> {
    const scope = createAbortScope([[overall.signal, 'deadline']], { ms: options.attemptTimeout, cause: 'attempt' });
    try {
      const response = await options.fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': request.contentType, accept: 'application/json' },
        body: request.body,
        redirect: 'manual',
        signal: scope.signal,
      });
      const receivedAt = clock.now();
      return { outcome: await readOutcome(response), receivedAt };
    } catch (error) {
      const stop = ended();
      if (stop !== undefined) throw stop;
      if (scope.cause === 'attempt') {
        return { failure: { status: undefined, retryAfterMs: undefined, timedOut: true, description: `no answer within ${options.attemptTimeout} ms` } };
      }
      if (error instanceof PortvaktError) throw error;
      return { failure: { status: undefined, retryAfterMs: undefined, timedOut: false, description: describeNetworkError(error) } };
    } finally {
      scope.dispose();
    }
  }

  return {
    requestToken,
    post,
    get clockOffsetMs() {
      return clockOffsetMs;
    },
  };
}

function finalFailure(tokenEndpoint: string, failure: TransientFailure, attempts: number, attemptTimeout: number): PortvaktError {
  if (failure.timedOut) {
    return new TimeoutError(`The token endpoint ${tokenEndpoint} did not answer within ${attemptTimeout} ms, ${attempts} attempts.`, attemptTimeout);
  }
  return new EndpointUnavailableError(`The token endpoint ${tokenEndpoint} is unavailable after ${attempts} attempts (last: ${failure.description}).`, {
    status: failure.status,
    attempts,
  });
}

