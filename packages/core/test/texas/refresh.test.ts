// The Texas refresh rule (src/texas/refresh.ts): for every lifetime Texas may hand out and every
// moment it may be asked, the refresh comes at or after Texas' eviction, and before callers block.
import { describe, expect, it } from 'vitest';
import { afterTexasEviction } from '../../src/texas/refresh.js';
import { validateCachePolicy } from '../../src/client/options.js';

const policy = validateCachePolicy(undefined);
const T0 = 1_800_000_000_000;

/** When Texas (nais/texas src/cache.rs) drops a token of lifetime L seconds it fetched at `fetchedAt`. */
const texasEviction = (fetchedAt: number, lifetime: number) => fetchedAt + (lifetime > 120 ? lifetime - 120 : lifetime / 2) * 1000;

describe('afterTexasEviction', () => {
  it('a fresh 300 s token: refresh from 182 s (Texas evicts at 180 s), callers block from 270 s', () => {
    const schedule = afterTexasEviction({ accessToken: 't', issuedAtMs: T0, expiresAtMs: T0 + 300_000 }, policy, () => 0);
    expect(schedule).toEqual({ refreshAt: T0 + 182_000, blockAt: T0 + 270_000 });
  });

  it('a fresh 120 s token: refresh from 62 s (Texas evicts at 60 s), callers block from 108 s', () => {
    expect(afterTexasEviction({ accessToken: 't', issuedAtMs: T0, expiresAtMs: T0 + 120_000 }, policy, () => 0)).toEqual({ refreshAt: T0 + 62_000, blockAt: T0 + 108_000 });
  });

  it('an hour token: callers block 60 s before expiry at the earliest, after the refresh point', () => {
    const schedule = afterTexasEviction({ accessToken: 't', issuedAtMs: T0, expiresAtMs: T0 + 3_600_000 }, policy, () => 0.99);
    expect(schedule.blockAt).toBe(T0 + 3_540_000);
    expect(schedule.refreshAt).toBeGreaterThanOrEqual(T0 + 3_482_000);
    expect(schedule.refreshAt).toBeLessThan(schedule.blockAt);
  });

  it('whenever Texas is asked, the refresh comes after its eviction and before the token is blocked', () => {
    const wrong: string[] = [];
    for (const lifetime of [10, 30, 60, 100, 119, 120, 121, 150, 240, 241, 300, 600, 3600, 7200]) {
      const evictedAt = texasEviction(T0, lifetime);
      // Asked at moments all through the time Texas holds the token; it says what is left rounded
      // down to whole seconds, so our view of the expiry is up to a second early.
      const step = Math.max(1000, Math.floor((evictedAt - T0) / 200));
      for (let at = T0 + 300; at < evictedAt; at += step) {
        const left = Math.floor((T0 + lifetime * 1000 - at) / 1000);
        for (const random of [0, 0.5, 0.999]) {
          const { refreshAt, blockAt } = afterTexasEviction({ accessToken: 't', issuedAtMs: at, expiresAtMs: at + left * 1000 }, policy, () => random);
          if (!(refreshAt >= evictedAt && refreshAt <= blockAt && blockAt < at + left * 1000)) wrong.push(`lifetime ${lifetime} s, asked at ${(at - T0) / 1000} s`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
