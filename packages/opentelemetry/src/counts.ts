// Counts kept in plain numbers and handed to OpenTelemetry at collection time. A cache hit is the
// hot path (about a hundred nanoseconds); a synchronous counter would hash its attributes on every
// call and cost several times the hit itself, so hits, misses and refreshes are counted in plain
// numbers and reported by observable counters instead. Hits are counted by core itself (the
// cacheHitCount channel's live tallies), as even a listener call per hit costs a tenth of a hit.
import type { Attributes, ObservableResult } from '@opentelemetry/api';
import { PORTVAKT_ATTRIBUTES } from './names.js';

/** Beyond this many client and scope pairs, new pairs are counted under the scope `(other)`. */
export const MAX_PAIRS = 1_000;

interface Cell {
  n: number;
  readonly attributes: Attributes;
}

/** A cache event's payload: core makes one per cache key and reuses it for every event of that key. */
export interface PairEvent {
  readonly clientId: string;
  readonly scope: string;
}

/**
 * Monotonic counts per client id and scope. The cell of an event is found by the payload's
 * identity (one WeakMap lookup, nothing allocated), and by its client id and scope the first time.
 */
export class PairCounts {
  readonly #byEvent = new WeakMap<PairEvent, Cell>();
  readonly #byClient = new Map<string, Map<string, Cell>>();
  #pairs = 0;

  increment(event: PairEvent): void {
    const cell = this.#byEvent.get(event);
    if (cell !== undefined) cell.n++;
    else this.#add(event);
  }

  #add(event: PairEvent): void {
    const { clientId } = event;
    let scope = event.scope;
    let byScope = this.#byClient.get(clientId);
    if (byScope === undefined) {
      byScope = new Map();
      this.#byClient.set(clientId, byScope);
    }
    let cell = byScope.get(scope);
    if (cell === undefined && this.#pairs >= MAX_PAIRS) {
      scope = '(other)';
      cell = byScope.get(scope);
    }
    if (cell === undefined) {
      this.#pairs++;
      cell = { n: 0, attributes: { [PORTVAKT_ATTRIBUTES.clientId]: clientId, [PORTVAKT_ATTRIBUTES.scope]: scope } };
      byScope.set(scope, cell);
    }
    cell.n++;
    // Frozen payloads are reused (core's); any other object is counted by value each time.
    if (Object.isFrozen(event)) this.#byEvent.set(event, cell);
  }

  observe(result: ObservableResult): void {
    for (const byScope of this.#byClient.values()) for (const cell of byScope.values()) result.observe(cell.n, cell.attributes);
  }
}

/** Core's live hit count of one client and scope (the `cacheHitCount` channel's payload). */
export interface HitTally {
  readonly clientId: string;
  readonly scope: string;
  readonly hits: number;
}

/**
 * Hits from core's live tallies: a hit costs the instrumentation nothing but core's increment.
 * Each tally is read relative to its count when this instrumentation first saw it (the hit that
 * published it included), so a tally that was counting for an earlier listener starts from zero.
 */
export class HitTallies {
  readonly #base = new Map<HitTally, number>();
  readonly #attributes = new Map<string, Attributes>();

  see(tally: HitTally): void {
    if (!this.#base.has(tally) && this.#base.size < MAX_PAIRS) this.#base.set(tally, tally.hits - 1);
  }

  observe(result: ObservableResult): void {
    // Two clients with one client id have a tally each: report their sum.
    const sums = new Map<string, number>();
    for (const [tally, base] of this.#base) {
      const pair = `${tally.clientId}\n${tally.scope}`;
      sums.set(pair, (sums.get(pair) ?? 0) + tally.hits - base);
      if (!this.#attributes.has(pair)) this.#attributes.set(pair, { [PORTVAKT_ATTRIBUTES.clientId]: tally.clientId, [PORTVAKT_ATTRIBUTES.scope]: tally.scope });
    }
    for (const [pair, n] of sums) result.observe(n, this.#attributes.get(pair)!);
  }
}
