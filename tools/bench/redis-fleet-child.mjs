// One replica of the Redis fleet benchmark (redis.bench.mjs starts 8 of these): its own Redis
// connection and client, the store configured as a service would configure it (the encryption key
// from the environment, every other option at its default), N concurrent cold callers.
import Redis from 'ioredis';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';

const [issuer, tokenEndpoint, redisPort, callers] = process.argv.slice(2);
const redis = new Redis(Number(redisPort), '127.0.0.1');
await new Promise((resolve, reject) => {
  redis.once('ready', resolve);
  redis.once('error', reject);
});
const client = createMaskinportenClient({
  clientId: 'fleet',
  environment: { issuer, tokenEndpoint },
  key: { jwk: process.env.MASKINPORTEN_CLIENT_JWK },
  scope: 'fleet:read',
  cache: { store: createRedisTokenStore({ redis, encryptionKey: process.env.TOKEN_ENCRYPTION_KEY }) },
});
const results = await Promise.allSettled(Array.from({ length: Number(callers) }, () => client.getToken()));
const ok = results.filter((r) => r.status === 'fulfilled');
process.stdout.write(JSON.stringify({ ok: ok.length, failed: results.length - ok.length, tokens: [...new Set(ok.map((r) => r.value.accessToken))].length }));
await client.close();
redis.disconnect();
