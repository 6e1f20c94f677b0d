// One replica of the fleet tests: its own client and Redis connection with the README's ioredis
// settings, created and called at once, without waiting for the connection to be ready, as a
// freshly started service does. Prints { ok, failed, tokens, statusAtFirstCall, ioredis } as JSON.
// The Redis argument is a port, or `cluster:<port>,<port>,...` for an ioredis Cluster; callers
// are spread over the scopes (space-separated list, default fleet:read), so each scope is one key.
// PORTVAKT_IOREDIS=6 runs it on ioredis 6 (the `ioredis6` alias) instead of 5.
import { createRequire } from 'node:module';
import { createMaskinportenClient } from '@portvakt/core';
import { createRedisTokenStore } from '@portvakt/redis';

const ioredisName = process.env.PORTVAKT_IOREDIS === '6' ? 'ioredis6' : 'ioredis';
const { default: Redis, Cluster } = await import(ioredisName);
const ioredis = createRequire(import.meta.url)(`${ioredisName}/package.json`).version;
const [issuer, tokenEndpoint, jwkJson, redisTarget, callers, rounds, operationTimeout, scopeList = 'fleet:read'] = process.argv.slice(2);
const settings = { maxRetriesPerRequest: 1, enableOfflineQueue: false };
const redis = redisTarget.startsWith('cluster:')
  ? new Cluster(redisTarget.slice('cluster:'.length).split(',').map((port) => ({ host: '127.0.0.1', port: Number(port) })), { enableOfflineQueue: false, redisOptions: settings })
  : new Redis(Number(redisTarget), '127.0.0.1', settings);
const scopes = scopeList.split(' ');
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
  const results = await Promise.allSettled(Array.from({ length: Number(callers) }, (_, i) => client.getToken({ scope: scopes[i % scopes.length] })));
  for (const r of results) {
    if (r.status === 'fulfilled') {
      ok++;
      tokens.add(r.value.accessToken);
    } else failed++;
  }
  // The next round is a fresh load through the store, as after a 401: one invalidate per token.
  const distinct = new Map();
  for (const r of results) if (r.status === 'fulfilled') distinct.set(r.value.accessToken, r.value);
  for (const token of distinct.values()) client.invalidate(token);
}
process.stdout.write(JSON.stringify({ ok, failed, tokens: tokens.size, statusAtFirstCall, ioredis }));
await client.close();
redis.disconnect();
