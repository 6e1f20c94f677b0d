// One replica of the fleet test: its own client and Redis connection, 200 concurrent cold callers.
import Redis from 'ioredis';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';

const [issuer, tokenEndpoint, jwkJson, redisPort, callers] = process.argv.slice(2);
const redis = new Redis(Number(redisPort), '127.0.0.1', { maxRetriesPerRequest: 1 });
// Like a service that connects before it serves. The generous operation timeout keeps this test
// about single-flight: on a loaded CI machine a 200 ms budget can run out and (correctly) make a
// replica fetch on its own, which the Redis-down test covers.
await new Promise((resolve, reject) => {
  redis.once('ready', resolve);
  redis.once('error', reject);
});
const client = createMaskinportenClient({
  clientId: 'fleet', environment: { issuer, tokenEndpoint }, key: { jwk: jwkJson }, scope: 'fleet:read',
  cache: { store: createRedisTokenStore({ redis, encryptionKey: Buffer.alloc(32, 1), operationTimeout: 2_000 }) },
});
const results = await Promise.allSettled(Array.from({ length: Number(callers) }, () => client.getToken()));
const ok = results.filter((r) => r.status === 'fulfilled');
process.stdout.write(JSON.stringify({ ok: ok.length, failed: results.length - ok.length, tokens: [...new Set(ok.map((r) => r.value.accessToken))].length }));
await client.close();
redis.disconnect();
