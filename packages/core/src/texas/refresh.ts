// When a token from NAIS Texas is refreshed. Texas keeps each token in a cache of its own and
// evicts it 120 s before it expires, or at half its remaining life when that is 120 s or less
// (docs/maskinporten-rules.md §11.1). Until then, asking Texas again gets the same token back, with
// less time left: refreshing earlier would cost requests and gain nothing (and with the client's
// rule, half the lifetime, the next refresh would come at half of what is left, again and again).
//
// The rule: a token Texas said has `E` seconds left is refreshed no earlier than
// `expiry - min(120 s, E / 2)`, plus 2 s. Texas evicts a token of lifetime `L` at
// `expiry - min(120 s, L / 2)`, and `E <= L` (E is what is left of L), so
// `min(120 s, E / 2) <= min(120 s, L / 2)`: the refresh comes at or after Texas' eviction. The 2 s
// cover Texas rounding `expires_in` down to whole seconds and the time its answer takes to arrive,
// which make our view of the expiry up to a second or so early. Callers wait for a new token only
// inside the safety margin, kept to at most half of what is left after Texas' eviction, so a
// background refresh always has time to run first.
import { safetyMarginMs } from '../cache/index.js';
import type { ScheduleOf } from '../cache/index.js';

/** Texas evicts a cached token this long before it expires (nais/texas src/cache.rs). */
export const TEXAS_EVICTION_LEAD_MS = 120_000;
/** How long after Texas' eviction (as we can know it) the refresh is due. */
const AFTER_EVICTION_MS = 2_000;

/**
 * The refresh schedule of a token from Texas: the background refresh at or after Texas' eviction
 * (spread over part of the time left by `jitter`), callers blocked only inside the safety margin.
 */
export const afterTexasEviction: ScheduleOf = (token, policy, random) => {
  const left = Math.max(0, token.expiresAtMs - token.issuedAtMs);
  const lead = Math.min(TEXAS_EVICTION_LEAD_MS, left / 2);
  const blockAt = token.expiresAtMs - Math.min(safetyMarginMs(policy, token.issuedAtMs, token.expiresAtMs), lead / 2);
  const earliest = token.expiresAtMs - lead + AFTER_EVICTION_MS;
  return { blockAt, refreshAt: Math.min(blockAt, earliest + random() * policy.jitter * Math.max(0, blockAt - earliest)) };
};
