// Cloud credentials, cached by their own expiry, apart from the Skyporten token: STS credentials
// live 15 minutes to 12 hours, an Entra token about an hour, a Skyporten token minutes. Concurrent
// callers share one exchange. A failed exchange backs off (1 s, 2 s, ... 60 s after each failure
// in a row): while credentials in hand are still valid they stay in service; without any, a caller
// inside the back-off gets the last failure at once. So a cloud that keeps failing costs one
// exchange per back-off step, not one per call.
import { AbortedError } from '@portvakt/core';
import type { Clock } from '@portvakt/core';

/** Credentials and their lifetime, as an exchange returns them. */
export interface Expiring<T> {
  readonly value: T;
  readonly expiresAtMs: number;
  /** When the exchange was sent (ms); the lifetime is measured from here. */
  readonly issuedAtMs: number;
}

/**
 * How long before expiry credentials are refreshed rather than served: a cloud SDK that asks again
 * `sdkWindowMs` before expiry (AWS: 5 min) must find them due by then, so the margin is a little
 * more than that window (or 10 % of the lifetime, when more), never more than half the lifetime.
 */
export function refreshMarginMs(issuedAtMs: number, expiresAtMs: number, sdkWindowMs: number): number {
  const lifetime = Math.max(0, expiresAtMs - issuedAtMs);
  return Math.min(Math.max(sdkWindowMs + 10_000, lifetime * 0.1), lifetime / 2);
}

/** The refresh margin of credentials that live from `issuedAtMs` to `expiresAtMs`. */
export type MarginRule = (issuedAtMs: number, expiresAtMs: number) => number;

/** Credentials as the cache holds them: with the point where they are refreshed. */
export type Cached<T> = Expiring<T> & { readonly refreshAt: number };

/** Never served this close to expiry, whatever a failing refresh says. */
const LAST_MS = 10_000;
const MAX_BACKOFF_MS = 60_000;

/**
 * One cached credential with its shared exchange.
 * @example
 * ```ts
 * const cache = new CredentialCache(() => exchange(), Date, (issued, expires) => refreshMarginMs(issued, expires, 300_000));
 * const credentials = await cache.get();
 * ```
 */
export class CredentialCache<T> {
  readonly #exchange: (signal?: AbortSignal) => Promise<Expiring<T>>;
  readonly #clock: Clock;
  readonly #margin: MarginRule;
  #current: Cached<T> | undefined;
  #inFlight: Promise<Cached<T>> | undefined;
  #retryAt = 0;
  #failures = 0;
  #lastFailure: unknown;
  #exchanges = 0;

  constructor(exchange: (signal?: AbortSignal) => Promise<Expiring<T>>, clock: Clock, margin: MarginRule) {
    this.#exchange = exchange;
    this.#clock = clock;
    this.#margin = margin;
  }

  /** Exchanges started so far. */
  get exchanges(): number {
    return this.#exchanges;
  }

  /** The credentials in hand, if any, with their expiry and refresh point. */
  get current(): Cached<T> | undefined {
    return this.#current;
  }

  /** Fresh credentials: from memory until their refresh point, else from the one shared exchange. */
  async get(signal?: AbortSignal): Promise<Cached<T>> {
    if (signal?.aborted) throw new AbortedError();
    const now = this.#clock.now();
    const current = this.#current;
    if (current !== undefined && (now < current.refreshAt || (now < this.#retryAt && now < current.expiresAtMs - LAST_MS))) return current;
    if (this.#inFlight === undefined && now < this.#retryAt) throw this.#lastFailure;
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = undefined;
    });
    if (signal === undefined) return this.#inFlight;
    // The shared exchange goes on for the others when this caller stops waiting.
    return new Promise<Cached<T>>((resolve, reject) => {
      const onAbort = () => reject(new AbortedError('The wait for cloud credentials was aborted by the caller', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      (this.#inFlight as Promise<Cached<T>>).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Forgets the credentials (after the cloud refused them). */
  clear(): void {
    this.#current = undefined;
  }

  async #refresh(): Promise<Cached<T>> {
    this.#exchanges += 1;
    try {
      const fresh = await this.#exchange();
      const current = Object.freeze({ ...fresh, refreshAt: fresh.expiresAtMs - this.#margin(fresh.issuedAtMs, fresh.expiresAtMs) });
      this.#current = current;
      this.#failures = 0;
      this.#retryAt = 0;
      this.#lastFailure = undefined;
      return current;
    } catch (error) {
      this.#failures += 1;
      this.#lastFailure = error;
      const now = this.#clock.now();
      this.#retryAt = now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.#failures - 1));
      const current = this.#current;
      if (current !== undefined && now < current.expiresAtMs - LAST_MS) return current;
      throw error;
    }
  }
}
