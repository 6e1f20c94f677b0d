// Guards of the shared discovery, from the client's side, over real HTTP on 127.0.0.1 with an
// injected clock: a cold herd makes one metadata fetch, and a metadata endpoint that stays down is
// asked a bounded number of times (1 s back-off doubling to 60 s: 0, 1, 3, 7, 15, 31 s).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMaskinportenClient, EndpointUnavailableError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey } from '@portvakt/testing';
import { manualClock, sendJson, startServer } from '../transport/http-server.js';
import type { Handler, TestServer } from '../transport/http-server.js';

const METADATA_PATH = '/.well-known/oauth-authorization-server';
const key = generateClientKey({ kid: 'guard-key' });

let server: TestServer;
let client: MaskinportenClient | undefined;
let issued = 0;

/** Metadata naming this server, and a token endpoint that answers every grant. */
const healthy: Handler = (request, response) => {
  if (request.path === METADATA_PATH) return sendJson(response, 200, { issuer: server.url('/'), token_endpoint: server.url('/token'), jwks_uri: server.url('/jwk') });
  if (request.path === '/token') return sendJson(response, 200, { access_token: `token-${++issued}`, token_type: 'Bearer', expires_in: 120 });
  return sendJson(response, 404, { error: 'not_found' });
};
const metadataDown: Handler = (request, response, raw) => (request.path === METADATA_PATH ? sendJson(response, 503, { error: 'down' }) : healthy(request, response, raw));

const metadataFetches = (): number => server.requests.filter((r) => r.path === METADATA_PATH).length;
const tokenRequests = (): number => server.requests.filter((r) => r.path === '/token').length;

beforeEach(async () => {
  issued = 0;
  server = await startServer(healthy);
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  await server.close();
});

function discoveringClient(clock: ReturnType<typeof manualClock>): MaskinportenClient {
  return createMaskinportenClient({
    clientId: 'guard-client',
    environment: { metadataUrl: server.url(METADATA_PATH) },
    key: { jwk: key.privateJwk },
    scope: 'nav:guard',
    clock,
    cache: { maxEntries: 2000 },
    // Attempts get far more time than a loaded machine needs: a timed-out attempt is retried, and
    // the token requests are counted below.
    transport: { attemptTimeout: 120_000, deadline: 300_000 },
  });
}

describe('the client over discovery', () => {
  it('1,000 concurrent cold getToken calls (1,000 scopes) make exactly 1 metadata fetch', { timeout: 120_000 }, async () => {
    client = discoveringClient(manualClock());
    // One scope each, so each call is its own token request and its own wait on the metadata.
    const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => client!.getToken({ scope: `nav:guard${i}` })));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1000);
    expect(metadataFetches()).toBe(1);
    expect(tokenRequests()).toBe(1000);
    expect(client.issuer).toBe(server.url('/'));
  });

  it('a metadata endpoint down for 60 s of injected time is fetched at most 6 times (at 0, 1, 3, 7, 15 and 31 s), then once more at 63 s', async () => {
    server.handler = metadataDown;
    const clock = manualClock();
    client = discoveringClient(clock);
    const start = clock.now();
    const fetchedAt: number[] = [];
    // 20 callers every 250 ms for 60 s: 4 820 calls.
    for (let elapsed = 0; elapsed <= 60_000; elapsed += 250) {
      const errors = await Promise.all(Array.from({ length: 20 }, (_, i) => client!.getToken({ scope: `nav:guard${i}` }).then(() => undefined, (error: unknown) => error)));
      expect(errors.every((e) => e instanceof EndpointUnavailableError && e.status === 503)).toBe(true);
      while (fetchedAt.length < metadataFetches()) fetchedAt.push((clock.now() - start) / 1000);
      clock.advance(250);
    }
    expect(fetchedAt).toEqual([0, 1, 3, 7, 15, 31]);
    expect(tokenRequests()).toBe(0);
    // Back up: the next fetch is due 32 s after the last one, and then tokens flow again.
    server.handler = healthy;
    clock.set(start + 62_750);
    await expect(client.getToken()).rejects.toBeInstanceOf(EndpointUnavailableError);
    clock.set(start + 63_000);
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(metadataFetches()).toBe(7);
  });
});
