// Counts kept in plain numbers and handed to OpenTelemetry at collection time. A cache hit is the
// hot path (about a hundred nanoseconds); a synchronous counter would hash its attributes on every
// call and cost several times the hit itself, so hits, misses and refreshes are counted here and
// reported by observable counters instead.
import type { Attributes, ObservableResult } from '@opentelemetry/api';
import { PORTVAKT_ATTRIBUTES } from './names.js';

/** Beyond this many client and scope pairs, new pairs are counted under the scope `(other)`. */
export const MAX_PAIRS = 1_000;

interface Cell {
  n: number;
  readonly attributes: Attributes;
}

/** Monotonic counts per client id and scope. */
export class PairCounts {
  readonly #byClient = new Map<string, Map<string, Cell>>();
  #pairs = 0;

  increment(clientId: string, scope: string): void {
    const byScope = this.#byClient.get(clientId);
    const cell = byScope?.get(scope);
    if (cell !== undefined) cell.n++;
    else this.#add(clientId, scope, byScope);
  }

  #add(clientId: string, scope: string, byScope: Map<string, Cell> | undefined): void {
    if (byScope === undefined) {
      byScope = new Map();
      this.#byClient.set(clientId, byScope);
    }
    if (this.#pairs >= MAX_PAIRS) {
      const other = byScope.get('(other)');
      if (other !== undefined) return void other.n++;
      scope = '(other)';
    }
    this.#pairs++;
    byScope.set(scope, { n: 1, attributes: { [PORTVAKT_ATTRIBUTES.clientId]: clientId, [PORTVAKT_ATTRIBUTES.scope]: scope } });
  }

  observe(result: ObservableResult): void {
    for (const byScope of this.#byClient.values()) for (const cell of byScope.values()) result.observe(cell.n, cell.attributes);
  }
}
