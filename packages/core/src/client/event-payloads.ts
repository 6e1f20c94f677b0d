// The payloads of a client's cache events, one set per scope, made once: a cache hit that someone
// listens to then allocates nothing, and a listener can tell scopes apart by identity. Hits can
// also be counted instead of published one by one, for listeners on the hot path (OpenTelemetry).
import { channels } from '../diagnostics.js';

/** Beyond this many scopes, a client's further scopes share one tally, under the scope `(other)`. */
const MAX_SCOPES = 1_000;

/** A publish of the tally every this many hits (and at the first), so a late listener finds it. */
const HIT_TALLY_EVERY = 1024;

/** The live hit count of one client and scope; `hits` grows while the hit-count channel has listeners. */
export interface HitTally {
  readonly clientId: string;
  readonly scope: string;
  hits: number;
}

/** What a slot carries for its cache events. */
export interface ScopePayloads {
  /** Frozen `{ clientId, scope }`: the payload of the hit, miss and refresh events. */
  readonly event: Readonly<{ clientId: string; scope: string }>;
  readonly tally: HitTally;
}

/** The payloads of each scope of one client, memoised. */
export function createScopePayloads(clientId: string): (scope: string) => ScopePayloads {
  const byScope = new Map<string, ScopePayloads>();
  let other: HitTally | undefined;
  return (scope) => {
    const known = byScope.get(scope);
    if (known !== undefined) return known;
    const event = Object.freeze({ clientId, scope });
    if (byScope.size >= MAX_SCOPES) return { event, tally: (other ??= { clientId, scope: '(other)', hits: 0 }) };
    const payloads = { event, tally: { clientId, scope, hits: 0 } };
    byScope.set(scope, payloads);
    return payloads;
  };
}

/** Counts a hit; call only when `channels.cacheHitCount.hasSubscribers`. */
export function countHit(tally: HitTally): void {
  if (tally.hits++ % HIT_TALLY_EVERY === 0) channels.cacheHitCount.publish(tally);
}
