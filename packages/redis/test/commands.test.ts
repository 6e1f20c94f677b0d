// Every Redis command the store sends is bounded by operationTimeout, however the client answers:
// a promise, a rejection, a value that is not a promise, a synchronous throw, or never. Each ends as
// a hit or as a fetch of the process's own, leaves no timer behind, and rejects nothing unhandled.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoredToken } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';
import type { RedisLike } from '@portvakt/redis';

const token = (value: string, ttlMs = 120_000): StoredToken => ({ accessToken: value, tokenType: 'Bearer', expiresAt: Date.now() + ttlMs, issuedAt: Date.now(), scope: 's' });

/** A RedisLike whose GET answers with `get`; SET and EVAL succeed. */
function redisWith(get: (key: string) => unknown): RedisLike {
  return {
    status: 'ready',
    get: get as RedisLike['get'],
    set: (async () => 'OK') as RedisLike['set'],
    eval: async () => 0,
    on: () => undefined,
    listenerCount: () => 1,
  };
}

const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  vi.useRealTimers();
});

describe('a Redis command, however the client answers it', () => {
  const stored = JSON.stringify(token('from-redis'));
  const cases: [string, 'hit' | 'fetch', (key: string) => unknown][] = [
    ['a promise of the value', 'hit', async () => stored],
    ['the value itself, not a promise', 'hit', () => stored],
    ['a rejected promise', 'fetch', async () => Promise.reject(new Error('READONLY'))],
    ['a synchronous throw', 'fetch', () => {
      throw new Error('Connection is closed.');
    }],
  ];
  it.each(cases)('%s: ends as a %s, with no timer left and nothing unhandled', async (_what, outcome, get) => {
    const before = timers();
    const store = createRedisTokenStore({ redis: redisWith(get), operationTimeout: 60_000 });
    let fetched = 0;
    for (let call = 0; call < 50; call++) {
      const got = await store.load('k', async () => {
        fetched += 1;
        return token('own');
      }, { minValidUntil: Date.now() });
      expect(got.accessToken).toBe(outcome === 'hit' ? 'from-redis' : 'own');
    }
    expect(fetched).toBe(outcome === 'hit' ? 0 : 50);
    // The 60 s timers of 50 loads (and their locks' SETs) were all cleared as each command ended.
    expect(timers()).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });

  it('never answered: each load gives up after operationTimeout and fetches, load after load', async () => {
    vi.useFakeTimers();
    const store = createRedisTokenStore({ redis: redisWith(() => new Promise(() => undefined)), operationTimeout: 200 });
    for (let call = 0; call < 20; call++) {
      let settled = false;
      const pending = store.load('k', async () => token(`own-${call}`), { minValidUntil: Date.now() }).then((t) => {
        settled = true;
        return t;
      });
      await vi.advanceTimersByTimeAsync(199);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect((await pending).accessToken).toBe(`own-${call}`);
    }
    expect(vi.getTimerCount()).toBe(0);
    expect(unhandled).toEqual([]);
  });
});
