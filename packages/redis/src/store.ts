// A TokenStore on Redis: the in-process cache stays in front; Redis is read on a local miss, and a
// fleet-wide miss is fetched by one process holding a short lock while the others wait for it.
import { randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { ConfigurationError, DIAGNOSTICS_CHANNELS } from '@portvakt/core';
import type { Clock, StoredToken, TokenStore } from '@portvakt/core';
import { numberOption, refuseUnknownOptions, validateClock } from '@portvakt/core/internal';
import { open, parseEncryptionKey, seal } from './crypto.js';

/**
 * The parts of an ioredis `Redis` or `Cluster` the store uses. `status`, `connect`, `once` and
 * `removeListener` are optional: with them the store waits for a client that is still connecting
 * instead of giving up on its first command.
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * const redis: RedisLike = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
 * ```
 */
export interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** ioredis' connection state: `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close`, `end`. */
  readonly status?: string | undefined;
  connect?(): Promise<unknown>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  once?(event: 'ready' | 'end', listener: () => void): unknown;
  removeListener?(event: 'ready' | 'end', listener: () => void): unknown;
  listenerCount?(event: string): number;
}

/**
 * Options of {@link createRedisTokenStore}. Any other key is refused with a `ConfigurationError`,
 * so a misspelt `encryptionKey` cannot leave tokens in Redis unencrypted.
 *
 * @example
 * ```ts
 * const options: RedisTokenStoreOptions = { redis: new Redis(process.env.REDIS_URL!), encryptionKey: process.env.PORTVAKT_TOKEN_KEY! };
 * ```
 */
export interface RedisTokenStoreOptions {
  /** Your ioredis client (Redis 6+ or Valkey). The store never closes it. */
  redis: RedisLike;
  /** Prefix of every key; default `portvakt:token:`. */
  keyPrefix?: string | undefined;
  /** 32 bytes (Buffer, base64 or hex): values are sealed with AES-256-GCM. Strongly recommended. */
  encryptionKey?: Uint8Array | string | undefined;
  /**
   * Longest a Redis call may take before the store gives up on it, ms; default 200. Also the
   * longest a load waits for a client that is still connecting to become ready.
   */
  operationTimeout?: number | undefined;
  /** Lock lifetime for the process that fetches, ms; default 10 000. */
  lockTtl?: number | undefined;
  /** How long other processes wait for the lock holder's token before fetching themselves, ms; default 5 000. */
  waitTimeout?: number | undefined;
  /**
   * Subtracted from the remaining lifetime to get the Redis TTL, ms; default 5 000. A token read
   * back with no more than this left counts as absent, as Redis would have expired it.
   */
  safetyMargin?: number | undefined;
  /** The clock tokens' times are in (epoch ms); default `Date`. Pass the client's `clock` if you inject one. */
  clock?: Clock | undefined;
}

const OPTIONS = ['redis', 'keyPrefix', 'encryptionKey', 'operationTimeout', 'lockTtl', 'waitTimeout', 'safetyMargin', 'clock'] as const;
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const FAILED = Symbol('redis failed');
/** ioredis states on the way to `ready`: worth waiting for rather than failing the first command. */
const ON_THE_WAY = new Set(['wait', 'connecting', 'connect', 'reconnecting']);

// Hits, misses and lock waits for listeners such as @portvakt/opentelemetry; each publish is
// guarded, so nobody listening costs nothing. Payloads: DIAGNOSTICS_CHANNELS in @portvakt/core.
const hitChannel = diagnostics.channel(DIAGNOSTICS_CHANNELS.redisHit);
const missChannel = diagnostics.channel(DIAGNOSTICS_CHANNELS.redisMiss);
const lockWaitChannel = diagnostics.channel(DIAGNOSTICS_CHANNELS.redisLockWait);

/** Guesses for names the edit distance misses: an encryption option spelt any way above all. */
function guessOption(plain: string): string | undefined {
  // Anything about encryption or a bare "key": the costly typo, as the token would then be stored in clear.
  if (/crypt|cipher|secret|aes|seal/.test(plain) || plain === 'key') return 'encryptionKey';
  if (/prefix|namespace/.test(plain)) return 'keyPrefix';
  if (/lock/.test(plain)) return 'lockTtl';
  if (/wait/.test(plain)) return 'waitTimeout';
  if (/margin/.test(plain)) return 'safetyMargin';
  if (/timeout/.test(plain)) return 'operationTimeout';
  if (/client|connection|ioredis/.test(plain)) return 'redis';
  return undefined;
}

/** A positive number of milliseconds, with its default. */
const POSITIVE_MS = (fallback: number) => ({ fallback, min: 0, minExclusive: true, unit: 'milliseconds' });

const OPTION_RULES = {
  owner: 'createRedisTokenStore()',
  guess: guessOption,
  warnings: { encryptionKey: 'Without encryptionKey, tokens would be stored in Redis in clear.' },
};

function parseToken(text: string | undefined): StoredToken | undefined {
  if (text === undefined) return undefined;
  try {
    const t = JSON.parse(text) as StoredToken;
    return typeof t.accessToken === 'string' && typeof t.tokenType === 'string' && typeof t.expiresAt === 'number' && typeof t.issuedAt === 'number' ? t : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates a token store on Redis for `createMaskinportenClient({ cache: { store } })`. Redis slow
 * or down costs a call at most `operationTimeout` per Redis command and never fails it: the
 * process then fetches on its own. A client that is still connecting is waited for (at most
 * `operationTimeout`) before the first command, so a fleet that starts at once still fetches once.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createMaskinportenClient } from '@portvakt/core';
 * import { createRedisTokenStore } from '@portvakt/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
 * const client = createMaskinportenClient({
 *   clientId, environment: 'prod', key: { jwk }, scope: 'nav:aareg',
 *   cache: { store: createRedisTokenStore({ redis, encryptionKey: process.env.PORTVAKT_TOKEN_KEY! }) },
 * });
 * ```
 */
export function createRedisTokenStore(options: RedisTokenStoreOptions): TokenStore {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigurationError('options', 'must be an object: { redis, encryptionKey }.');
  refuseUnknownOptions(options, OPTIONS, '', OPTION_RULES);
  const { redis } = options;
  if (typeof redis?.get !== 'function' || typeof redis.set !== 'function' || typeof redis.eval !== 'function') {
    throw new ConfigurationError('redis', 'must be an ioredis client (new Redis(url)) or Cluster.');
  }
  const prefix = options.keyPrefix ?? 'portvakt:token:';
  if (typeof prefix !== 'string') throw new ConfigurationError('keyPrefix', 'must be a string such as "myapp:portvakt:".');
  const key = options.encryptionKey === undefined ? undefined : parseEncryptionKey(options.encryptionKey);
  const opTimeout = numberOption(options.operationTimeout, 'operationTimeout', POSITIVE_MS(200));
  const lockTtl = numberOption(options.lockTtl, 'lockTtl', POSITIVE_MS(10_000));
  const waitTimeout = numberOption(options.waitTimeout, 'waitTimeout', POSITIVE_MS(5_000));
  const margin = numberOption(options.safetyMargin, 'safetyMargin', POSITIVE_MS(5_000));
  const clock = validateClock(options.clock);
  const now = () => clock.now();
  // A Redis that goes down must never crash the process: an ioredis client without an 'error'
  // listener would throw on a connection error.
  if (typeof redis.on === 'function' && redis.listenerCount?.('error') === 0) redis.on('error', () => undefined);

  /** Resolves with FAILED after `ms`, or at once when `signal` aborts; `cancel` clears the timer. */
  function giveUpAfter(ms: number, signal: AbortSignal | undefined): { promise: Promise<typeof FAILED>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const promise = new Promise<typeof FAILED>((resolve) => {
      timer = setTimeout(() => resolve(FAILED), ms);
      if (signal) {
        onAbort = () => resolve(FAILED);
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    return {
      promise,
      cancel() {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      },
    };
  }

  /**
   * `op`'s result, or FAILED when it throws, rejects or takes longer than `opTimeout`. One promise
   * and one timer per command: it runs on every Redis hit.
   */
  function bounded<T>(op: () => Promise<T>): Promise<T | typeof FAILED> {
    let pending: Promise<T>;
    try {
      pending = op();
    } catch {
      return Promise.resolve(FAILED);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, opTimeout, FAILED);
      const settle = (value: T | typeof FAILED) => {
        clearTimeout(timer);
        resolve(value);
      };
      Promise.resolve(pending).then(settle, () => settle(FAILED));
    });
  }

  // One pair of listeners however many loads wait, so a fleet of keys cannot pile them up.
  let readyOrEnd: Promise<void> | undefined;
  function nextReadyOrEnd(): Promise<void> {
    readyOrEnd ??= new Promise<void>((resolve) => {
      const done = () => {
        redis.removeListener?.('ready', done);
        redis.removeListener?.('end', done);
        readyOrEnd = undefined;
        resolve();
      };
      redis.once!('ready', done);
      redis.once!('end', done);
    });
    return readyOrEnd;
  }

  /**
   * Whether to use Redis for this call. A client on its way to `ready` (still connecting when the
   * process has just started, or reconnecting) is waited for, at most `operationTimeout` and no
   * longer than the caller's signal allows: with `enableOfflineQueue: false` its first command
   * would otherwise fail at once and every fresh process would fetch a token of its own.
   */
  function usable(signal: AbortSignal | undefined): boolean | Promise<boolean> {
    const status = redis.status;
    // A ready client (every call but a process's first few) is answered without a promise.
    if (status === undefined || !ON_THE_WAY.has(status) || typeof redis.once !== 'function') return true;
    return untilUsable(status, signal);
  }

  async function untilUsable(status: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return false;
    // A lazyConnect client connects on its first command anyway; start it so it can become ready.
    if (status === 'wait' && typeof redis.connect === 'function') redis.connect().catch(() => undefined);
    const limit = giveUpAfter(opTimeout, signal);
    try {
      await Promise.race([nextReadyOrEnd(), limit.promise]);
    } finally {
      limit.cancel();
    }
    return redis.status === 'ready';
  }

  // The hash tag keeps a token and its lock in one Cluster slot.
  const dataKey = (k: string) => `${prefix}{${k}}`;
  const lockKey = (k: string) => `${prefix}{${k}}:lock`;

  type Seen = { raw: string; token: StoredToken | undefined } | undefined | typeof FAILED;

  /** What GET answers for `k`: FAILED, absent, or the raw text and the token it opens to. */
  async function read(k: string): Promise<Seen> {
    const redisKey = dataKey(k);
    const raw = await bounded(() => redis.get(redisKey));
    if (raw === FAILED) return FAILED;
    if (raw === null) return undefined;
    return { raw, token: parseToken(key ? open(key, redisKey, raw) : raw) };
  }

  /**
   * A token read back is good for this load when it lasts until `minValidUntil` (on a
   * refresh-ahead core asks for one newer than the token it replaces) and, as its Redis TTL
   * says, is not yet inside the safety margin.
   */
  function good(seen: Seen, minValidUntil: number): StoredToken | undefined {
    if (seen === FAILED || seen?.token === undefined) return undefined;
    const { expiresAt } = seen.token;
    return expiresAt >= minValidUntil && expiresAt - now() > margin ? seen.token : undefined;
  }

  async function write(k: string, token: StoredToken): Promise<void> {
    const ttl = Math.floor(token.expiresAt - now() - margin);
    if (ttl <= 0) return;
    const json = JSON.stringify(token);
    await bounded(() => redis.set(dataKey(k), key ? seal(key, dataKey(k), json) : json, 'PX', ttl));
  }

  async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const pause = giveUpAfter(ms, signal);
    try {
      await pause.promise;
    } finally {
      pause.cancel();
    }
  }

  /** Tries to take the lock: 'held' when we have it, 'busy' when another process has, or FAILED. */
  async function lock(k: string, owner: string): Promise<'held' | 'busy' | typeof FAILED> {
    const result = await bounded(() => redis.set(lockKey(k), owner, 'PX', lockTtl, 'NX'));
    return result === FAILED ? FAILED : result === 'OK' ? 'held' : 'busy';
  }

  /** With the lock held: read again (a process that fetched just before us wrote first), else fetch and share. */
  async function fetchUnderLock(k: string, owner: string, minValidUntil: number, fetch: () => Promise<StoredToken>, found: (token: StoredToken) => StoredToken): Promise<StoredToken> {
    try {
      const again = good(await read(k), minValidUntil);
      if (again) return found(again);
      const token = await fetch();
      await write(k, token);
      return token;
    } finally {
      void bounded(() => redis.eval(RELEASE, 1, lockKey(k), owner));
    }
  }

  return {
    async load(k, fetch, { minValidUntil, signal }) {
      const hit = (waited: boolean, token: StoredToken): StoredToken => {
        if (hitChannel.hasSubscribers) hitChannel.publish({ keyPrefix: prefix, waited });
        return token;
      };
      const miss = (reason: 'absent' | 'unavailable' | 'wait-timeout'): Promise<StoredToken> => {
        if (missChannel.hasSubscribers) missChannel.publish({ keyPrefix: prefix, reason });
        return fetch();
      };
      const ready = usable(signal);
      if (ready !== true && !(await ready)) return miss('unavailable');
      const first = await read(k);
      if (first === FAILED) return miss('unavailable');
      const shared = good(first, minValidUntil);
      if (shared) return hit(false, shared);
      const owner = randomUUID();
      let state = await lock(k, owner);
      if (state === FAILED) return miss('unavailable');
      if (state === 'held') return fetchUnderLock(k, owner, minValidUntil, () => miss('absent'), (token) => hit(false, token));
      // Another process is fetching: wait for its token. When its lock goes without a token good
      // enough (its fetch failed), take the lock ourselves rather than wait out `waitTimeout`.
      const started = performance.now();
      const deadline = started + waitTimeout;
      const waited = (outcome: 'token' | 'lock' | 'timeout' | 'aborted' | 'unavailable') => {
        if (lockWaitChannel.hasSubscribers) lockWaitChannel.publish({ keyPrefix: prefix, waitedMs: performance.now() - started, outcome });
      };
      let delay = 20;
      let ended: 'timeout' | 'aborted' | 'unavailable' = 'timeout';
      while (state === 'busy' && performance.now() < deadline && !signal?.aborted) {
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 200);
        const seen = await read(k);
        if (seen === FAILED) {
          ended = 'unavailable';
          break;
        }
        const theirs = good(seen, minValidUntil);
        if (theirs) {
          waited('token');
          return hit(true, theirs);
        }
        state = await lock(k, owner);
      }
      if (state === 'held') {
        waited('lock');
        return fetchUnderLock(k, owner, minValidUntil, () => miss('absent'), (token) => hit(true, token));
      }
      if (state === FAILED) ended = 'unavailable';
      else if (signal?.aborted) ended = 'aborted';
      waited(ended);
      return miss(ended === 'unavailable' ? 'unavailable' : 'wait-timeout');
    },
    async invalidate(k, accessToken) {
      const ready = usable(undefined);
      if (ready !== true && !(await ready)) return;
      const current = await read(k);
      if (current === FAILED || !current || current.token?.accessToken !== accessToken) return;
      // Compare-and-delete on the exact value read, so a newer token written meanwhile survives.
      await bounded(() => redis.eval(RELEASE, 1, dataKey(k), current.raw));
    },
  };
}
