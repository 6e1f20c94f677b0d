// What the Bun and Deno shapes check, with each runtime's own fetch, HTTP server compatibility
// and test runner: the simulator from @portvakt/testing runs there, a client from fromEnv() gets
// tokens the verifier from @portvakt/verify accepts, a declared client is shared, the authorising
// fetch keeps tokens to their origin (redirects included) and refreshes once on a 401, and
// nothing prints a token or a key. Each shape's test file runs every check in CHECKS.
import assert from 'node:assert/strict';
import util from 'node:util';
import { ConfigurationError, createAuthorizedFetch, createMaskinportenClient, defineMaskinportenClient, fromEnv } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { createMaskinportenVerifier } from '@portvakt/verify';
import { generateClientKey, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';

const CLIENT_ID = 'compat-runtime';
const SCOPE = 'compat:read';

export interface World {
  sim: MaskinportenSimulator;
  api: RecordingApi;
  foreign: RecordingApi;
  env: Record<string, string>;
  privateJwk: object;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const key = generateClientKey({ kid: 'compat-runtime-key' });
  const sim = await startMaskinportenSimulator({ clients: [{ clientId: CLIENT_ID, orgno: '991825827', scopes: [SCOPE], jwks: [key.publicJwk] }] });
  const [api, foreign] = await Promise.all([startRecordingApi(), startRecordingApi()]);
  const env = {
    MASKINPORTEN_CLIENT_ID: CLIENT_ID,
    MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk),
    MASKINPORTEN_SCOPES: SCOPE,
    MASKINPORTEN_WELL_KNOWN_URL: sim.metadataUrl,
    MASKINPORTEN_ISSUER: sim.issuer,
    MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint,
  };
  return {
    sim,
    api,
    foreign,
    env,
    privateJwk: key.privateJwk,
    close: async () => {
      await Promise.all([sim.close(), api.close(), foreign.close()]);
    },
  };
}

async function withClient(world: World, check: (client: MaskinportenClient) => Promise<void>): Promise<void> {
  const client = createMaskinportenClient(fromEnv(world.env));
  try {
    await check(client);
  } finally {
    await client.close();
  }
}

const redirect = (status: number, to: string) => `/redirect/${status}?to=${encodeURIComponent(to)}`;

export const CHECKS: Record<string, (world: World) => Promise<void>> = {
  'fromEnv() and the simulator: a token that @portvakt/verify accepts, one request for 50 callers': (world) =>
    withClient(world, async (client) => {
      const before = world.sim.tokenRequestCount();
      const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getToken()));
      assert.equal(world.sim.tokenRequestCount() - before, 1);
      assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1);
      const verifier = createMaskinportenVerifier({ environment: { issuer: world.sim.issuer, jwksUri: world.sim.jwksUri }, scope: SCOPE });
      const claims = await verifier.verify(tokens[0]!.accessToken);
      assert.deepEqual(claims.scopes, [SCOPE]);
    }),

  'a configuration mistake is a ConfigurationError naming the variable': async () => {
    assert.throws(() => fromEnv({}), (error: unknown) => error instanceof ConfigurationError && error.field === 'MASKINPORTEN_CLIENT_ID');
  },

  'defineMaskinportenClient(): declared twice, one client and one token request': async (world) => {
    const name = `runtime-${Math.random().toString(36).slice(2)}`;
    const first = defineMaskinportenClient(() => fromEnv(world.env), { name });
    const second = defineMaskinportenClient(() => fromEnv(world.env), { name });
    const before = world.sim.tokenRequestCount();
    try {
      assert.equal(await first.getToken(), await second.getToken());
      assert.equal(world.sim.tokenRequestCount() - before, 1);
    } finally {
      await first.close();
    }
  },

  "createAuthorizedFetch() with the runtime's fetch: the token to the API only, never across a redirect": (world) =>
    withClient(world, async (client) => {
      world.api.seen.length = 0;
      world.foreign.seen.length = 0;
      const apiFetch = createAuthorizedFetch(client, { origins: [world.api.origin] });
      assert.equal((await apiFetch(`${world.api.origin}/ok`)).status, 200);
      assert.equal((await apiFetch(`${world.foreign.origin}/ok`)).status, 200);
      for (const status of [301, 302, 303, 307, 308]) {
        const response = await apiFetch(`${world.api.origin}${redirect(status, `${world.foreign.origin}/landing`)}`);
        assert.equal(response.status, 200);
        await response.text();
      }
      assert.ok(world.api.seen.length === 6 && world.api.seen.every((s) => s.authorization?.startsWith('Bearer ')), 'every request to the API carries the token');
      assert.deepEqual(world.foreign.authorizations, Array.from({ length: 6 }, () => undefined));
    }),

  'createAuthorizedFetch(): a 401 for ever gets one new token and one retry': (world) =>
    withClient(world, async (client) => {
      world.api.seen.length = 0;
      const apiFetch = createAuthorizedFetch(client, { origins: [world.api.origin] });
      await client.getToken();
      const before = world.sim.tokenRequestCount();
      assert.equal((await apiFetch(`${world.api.origin}/status/401`)).status, 401);
      assert.equal(world.api.seen.length, 2);
      assert.equal(world.sim.tokenRequestCount() - before, 1);
    }),

  'no token and no key in util.inspect, JSON or String()': (world) =>
    withClient(world, async (client) => {
      const token = await client.getToken();
      const secrets = [token.accessToken, String((world.privateJwk as { d: string }).d)];
      for (const shown of [util.inspect(token, { depth: Infinity }), JSON.stringify(token), String(token), util.inspect(client, { depth: Infinity }), JSON.stringify(client)]) {
        for (const secret of secrets) assert.ok(!shown.includes(secret), `shows a secret: ${shown.slice(0, 80)}`);
      }
    }),
};
