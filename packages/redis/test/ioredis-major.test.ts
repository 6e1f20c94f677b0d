// Which ioredis the suite runs on in this project: `ioredis` is 5, or 6 through the alias.
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { expect, it } from 'vitest';
import { createRedisTokenStore, valkeyOptions } from '@portvakt/redis';

const require = createRequire(import.meta.url);

it(`runs on ioredis ${process.env.PORTVAKT_IOREDIS ?? '?'}`, () => {
  expect(['5', '6']).toContain(process.env.PORTVAKT_IOREDIS);
  const five = require('ioredis') as { Redis: unknown };
  const six = require('ioredis6') as { Redis: unknown };
  expect(Redis === six.Redis).toBe(process.env.PORTVAKT_IOREDIS === '6');
  expect(Redis === five.Redis).toBe(process.env.PORTVAKT_IOREDIS === '5');
  // 6 speaks RESP3 unless told otherwise.
  expect((new Redis({ lazyConnect: true }).options as { protocol?: number }).protocol ?? 2).toBe(process.env.PORTVAKT_IOREDIS === '6' ? 3 : 2);
});

// Types: the store and valkeyOptions() take ioredis 6's Redis and Cluster as they take 5's
// (`npm run typecheck` compiles this file; `ioredis` itself is 5 there).
it('takes ioredis 6 clients and gives ioredis 6 options, as the compiler sees them', () => {
  const options = valkeyOptions('valkey://127.0.0.1:1');
  const redis = new Redis6({ ...options, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const cluster = new Cluster6([{ host: options.host, port: options.port }], { redisOptions: { ...options }, lazyConnect: true });
  const five = new Redis({ ...options, lazyConnect: true });
  try {
    for (const client of [redis, cluster, five]) expect(typeof createRedisTokenStore({ redis: client }).load).toBe('function');
  } finally {
    redis.disconnect();
    cluster.disconnect();
    five.disconnect();
  }
});
