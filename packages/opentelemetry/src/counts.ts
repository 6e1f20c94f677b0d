// The cap on client and scope pairs that every instrument goes through, and the counts kept in
// plain numbers and handed to OpenTelemetry at collection time.
//
// A cache hit is the hot path (about a hundred nanoseconds); a synchronous counter would hash its
// attributes on every call and cost several times the hit itself, so hits, misses and refreshes
// are counted in plain numbers and reported by observable counters instead. Hits are counted by
// core itself (the cacheHitCount channel's live tallies), as even a listener call per hit costs a
// tenth of a hit.
import type { Attributes, ObservableResult } from '@opentelemetry/api';
import { PORTVAKT_ATTRIBUTES } from './names.js';

/** How many client and scope pairs get a series of their own; later pairs are counted under `(other)`. */
export const MAX_PAIRS = 1_000;

/** The scope that pairs past the cap are recorded under (core's tallies use it too, past their own cap). */
export const OTHER_SCOPE = '(other)';

/**
 * How many client ids get an `(other)` series of their own; a pair past the cap of a client id
 * beyond these is recorded as client id `(other)`, scope `(other)`. So an instrument has at most
 * MAX_PAIRS + MAX_OTHER_CLIENTS + 1 client and scope series, whatever the number of client ids:
 * under the SDK's default limit of 2,000 series, which would otherwise fold and lose them.
 */
export const MAX_OTHER_CLIENTS = 100;

/** The client id that pairs of client ids past {@link MAX_OTHER_CLIENTS} are recorded under. */
export const OTHER_CLIENT = '(other)';

/**
 * How many of core's hit tallies are held strongly. Past this, the ones that changed least
 * recently are held through a `WeakRef`: still read at each collection while their client lives,
 * but no longer keeping a closed client's tally in memory.
 */
export const MAX_HELD_TALLIES = 10_000;

/** A client id and scope as recorded: the scope itself, or `(other)` past the cap. */
export interface Pair {
  readonly clientId: string;
  readonly scope: string;
  /** `portvakt.client.id` and `portvakt.scope`, frozen. */
  readonly attributes: Attributes;
}

function makePair(clientId: string, scope: string): Pair {
  return Object.freeze({ clientId, scope, attributes: Object.freeze({ [PORTVAKT_ATTRIBUTES.clientId]: clientId, [PORTVAKT_ATTRIBUTES.scope]: scope }) });
}

/**
 * The one table of pairs an instrumentation records, shared by every instrument and the spans, so
 * a pair has a series of its own everywhere or is `(other)` everywhere. A pair is known by its
 * client id and scope, not by the client: clients with one id share their pairs, however many are
 * created and closed. The first `limit` pairs seen keep their scope for the life of the
 * instrumentation (their series do too: a cumulative series is exported until the process ends);
 * a pair first seen after that is counted under its client id and the scope `(other)`, and past
 * {@link MAX_OTHER_CLIENTS} such client ids under `(other)` and `(other)`. Scopes past the cap
 * are not remembered, so they cost no memory either.
 */
export class PairCap {
  readonly #limit: number;
  readonly #otherLimit: number;
  readonly #named = new Map<string, Map<string, Pair>>();
  readonly #other = new Map<string, Pair>();
  readonly #lastOther = makePair(OTHER_CLIENT, OTHER_SCOPE);
  #size = 0;

  constructor(limit = MAX_PAIRS, otherLimit = MAX_OTHER_CLIENTS) {
    this.#limit = limit;
    this.#otherLimit = otherLimit;
  }

  /** The pair `clientId` and `scope` are recorded as. */
  pairOf(clientId: string, scope: string): Pair {
    let byScope = this.#named.get(clientId);
    const known = byScope?.get(scope);
    if (known !== undefined) return known;
    if (scope === OTHER_SCOPE || this.#size >= this.#limit) return this.#otherOf(clientId);
    if (byScope === undefined) {
      byScope = new Map();
      this.#named.set(clientId, byScope);
    }
    const pair = makePair(clientId, scope);
    byScope.set(scope, pair);
    this.#size++;
    return pair;
  }

  /** `portvakt.client.id` and `portvakt.scope` of the pair, for an instrument's attributes. */
  attributesOf(clientId: string, scope: string): Attributes {
    return this.pairOf(clientId, scope).attributes;
  }

  #otherOf(clientId: string): Pair {
    let pair = this.#other.get(clientId);
    if (pair === undefined) {
      if (this.#other.size >= this.#otherLimit) return this.#lastOther;
      pair = makePair(clientId, OTHER_SCOPE);
      this.#other.set(clientId, pair);
    }
    return pair;
  }
}

interface Cell {
  n: number;
  readonly pair: Pair;
}

/** A cache event's payload: core makes one per cache key and reuses it for every event of that key. */
export interface PairEvent {
  readonly clientId: string;
  readonly scope: string;
}

/**
 * Monotonic counts per pair of the cap. The cell of an event is found by the payload's identity
 * (one WeakMap lookup, nothing allocated), and through the cap the first time.
 */
export class PairCounts {
  readonly #cap: PairCap;
  readonly #byEvent = new WeakMap<PairEvent, Cell>();
  readonly #cells = new Map<Pair, Cell>();

  constructor(cap: PairCap) {
    this.#cap = cap;
  }

  increment(event: PairEvent): void {
    const cell = this.#byEvent.get(event);
    if (cell !== undefined) cell.n++;
    else this.#add(event);
  }

  #add(event: PairEvent): void {
    const pair = this.#cap.pairOf(event.clientId, event.scope);
    let cell = this.#cells.get(pair);
    if (cell === undefined) {
      cell = { n: 0, pair };
      this.#cells.set(pair, cell);
    }
    cell.n++;
    // Frozen payloads are reused (core's); any other object is looked up by value each time.
    if (Object.isFrozen(event)) this.#byEvent.set(event, cell);
  }

  observe(result: ObservableResult): void {
    for (const cell of this.#cells.values()) result.observe(cell.n, cell.pair.attributes);
  }
}

/** Core's live hit count of one client and scope (the `cacheHitCount` channel's payload). */
export interface HitTally {
  readonly clientId: string;
  readonly scope: string;
  readonly hits: number;
}

interface TallyState {
  readonly pair: Pair;
  /** The tally's `hits` already added to the pair's total. */
  counted: number;
  /** Set while the tally is held weakly. */
  weak: WeakRef<HitTally> | undefined;
}

/**
 * Hits from core's live tallies: a hit costs the instrumentation nothing but core's increment.
 * Each tally is read relative to its count when this instrumentation first saw it (the hit that
 * published it included), so a tally that was counting for an earlier listener starts from zero.
 *
 * Every client instance has a tally per scope; the tallies of one pair add up to the pair's total,
 * which is folded in at each collection and kept when the client goes. Tallies are held strongly
 * up to `maxHeld`; past that the least recently changed are held weakly, so closed clients do not
 * stay in memory, and are still read at each collection for as long as their client lives.
 */
export class HitTallies {
  readonly #cap: PairCap;
  readonly #maxHeld: number;
  readonly #states = new WeakMap<HitTally, TallyState>();
  /** Read at every collection; least recently changed first. */
  readonly #held = new Set<HitTally>();
  readonly #loose = new Set<WeakRef<HitTally>>();
  readonly #totals = new Map<Pair, number>();

  constructor(cap: PairCap, maxHeld = MAX_HELD_TALLIES) {
    this.#cap = cap;
    this.#maxHeld = maxHeld;
  }

  see(tally: HitTally): void {
    const state = this.#states.get(tally);
    if (state === undefined) {
      const pair = this.#cap.pairOf(tally.clientId, tally.scope);
      this.#states.set(tally, { pair, counted: tally.hits - 1, weak: undefined });
      if (!this.#totals.has(pair)) this.#totals.set(pair, 0);
      this.#held.add(tally);
    } else if (state.weak !== undefined) {
      // Published again (every 1024 hits): busy, so held strongly again.
      this.#loose.delete(state.weak);
      state.weak = undefined;
      this.#held.add(tally);
    }
  }

  observe(result: ObservableResult): void {
    for (const tally of [...this.#held]) {
      if (this.#fold(tally)) {
        // To the end: the ones at the front are the ones that changed least recently.
        this.#held.delete(tally);
        this.#held.add(tally);
      }
    }
    for (const ref of [...this.#loose]) {
      const tally = ref.deref();
      if (tally === undefined) this.#loose.delete(ref);
      else if (this.#fold(tally)) {
        this.#loose.delete(ref);
        this.#states.get(tally)!.weak = undefined;
        this.#held.add(tally);
      }
    }
    // Let go of the least recently changed past the limit, their hits so far counted.
    for (const tally of this.#held) {
      if (this.#held.size <= this.#maxHeld) break;
      this.#held.delete(tally);
      const weak = new WeakRef(tally);
      this.#states.get(tally)!.weak = weak;
      this.#loose.add(weak);
    }
    for (const [pair, n] of this.#totals) result.observe(n, pair.attributes);
  }

  /** Adds the tally's new hits to its pair's total; whether there were any. */
  #fold(tally: HitTally): boolean {
    const state = this.#states.get(tally)!;
    const hits = tally.hits;
    if (hits === state.counted) return false;
    this.#totals.set(state.pair, (this.#totals.get(state.pair) ?? 0) + hits - state.counted);
    state.counted = hits;
    return true;
  }
}
