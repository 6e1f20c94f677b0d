// Which ioredis the suite runs on in this project: `ioredis` is 5, or 6 through the alias.
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';

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
