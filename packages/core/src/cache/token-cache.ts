// The token cache: bounded LRU, one in-flight fetch per key, refresh-ahead, and a caller blocks
// only inside the last safety margin (design.md, "Behaviour a user can count on").
import { AbortedError } from '../errors.js';
import { raceAbort } from '../shared/index.js';
import type { Clock } from '../types.js';

/** What the cache needs to know of a token: its value (to find it again) and its lifetime. */
export interface CachedToken {
  readonly accessToken: string;
  readonly expiresAtMs: number;
  readonly issuedAtMs: number;
}

/**
 * One cache key with what is needed to fill it: `scope` is carried for the events, so listeners
 * get structured data instead of decoding the key.
 */
export interface CacheSlot<T extends CachedToken> {
  readonly key: string;
  readonly scope: string;
  /** Fetches this slot's token; called as a method, so one function can serve every slot of a source. */
  fetch(reason: 'miss' | 'refresh', replacing?: T): Promise<T>;
  /**
   * The cache's own (start it as undefined): the entry this slot stored, for as long as the cache
   * holds it, so a hit through a slot the source keeps needs no lookup by key.
   */
  entry: unknown;
}

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

/**
 * A token's safety margin in milliseconds: the larger of `minMargin` and `marginRatio` of its
 * lifetime, but never more than half the lifetime, so a very short token (a few seconds) is still
 * served from memory for a while instead of being fetched on every call.
 */
export function safetyMarginMs(policy: Pick<CachePolicy, 'minMargin' | 'marginRatio'>, issuedAtMs: number, expiresAtMs: number): number {
  const lifetime = Math.max(0, expiresAtMs - issuedAtMs);
  return Math.min(Math.max(policy.minMargin * 1000, policy.marginRatio * lifetime), lifetime / 2);
}

interface Entry<T extends CachedToken, S extends CacheSlot<T>> {
  slot: S;
  token: T;
  /** The token as an already-resolved promise: a hit allocates nothing. */
  resolved: Promise<T>;
  refreshAt: number;
  /** expiresAt - margin: from here on, callers wait for a new token. */
  blockAt: number;
  /** While refreshes fail, the next background attempt waits until here. */
  retryAt: number;
  failures: number;
  /** Value of the cache's insertion counter when this entry last moved to the recent end. */
  seq: number;
}

/** What the cache reports, for diagnostics. */
export interface CacheEvents<S> {
  hit(slot: S): void;
  miss(slot: S): void;
  refresh(slot: S): void;
  refreshError(slot: S, error: unknown): void;
}

/**
 * When a stored token is refreshed in the background (`refreshAt`) and when callers stop being
 * served it and wait for a new one (`blockAt`), both epoch ms. A token source whose tokens come
 * from a cache of their own (NAIS Texas) times its refresh after that cache lets go of the token.
 */
export interface RefreshSchedule {
  readonly refreshAt: number;
  readonly blockAt: number;
}

/** Computes the {@link RefreshSchedule} of a token; `random` is in [0, 1). */
export type ScheduleOf = (token: CachedToken, policy: CachePolicy, random: () => number) => RefreshSchedule;

/**
 * The client's schedule (design.md): a background refresh at `refreshAhead` of the lifetime, ±
 * `jitter` of it, and callers wait only inside the safety margin.
 */
export const refreshAheadSchedule: ScheduleOf = (token, policy, random) => {
  const { refreshAhead, jitter } = policy;
  const issued = token.issuedAtMs;
  const lifetime = Math.max(0, token.expiresAtMs - issued);
  const blockAt = token.expiresAtMs - safetyMarginMs(policy, issued, token.expiresAtMs);
  const spread = (random() * 2 - 1) * jitter * lifetime;
  return { blockAt, refreshAt: Math.min(blockAt, Math.max(issued, issued + refreshAhead * lifetime + spread)) };
};

/**
 * A fetcher for one key; `reason` says why it runs. A refresh passes the token it replaces, so a
 * shared store can tell a newer token from the one this process already holds.
 */
export type TokenFetcher<T> = (reason: 'miss' | 'refresh', replacing?: T) => Promise<T>;

const MAX_REFRESH_BACKOFF_MS = 60_000;

/**
 * Whether `token` is still valid for `minValidityMs` at `now`. The demand is capped at half the
 * token's lifetime: asking for more than any token Maskinporten gives would otherwise fetch on
 * every call.
 */
function validFor(token: CachedToken, now: number, minValidityMs: number): boolean {
  const cap = Math.max(0, token.expiresAtMs - token.issuedAtMs) / 2;
  return token.expiresAtMs - now >= Math.min(minValidityMs, cap);
}

/** The in-process token cache of one token source. */
export class TokenCache<T extends CachedToken, S extends CacheSlot<T> = CacheSlot<T>> {
  readonly #entries = new Map<string, Entry<T, S>>();
  readonly #inflight = new Map<string, Promise<T>>();
  readonly #policy: CachePolicy;
  readonly #clock: Clock;
  readonly #events: CacheEvents<S>;
  readonly #random: () => number;
  readonly #schedule: ScheduleOf;
  #closed = false;
  /** Counts moves to the recent end; lets a hit skip the Map reshuffle when the entry is recent. */
  #seq = 0;

  constructor(policy: CachePolicy, clock: Clock, events: CacheEvents<S>, random: () => number = Math.random, schedule: ScheduleOf = refreshAheadSchedule) {
    this.#policy = policy;
    this.#clock = clock;
    this.#events = events;
    this.#random = random;
    this.#schedule = schedule;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The token for `key`: from memory while it is outside the safety margin (and valid for
   * `minValidityMs` more), otherwise from the one shared fetch for the key.
   */
  get(slot: S, minValidityMs: number, signal: AbortSignal | undefined): Promise<T> {
    const key = slot.key;
    const entry = (slot.entry as Entry<T, S> | undefined) ?? this.#entries.get(key);
    if (entry !== undefined) {
      const now = this.#clock.now();
      if (now < entry.blockAt && (minValidityMs === 0 || validFor(entry.token, now, minValidityMs))) {
        // LRU: move to the recent end, but only when the entry has drifted into the older half.
        // A hot key then costs no Map delete/insert per hit, and eviction order stays LRU where
        // it matters (the oldest entries).
        if (this.#seq - entry.seq > this.#entries.size >>> 1) {
          entry.seq = ++this.#seq;
          this.#entries.delete(key);
          this.#entries.set(key, entry);
        }
        if (now >= entry.refreshAt && now >= entry.retryAt && !this.#inflight.has(key)) this.#refreshInBackground(slot, entry);
        this.#events.hit(slot);
        return entry.resolved;
      }
    }
    this.#events.miss(slot);
    return raceAbort(this.#join(slot, 'miss'), signal, () => new AbortedError('getToken() was aborted by the caller', { cause: signal?.reason }));
  }

  /** Drops `key` only if it still holds `accessToken`. */
  invalidate(key: string, accessToken: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token.accessToken !== accessToken) return false;
    this.#remove(key, entry);
    return true;
  }

  /** The slot whose entry currently holds `accessToken`, if any. */
  slotOf(accessToken: string): S | undefined {
    for (const entry of this.#entries.values()) if (entry.token.accessToken === accessToken) return entry.slot;
    return undefined;
  }

  close(): void {
    this.#closed = true;
    for (const [key, entry] of this.#entries) this.#remove(key, entry);
  }

  /** Takes an entry out, and out of its slot: a slot never holds an entry the cache let go. */
  #remove(key: string, entry: Entry<T, S>): void {
    this.#entries.delete(key);
    if (entry.slot.entry === entry) entry.slot.entry = undefined;
  }

  #join(slot: S, reason: 'miss' | 'refresh', replacing?: T): Promise<T> {
    const key = slot.key;
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const shared = slot.fetch(reason, replacing).then(
      (token) => {
        this.#inflight.delete(key);
        this.#store(slot, token);
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

  #refreshInBackground(slot: S, entry: Entry<T, S>): void {
    this.#events.refresh(slot);
    this.#join(slot, 'refresh', entry.token).catch((error: unknown) => {
      // While Maskinporten is down the valid token keeps being served; attempts back off.
      entry.failures += 1;
      entry.retryAt = this.#clock.now() + Math.min(MAX_REFRESH_BACKOFF_MS, 1000 * 2 ** (entry.failures - 1));
      this.#events.refreshError(slot, error);
    });
  }

  #store(slot: S, token: T): void {
    const key = slot.key;
    if (this.#closed) return;
    const { refreshAt, blockAt } = this.#schedule(token, this.#policy, this.#random);
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#remove(key, previous);
    const entry: Entry<T, S> = { slot, token, resolved: Promise.resolve(token), refreshAt, blockAt, retryAt: 0, failures: 0, seq: ++this.#seq };
    this.#entries.set(key, entry);
    slot.entry = entry;
    while (this.#entries.size > this.#policy.maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Entry<T, S>];
      this.#remove(oldestKey, oldest);
    }
  }
}
