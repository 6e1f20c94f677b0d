// One exchange of a Maskinporten token for an Altinn token at Altinn's authentication API
// (docs/maskinporten-rules.md §5.7): GET .../exchange/maskinporten with the Maskinporten token as bearer;
// the answer is the Altinn JWT as plain text. Transient failures are retried with backoff, each
// attempt bounded by a timeout; the answer is checked before anyone sees it.
import { AltinnExchangeError, EndpointUnavailableError, MalformedResponseError, TimeoutError } from '../errors.js';
import { createAbortScope, describeNetworkError, discardBody, isTransientStatus, readBodyText, sleep } from '../shared/index.js';
import { MAX_TOKEN_LENGTH } from '../transport/response.js';

export interface ExchangeSettings {
  exchangeUrl: string;
  fetch: typeof fetch;
  attemptTimeout: number;
  maxAttempts: number;
}

/** The Altinn token and what its payload says about its lifetime. */
export interface ExchangedToken {
  token: string;
  /** Seconds, from the token's own `exp` - `iat` (or `exp` - now when `iat` is absent), never more than 60 s past `exp` by our clock. */
  lifetimeSeconds: number;
  scope: string | undefined;
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_LIFETIME_SECONDS = 86_400;
/** How far Altinn's clock may be ahead of ours (an `iat` in the future) or behind (an old `iat`). */
const CLOCK_SKEW_SECONDS = 60;

/** Reads the Altinn token from the response text: a JWT, possibly JSON-quoted (some mocks do). */
export function readAltinnToken(text: string, nowMs: number): ExchangedToken {
  let token = text.trim();
  if (token.startsWith('"') && token.endsWith('"') && token.length > 1) token = token.slice(1, -1);
  if (token.length > MAX_TOKEN_LENGTH || !JWT.test(token)) {
    throw new MalformedResponseError('Altinn\'s token exchange answered with something that is not a JWT.', 200);
  }
  let payload: { exp?: unknown; iat?: unknown; scope?: unknown };
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as typeof payload;
  } catch {
    throw new MalformedResponseError('The Altinn token\'s payload is not JSON.', 200);
  }
  const { exp, iat } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new MalformedResponseError('The Altinn token has no numeric "exp".', 200);
  const now = nowMs / 1000;
  if (exp <= now) throw new MalformedResponseError('The Altinn token has already expired ("exp" is in the past by this machine\'s clock).', 200);
  const hasIat = typeof iat === 'number' && Number.isFinite(iat);
  if (hasIat && iat > now + CLOCK_SKEW_SECONDS) {
    throw new MalformedResponseError(`The Altinn token was issued in the future ("iat" is more than ${CLOCK_SKEW_SECONDS} s ahead of this machine's clock).`, 200);
  }
  // The lifetime comes from the token's own claims (Altinn signs them), measured against its own
  // iat, so a small clock difference between us and Altinn does not shorten or stretch it; but
  // never past exp on our clock by more than the skew, so an old token is not served as new.
  const lifetime = hasIat ? Math.min(exp - iat, exp - now + CLOCK_SKEW_SECONDS) : exp - now;
  if (!(lifetime >= 1 && lifetime <= MAX_LIFETIME_SECONDS)) {
    throw new MalformedResponseError(`The Altinn token's lifetime is not between 1 s and ${MAX_LIFETIME_SECONDS} s.`, 200);
  }
  return { token, lifetimeSeconds: lifetime, scope: typeof payload.scope === 'string' ? payload.scope : undefined };
}

/**
 * Exchanges `maskinportenToken` once (with retries for transient failures). A 401 or 403 is final
 * here: the caller decides whether a new Maskinporten token is worth one more try.
 */
export async function exchangeOnce(settings: ExchangeSettings, maskinportenToken: string, nowMs: () => number, closing: AbortSignal): Promise<ExchangedToken & { sentAt: number }> {
  let lastProblem = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    if (attempt > 1) await sleep(Math.min(2_000, 100 * 2 ** (attempt - 2)) * Math.random(), closing);
    const scope = createAbortScope([[closing, 'caller']], { ms: settings.attemptTimeout, cause: 'attempt' });
    const sentAt = nowMs();
    try {
      let response: Response;
      try {
        response = await settings.fetch(settings.exchangeUrl, { method: 'GET', headers: { authorization: `Bearer ${maskinportenToken}`, accept: 'text/plain, application/json' }, redirect: 'manual', signal: scope.signal });
      } catch (error) {
        if (scope.cause === 'caller') throw error;
        lastStatus = undefined;
        lastProblem = scope.cause === 'attempt' ? `no answer within ${settings.attemptTimeout} ms` : describeNetworkError(error);
        if (scope.cause === 'attempt' && attempt === settings.maxAttempts) {
          throw new TimeoutError(`Altinn's token exchange did not answer within ${settings.attemptTimeout} ms (${attempt} attempts).`, settings.attemptTimeout);
        }
        continue;
      }
      if (response.status === 200) return { ...readAltinnToken(await readBodyText(response, MAX_TOKEN_LENGTH * 2), sentAt), sentAt };
      discardBody(response);
      if (isTransientStatus(response.status)) {
        lastStatus = response.status;
        lastProblem = `HTTP ${response.status}`;
        continue;
      }
      throw new AltinnExchangeError(response.status);
    } finally {
      scope.dispose();
    }
  }
  throw new EndpointUnavailableError(`Altinn's token exchange at ${settings.exchangeUrl} is unavailable after ${settings.maxAttempts} attempts (last: ${lastProblem}).`, { status: lastStatus, attempts: settings.maxAttempts });
}
