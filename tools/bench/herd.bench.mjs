// Cold-start herd: 10,000 concurrent callers on an empty cache (goal: 1 token request).
import { createMaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';

const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }] });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });

const start = performance.now();
const tokens = await Promise.all(Array.from({ length: 10_000 }, () => client.getToken()));
const ms = performance.now() - start;
console.log(`10,000 concurrent cold callers: ${sim.tokenRequestCount()} token request(s), ${new Set(tokens.map((t) => t.accessToken)).size} distinct token(s), all served in ${ms.toFixed(1)} ms   goal: 1 request`);
await client.close();
await sim.close();
if (sim.tokenRequestCount() !== 1) process.exitCode = 1;
