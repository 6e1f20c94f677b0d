// Guards of the shared discovery (core's metadata cache), from the verifier's side, over real HTTP
// on 127.0.0.1 with an injected clock: a cold herd makes one metadata fetch and one key-set fetch,
// and a metadata endpoint that stays down is asked a bounded number of times (1 s back-off
// doubling to 60 s: at 0, 1, 3, 7, 15 and 31 s in the first minute).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier, KeySetUnavailableError } from '@portvakt/verify';
import { sendJson, startServer } from '../../core/test/transport/http-server.js';
import type { Handler, TestServer } from '../../core/test/transport/http-server.js';
import { manualClock, rejectionOf } from './support.js';

const METADATA_PATH = '/.well-known/oauth-authorization-server';
const factory = createTokenFactory({ issuer: 'https://idp.example/' });

let server: TestServer;
const healthy: Handler = (request, response) => {
  if (request.path === METADATA_PATH) return sendJson(response, 200, { issuer: factory.issuer, jwks_uri: server.url('/jwk'), token_endpoint: server.url('/token') });
  if (request.path === '/jwk') return sendJson(response, 200, factory.jwks);
  return sendJson(response, 404, { error: 'not_found' });
};
const metadataDown: Handler = (request, response, raw) => (request.path === METADATA_PATH ? sendJson(response, 503, { error: 'down' }) : healthy(request, response, raw));

const fetchesOf = (path: string): number => server.requests.filter((r) => r.path === path).length;

beforeEach(async () => {
  server = await startServer(healthy);
});
afterEach(() => server.close());

describe('the verifier over discovery', () => {
  it('1,000 concurrent cold verifications through { metadataUrl } make exactly 1 metadata fetch and 1 key-set fetch', async () => {
    const verifier = createMaskinportenVerifier({ environment: { metadataUrl: server.url(METADATA_PATH) }, clock: manualClock(), cache: false });
    // Different tokens, so none is answered from the verified-token memory.
    const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => factory.mint({ clientId: `client-${i}` })));
    const claims = await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(claims.map((c) => c.clientId)).toEqual(tokens.map((_, i) => `client-${i}`));
    expect(fetchesOf(METADATA_PATH)).toBe(1);
    expect(fetchesOf('/jwk')).toBe(1);
    expect(verifier.issuer).toBe(factory.issuer);
  });

  it('a metadata endpoint down for 60 s of injected time is fetched at most 6 times (at 0, 1, 3, 7, 15 and 31 s); every verification is a 503 and no key set is fetched', async () => {
    server.handler = metadataDown;
    const clock = manualClock();
    const verifier = createMaskinportenVerifier({ environment: { metadataUrl: server.url(METADATA_PATH) }, clock });
    const token = await factory.mint();
    const start = clock.now();
    const fetchedAt: number[] = [];
    // 20 verifications every 250 ms for 60 s: 4 820 in all.
    for (let elapsed = 0; elapsed <= 60_000; elapsed += 250) {
      const errors = await Promise.all(Array.from({ length: 20 }, () => rejectionOf(verifier.verify(token))));
      expect(errors.every((e) => e instanceof KeySetUnavailableError && e.status === 503)).toBe(true);
      while (fetchedAt.length < fetchesOf(METADATA_PATH)) fetchedAt.push((clock.now() - start) / 1000);
      clock.advance(250);
    }
    expect(fetchedAt).toEqual([0, 1, 3, 7, 15, 31]);
    expect(fetchesOf('/jwk')).toBe(0);
    // Back up: the next metadata fetch is due at 63 s, and then tokens verify again.
    server.handler = healthy;
    clock.set(start + 63_000);
    const fresh = await factory.mint({ now: clock.now() });
    await expect(verifier.verify(fresh)).resolves.toMatchObject({ issuer: factory.issuer });
    expect(fetchesOf(METADATA_PATH)).toBe(7);
  });
});
