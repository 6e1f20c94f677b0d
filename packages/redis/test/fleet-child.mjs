// One replica of the fleet tests: its own client and Redis connection with the README's ioredis
// settings, created and called at once, without waiting for the connection to be ready, as a
// freshly started service does. Prints { ok, failed, tokens, statusAtFirstCall } as JSON.
import Redis from 'ioredis';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';

const [issuer, tokenEndpoint, jwkJson, redisPort, callers, rounds, operationTimeout] = process.argv.slice(2);
const redis = new Redis(Number(redisPort), '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false });
const client = createMaskinportenClient({
  clientId: 'fleet', environment: { issuer, tokenEndpoint }, key: { jwk: jwkJson }, scope: 'fleet:read',
  cache: {
    store: createRedisTokenStore({
      redis,
      encryptionKey: Buffer.alloc(32, 1),
      ...(operationTimeout === 'default' ? {} : { operationTimeout: Number(operationTimeout) }),
    }),
  },
});
const statusAtFirstCall = redis.status;
let ok = 0;
let failed = 0;
const tokens = new Set();
for (let round = 0; round < Number(rounds); round++) {
  const results = await Promise.allSettled(Array.from({ length: Number(callers) }, () => client.getToken()));
  for (const r of results) {
    if (r.status === 'fulfilled') {
      ok++;
      tokens.add(r.value.accessToken);
    } else failed++;
  }
  // The next round is a fresh load through the store, as after a 401.
  const last = results.find((r) => r.status === 'fulfilled');
  if (last) client.invalidate(last.value);
}
process.stdout.write(JSON.stringify({ ok, failed, tokens: tokens.size, statusAtFirstCall }));
await client.close();
redis.disconnect();
