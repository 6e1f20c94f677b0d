import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, createMaskinportenClient } from '@portvakt/core';
import type { StoredToken } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createRedisTokenStore } from '@portvakt/redis';
import { startRedisServer } from './redis-server.js';
import type { RedisServer } from './redis-server.js';

const key = generateClientKey({ kid: 'fleet-key' });
const ENC = Buffer.alloc(32, 1);
let server: RedisServer;
let sim: MaskinportenSimulator;
const connections: Redis[] = [];
const connect = () => {
  const r = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: false });
  r.on('error', () => undefined);
  connections.push(r);
  return r;
};
const token = (value: string, ttlMs = 120_000): StoredToken => ({ accessToken: value, tokenType: 'Bearer', expiresAt: Date.now() + ttlMs, issuedAt: Date.now(), scope: 's' });

beforeAll(async () => {
  server = await startRedisServer();
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'fleet', orgno: '991825827', scopes: ['fleet:read', 'a', 'b'], jwks: [key.publicJwk] }] });
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await sim.close();
  await server.stop();
});

describe('the store', () => {
  it('shares a token between two connections and fetches once', async () => {
    let fetches = 0;
    const fetch = async () => (fetches++, token('eyJshared'));
    const a = createRedisTokenStore({ redis: connect() });
    const b = createRedisTokenStore({ redis: connect() });
    const [x, y] = [await a.load('k1', fetch, { minValidUntil: Date.now() }), await b.load('k1', fetch, { minValidUntil: Date.now() })];
    expect(x.accessToken).toBe('eyJshared');
    expect(y.accessToken).toBe('eyJshared');
    expect(fetches).toBe(1);
  });

  it('lets one of many concurrent stores fetch while the others wait for its token', async () => {
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 100));
      return token('eyJfleet');
    };
    const stores = Array.from({ length: 10 }, () => createRedisTokenStore({ redis: connect() }));
    const got = await Promise.all(stores.map((s) => s.load('k2', fetch, { minValidUntil: Date.now() })));
    expect(fetches).toBe(1);
    expect(new Set(got.map((t) => t.accessToken))).toEqual(new Set(['eyJfleet']));
  });

  it('encrypts values (no eyJ in Redis) and treats a tampered value as a miss', async () => {
    const raw = connect();
    const store = createRedisTokenStore({ redis: raw, encryptionKey: ENC.toString('base64') });
    let fetches = 0;
    const fetch = async () => (fetches++, token(`eyJsecret-${fetches}`));
    await store.load('k3', fetch, { minValidUntil: Date.now() });
    const stored = (await raw.get('portvakt:token:{k3}')) as string;
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain('eyJ');
    const flipped = stored.slice(0, -3) + (stored.at(-3) === 'A' ? 'B' : 'A') + stored.slice(-2);
    await raw.set('portvakt:token:{k3}', flipped, 'PX', 60_000);
    const after = await store.load('k3', fetch, { minValidUntil: Date.now() });
    expect(fetches).toBe(2);
    expect(after.accessToken).toBe('eyJsecret-2');
    // a value moved to another key does not open either
    await raw.set('portvakt:token:{k4}', (await raw.get('portvakt:token:{k3}')) as string, 'PX', 60_000);
    await store.load('k4', fetch, { minValidUntil: Date.now() });
    expect(fetches).toBe(3);
  });

  it('sets TTL to the remaining lifetime minus the safety margin, and invalidates only the same token', async () => {
    const raw = connect();
    const store = createRedisTokenStore({ redis: raw, safetyMargin: 10_000 });
    await store.load('k5', async () => token('eyJttl', 60_000), { minValidUntil: Date.now() });
    const ttl = await raw.pttl('portvakt:token:{k5}');
    expect(ttl).toBeGreaterThan(40_000);
    expect(ttl).toBeLessThanOrEqual(50_000);
    await store.invalidate!('k5', 'eyJother');
    expect(await raw.exists('portvakt:token:{k5}')).toBe(1);
    await store.invalidate!('k5', 'eyJttl');
    expect(await raw.exists('portvakt:token:{k5}')).toBe(0);
  });

  it.each([4, 12])('never opens a sealed value whose tag was cut to %i bytes', async (bytes) => {
    const raw = connect();
    const store = createRedisTokenStore({ redis: raw, encryptionKey: ENC });
    let fetches = 0;
    const fetch = async () => (fetches++, token(`eyJtag-${fetches}`));
    await store.load(`tag${bytes}`, fetch, { minValidUntil: Date.now() });
    const redisKey = `portvakt:token:{tag${bytes}}`;
    const sealed = (await raw.get(redisKey)) as string;
    const parts = sealed.split('.');
    expect(Buffer.from(parts[3]!, 'base64url')).toHaveLength(16);
    // A prefix of the genuine tag: GCM verifies a truncated tag unless told the length to expect.
    parts[3] = Buffer.from(parts[3]!, 'base64url').subarray(0, bytes).toString('base64url');
    await raw.set(redisKey, parts.join('.'), 'PX', 60_000);
    const after = await store.load(`tag${bytes}`, fetch, { minValidUntil: Date.now() });
    expect(fetches).toBe(2);
    expect(after.accessToken).toBe('eyJtag-2');
  });

  it.each(['encryption_key', 'encryptKey', 'key', 'ENCRYPTION_KEY', 'encryptionkey', 'aesKey', 'secret'])(
    'refuses the unknown option %s, naming it and suggesting encryptionKey, without echoing its value',
    (name) => {
      const value = ENC.toString('base64');
      let error: unknown;
      try {
        createRedisTokenStore({ redis: connect(), [name]: value } as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ field: name });
      expect((error as Error).message).toContain(`"${name}"`);
      expect((error as Error).message).toContain('did you mean "encryptionKey"?');
      expect((error as Error).message).not.toContain(value);
    },
  );

  it.each([
    ['keyprefix', 'keyPrefix'],
    ['prefix', 'keyPrefix'],
    ['operation_timeout', 'operationTimeout'],
    ['timeout', 'operationTimeout'],
    ['lockTTL', 'lockTtl'],
    ['waitTimeOut', 'waitTimeout'],
    ['margin', 'safetyMargin'],
    ['client', 'redis'],
  ])('refuses the unknown option %s and suggests %s', (name, meant) => {
    expect(() => createRedisTokenStore({ redis: connect(), [name]: 1 } as never)).toThrow(
      expect.objectContaining({ field: name, message: expect.stringContaining(`did you mean "${meant}"?`) }),
    );
  });

  it('refuses an unknown option it has no guess for, listing the options', () => {
    expect(() => createRedisTokenStore({ redis: connect(), encryptionKey: ENC, zzz: true } as never)).toThrow(
      expect.objectContaining({ field: 'zzz', message: expect.stringContaining('the options here are redis, keyPrefix, encryptionKey,') }),
    );
  });

  it('validates its options', () => {
    expect(() => createRedisTokenStore({ redis: connect(), encryptionKey: 'short' })).toThrow(expect.objectContaining({ field: 'encryptionKey' }));
    expect(() => createRedisTokenStore({ redis: {} as never })).toThrow(ConfigurationError);
    expect(() => createRedisTokenStore({ redis: connect(), operationTimeout: -5 })).toThrow(expect.objectContaining({ field: 'operationTimeout' }));
    expect(() => createRedisTokenStore({ redis: connect(), clock: {} as never })).toThrow(expect.objectContaining({ field: 'clock' }));
  });
});

describe('with the client', () => {
  it('fails 0 calls when Redis is stopped in the middle of a run', async () => {
    const mine = await startRedisServer();
    const redis = new Redis(mine.port, '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 200 });
    redis.on('error', () => undefined);
    const client = createMaskinportenClient({
      clientId: 'fleet', environment: sim.environment(), key: { jwk: key.privateJwk },
      cache: { store: createRedisTokenStore({ redis, operationTimeout: 100 }) },
    });
    let failed = 0;
    let done = 0;
    const scopes = ['a', 'b', 'fleet:read', 'a b'];
    for (let round = 0; round < 20; round++) {
      if (round === 8) await mine.stop();
      const batch = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => client.getToken({ scope: scopes[i % scopes.length] })));
      failed += batch.filter((r) => r.status === 'rejected').length;
      done += batch.length;
      if (round % 4 === 3) for (const t of batch) if (t.status === 'fulfilled') client.invalidate(t.value); // force fresh loads through the store
    }
    expect(done).toBe(400);
    expect(failed).toBe(0);
    await client.close();
    redis.disconnect();
  });
});
