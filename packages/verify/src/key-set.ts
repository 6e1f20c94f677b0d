/**
 * Maskinporten's signing keys, fetched once and cached. The rules (docs/maskinporten-rules.md §1.3, §6.3:
 * cache the key set, select the key by `kid`, Maskinporten rotates its key):
 * - The first load is shared by every concurrent verification (one fetch for 10 000 callers). A
 *   failed first load is not cached, but the next one starts at most once a second.
 * - A token whose `kid` is not in the set starts a refetch, at most once per `cooldown` whatever
 *   the traffic, so tokens with made-up kids cannot make us hammer the key endpoint.
 * - A set older than `maxAge` is refreshed in the background while it keeps being used, so a key
 *   Maskinporten removed stops verifying within `maxAge` even when no new key shows up.
 * - A failed refetch keeps the cached set: verification goes on while the endpoint is down.
 * - A successful refetch replaces the set: a key that is gone from it no longer verifies.
 */
import { createLocalJWKSet } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { MalformedResponseError } from '@portvakt/core';
import type { Clock } from '@portvakt/core';
import type { KeySetSource } from './environment.js';
import { InvalidTokenError, KeySetUnavailableError } from './errors.js';

/** While no key set is held, a failed load is retried at most this often. */
const RETRY_WITHOUT_KEY_SET_MS = 1000;
/** base64url length of a 2048-bit modulus: smaller RSA keys are never used. */
const MIN_MODULUS_LENGTH = 342;

/** One fetched key set. */
export interface KeySet {
  readonly issuer: string;
  readonly kids: ReadonlySet<string>;
  /** jose's local key set over the usable keys; it caches each imported key. */
  readonly getKey: JWTVerifyGetKey;
  readonly fetchedAt: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The keys of a JWK Set that can verify Maskinporten tokens: RSA public signing keys of at least
 * 2048 bits with a `kid`, for one of `algorithms` when they name one. Other keys are skipped (a
 * future EC key must not break verification); a repeated `kid` keeps its first key.
 */
function usableKeys(jwks: Record<string, unknown>, algorithms: ReadonlySet<string>, location: string): Record<string, unknown>[] {
  if (!Array.isArray(jwks.keys)) throw new MalformedResponseError(`The key set from ${location} has no "keys" array.`);
  const kids = new Set<string>();
  const keys: Record<string, unknown>[] = [];
  for (const key of jwks.keys as unknown[]) {
    if (!isRecord(key)) continue;
    const { kty, kid, use, alg, n, e } = key;
    if (kty !== 'RSA' || typeof kid !== 'string' || kid === '' || kids.has(kid)) continue;
    if ((use !== undefined && use !== 'sig') || (alg !== undefined && (typeof alg !== 'string' || !algorithms.has(alg)))) continue;
    if (typeof n !== 'string' || n.length < MIN_MODULUS_LENGTH || typeof e !== 'string' || key.d !== undefined) continue;
    kids.add(kid);
    keys.push(key);
  }
  if (keys.length === 0) throw new MalformedResponseError(`The key set from ${location} has no usable RSA signing key.`);
  return keys;
}

/** The cache of one verifier's key set. */
export class KeySetCache {
  readonly #source: KeySetSource;
  readonly #clock: Clock;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #algorithms: ReadonlySet<string>;
  #current: KeySet | undefined;
  #inFlight: Promise<KeySet> | undefined;
  #lastFetchAt = Number.NEGATIVE_INFINITY;
  #lastFailure: unknown;
  #fetches = 0;

  constructor(options: { source: KeySetSource; clock: Clock; cooldownMs: number; maxAgeMs: number; algorithms: ReadonlySet<string> }) {
    this.#source = options.source;
    this.#clock = options.clock;
    this.#cooldownMs = options.cooldownMs;
    this.#maxAgeMs = options.maxAgeMs;
    this.#algorithms = options.algorithms;
  }

  /** The issuer of the held set (with discovery, the metadata's), if a set is held. */
  get issuer(): string | undefined {
    return this.#current?.issuer ?? this.#source.issuer;
  }

  /** How many key-set loads were started. */
  get fetches(): number {
    return this.#fetches;
  }

  /** The kids of the held set. */
  get kids(): readonly string[] {
    return [...(this.#current?.kids ?? [])];
  }

  /** The held key set, if any (no I/O). */
  get current(): KeySet | undefined {
    return this.#current;
  }

  /**
   * Notes a use of the held set without awaiting anything: starts a background refresh when it is
   * due. `now` is the clock's time when the caller has just read it.
   */
  touch(now?: number): void {
    if (this.#current !== undefined) this.#refreshIfStale(this.#current, now);
  }

  /** The held key set, loading it first if there is none. Throws `KeySetUnavailableError`. */
  async keySet(): Promise<KeySet> {
    const current = this.#current;
    if (current !== undefined) {
      this.#refreshIfStale(current);
      return current;
    }
    if (this.#inFlight === undefined) {
      if (this.#lastFailure !== undefined && this.#clock.now() - this.#lastFetchAt < RETRY_WITHOUT_KEY_SET_MS) throw this.#unavailable();
      this.#start();
    }
    try {
      return await (this.#inFlight as Promise<KeySet>);
    } catch {
      throw this.#unavailable();
    }
  }

  /**
   * A key set that holds `kid`: the cached one, or a refetched one when the cooldown allows.
   * Throws `InvalidTokenError` (`unknown_key`) when the kid is not in a set that is up to date, and
   * `KeySetUnavailableError` when it is not in the cached set and the last refetch failed.
   */
  async keySetWith(kid: string, held: KeySet): Promise<KeySet> {
    if (held.kids.has(kid)) return held;
    if (!this.#source.fixed && this.#inFlight === undefined && this.#clock.now() - this.#lastFetchAt >= this.#cooldownMs) this.#start();
    let latest = held;
    if (this.#inFlight !== undefined) {
      latest = await this.#inFlight.catch(() => latest);
    }
    latest = this.#current ?? latest;
    if (latest.kids.has(kid)) return latest;
    if (this.#lastFailure !== undefined) throw this.#unavailable();
    throw new InvalidTokenError('unknown_key', `No key in Maskinporten's key set (${this.#source.location}) has the token's kid.`);
  }

  #refreshIfStale(current: KeySet, now = this.#clock.now()): void {
    if (this.#source.fixed || this.#inFlight !== undefined || now - current.fetchedAt < this.#maxAgeMs || now - this.#lastFetchAt < this.#cooldownMs) return;
    this.#start();
  }

  #start(): void {
    this.#lastFetchAt = this.#clock.now();
    this.#fetches += 1;
    const inFlight = this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    // A background refresh has no waiter; its failure is recorded in #lastFailure.
    inFlight.catch(() => undefined);
    this.#inFlight = inFlight;
  }

  async #load(): Promise<KeySet> {
    try {
      const { issuer, jwks } = await this.#source.load();
      const keys = usableKeys(jwks, this.#algorithms, this.#source.location);
      const set: KeySet = Object.freeze({
        issuer,
        kids: new Set(keys.map((key) => key.kid as string)),
        getKey: createLocalJWKSet({ keys: keys as never }),
        fetchedAt: this.#clock.now(),
      });
      this.#current = set;
      this.#lastFailure = undefined;
      return set;
    } catch (error) {
      this.#lastFailure = error;
      throw error;
    }
  }

  #unavailable(): KeySetUnavailableError {
    const cause = this.#lastFailure;
    const why = cause instanceof Error ? ` ${cause.message}` : '';
    return new KeySetUnavailableError(`Maskinporten's key set (${this.#source.location}) could not be fetched, so the token can be neither accepted nor refused.${why}`, { cause });
  }
}
