// The token cache: bounded LRU, one in-flight fetch per key, refresh-ahead, and a caller blocks
// only inside the last safety margin (design.md, "Behaviour a user can count on").
import { AbortedError } from '../errors.js';
import { raceAbort } from '../transport/signals.js';
import type { Clock } from '../types.js';
import type { AccessToken } from '../client/access-token.js';

/** Cache tuning; see `MaskinportenClientOptions.cache`. */
export interface CachePolicy {
  maxEntries: number;
  /** Fraction of the lifetime after which a hit starts a background refresh (0.5). */
  refreshAhead: number;
  /** ± fraction of the lifetime added at random to the refresh point (0.1), so replicas spread out. */
  jitter: number;
  /** Minimum safety margin in seconds (5). */
  minMargin: number;
  /** Safety margin as a fraction of the lifetime (0.1); the larger of the two wins. */
  marginRatio: number;
}

interface Entry {
  token: AccessToken;
  /** The token as an already-resolved promise: a hit allocates nothing. */
  resolved: Promise<AccessToken>;
  refreshAt: number;
  /** expiresAt - margin: from here on, callers wait for a new token. */
  blockAt: number;
  /** While refreshes fail, the next background attempt waits until here. */
  retryAt: number;
  failures: number;
  /** Value of the cache's insertion counter when this entry last moved to the recent end. */
  seq: number;
  /** The most validity a minValidity request can demand of this token: half its lifetime. */
  validityCap: number;
}

/** What the cache reports, for diagnostics. */
export interface CacheEvents {
  hit(key: string): void;
  miss(key: string): void;
  refresh(key: string): void;
  refreshError(key: string, error: unknown): void;
}

/** A fetcher for one key; `reason` says why it runs. */
export type TokenFetcher = (reason: 'miss' | 'refresh') => Promise<AccessToken>;

const MAX_REFRESH_BACKOFF_MS = 60_000;

/** The in-process token cache of one client. */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<AccessToken>>();
  readonly #policy: CachePolicy;
  readonly #clock: Clock;
  readonly #events: CacheEvents;
  readonly #random: () => number;
  #closed = false;
  /** Counts moves to the recent end; lets a hit skip the Map reshuffle when the entry is recent. */
  #seq = 0;

  constructor(policy: CachePolicy, clock: Clock, events: CacheEvents, random: () => number = Math.random) {
    this.#policy = policy;
    this.#clock = clock;
    this.#events = events;
    this.#random = random;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The token for `key`: from memory while it is outside the safety margin (and valid for
   * `minValidityMs` more), otherwise from the one shared fetch for the key.
   */
  get(key: string, fetcher: TokenFetcher, minValidityMs: number, signal: AbortSignal | undefined): Promise<AccessToken> {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      const now = this.#clock.now();
      // minValidity is capped at half the token's lifetime: asking for more than any token
      // Maskinporten gives would otherwise fetch on every call.
      if (now < entry.blockAt && (minValidityMs === 0 || entry.token.expiresAtMs - now >= Math.min(minValidityMs, entry.validityCap))) {
        // LRU: move to the recent end, but only when the entry has drifted into the older half.
        // A hot key then costs no Map delete/insert per hit, and eviction order stays LRU where
        // it matters (the oldest entries).
        if (this.#seq - entry.seq > this.#entries.size >>> 1) {
          entry.seq = ++this.#seq;
          this.#entries.delete(key);
          this.#entries.set(key, entry);
        }
        if (now >= entry.refreshAt && now >= entry.retryAt && !this.#inflight.has(key)) this.#refreshInBackground(key, fetcher, entry);
        this.#events.hit(key);
        return entry.resolved;
      }
    }
    this.#events.miss(key);
    return raceAbort(this.#join(key, fetcher, 'miss'), signal, () => new AbortedError('getToken() was aborted by the caller', { cause: signal?.reason }));
  }

  /** Drops `key` only if it still holds `accessToken`. */
  invalidate(key: string, accessToken: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token.accessToken !== accessToken) return false;
    this.#entries.delete(key);
    return true;
  }

  /** The key that currently holds `accessToken`, if any. */
  keyOf(accessToken: string): string | undefined {
    for (const [key, entry] of this.#entries) if (entry.token.accessToken === accessToken) return key;
    return undefined;
  }

  close(): void {
    this.#closed = true;
    this.#entries.clear();
  }

  #join(key: string, fetcher: TokenFetcher, reason: 'miss' | 'refresh'): Promise<AccessToken> {
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const shared = fetcher(reason).then(
      (token) => {
        this.#inflight.delete(key);
        this.#store(key, token);
        return token;
      },
      (error: unknown) => {
        // A failure is never cached and leaves a still-valid token in place.
        this.#inflight.delete(key);
        throw error;
      },
    );
    // Nobody may be left awaiting (every caller aborted): never an unhandled rejection.
    shared.catch(() => undefined);
    this.#inflight.set(key, shared);
    return shared;
  }

  #refreshInBackground(key: string, fetcher: TokenFetcher, entry: Entry): void {
    this.#events.refresh(key);
    this.#join(key, fetcher, 'refresh').catch((error: unknown) => {
      // While Maskinporten is down the valid token keeps being served; attempts back off.
      entry.failures += 1;
      entry.retryAt = this.#clock.now() + Math.min(MAX_REFRESH_BACKOFF_MS, 1000 * 2 ** (entry.failures - 1));
      this.#events.refreshError(key, error);
    });
  }

  #store(key: string, token: AccessToken): void {
    if (this.#closed) return;
    const { minMargin, marginRatio, refreshAhead, jitter } = this.#policy;
    const issued = token.issuedAtMs;
    const lifetime = Math.max(0, token.expiresAtMs - issued);
    const margin = Math.max(minMargin * 1000, marginRatio * lifetime);
    const blockAt = token.expiresAtMs - margin;
    const spread = (this.#random() * 2 - 1) * jitter * lifetime;
    const refreshAt = Math.min(blockAt, Math.max(issued, issued + refreshAhead * lifetime + spread));
    this.#entries.delete(key);
    this.#entries.set(key, { token, resolved: Promise.resolve(token), refreshAt, blockAt, retryAt: 0, failures: 0, seq: ++this.#seq, validityCap: lifetime / 2 });
    while (this.#entries.size > this.#policy.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
