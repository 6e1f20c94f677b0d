// Valkey as NAIS hands it over, on a real redis-server: a TLS port with a test CA, the variables
// NAIS injects, and the ACL of a NAIS `readwrite` user (no INFO). Runs on ioredis 5 and 6.
import { spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DIAGNOSTICS_CHANNELS, createMaskinportenClient } from '@portvakt/core';
import type { StoredToken } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createRedisTokenStore, valkeyOptions } from '@portvakt/redis';
import { IOREDIS_MAJOR, buildPackages } from './fleet.js';
import { NAIS_READ_ACL, NAIS_READWRITE_ACL, addAclUser, createTestTls, freePort, startRedisServer } from './redis-server.js';
import type { RedisServer, TestTls } from './redis-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const key = generateClientKey({ kid: 'nais-key' });
const RW_PASSWORD = 'AVNS_readwrite-Secret_0001';
const R_PASSWORD = 'AVNS_readonly-Secret_0002';
// The README's settings for the store's client.
const STORE_SETTINGS = { maxRetriesPerRequest: 1, enableOfflineQueue: false } as const;
let tls: TestTls;
let tlsPort: number;
let server: RedisServer;
let sim: MaskinportenSimulator;
let admin: Redis;
const connections: Redis[] = [];

/** What NAIS injects for `spec.valkey: [{ instance: sessions, access: readwrite }]`, pointing at the test server. */
const naisEnv = (user = 'app-rw', password = RW_PASSWORD): Record<string, string> => ({
  VALKEY_URI_SESSIONS: `valkeys://localhost:${tlsPort}`,
  VALKEY_HOST_SESSIONS: 'localhost',
  VALKEY_PORT_SESSIONS: String(tlsPort),
  VALKEY_USERNAME_SESSIONS: user,
  VALKEY_PASSWORD_SESSIONS: password,
  REDIS_URI_SESSIONS: `rediss://localhost:${tlsPort}`,
  REDIS_HOST_SESSIONS: 'localhost',
  REDIS_PORT_SESSIONS: String(tlsPort),
  REDIS_USERNAME_SESSIONS: user,
  REDIS_PASSWORD_SESSIONS: password,
});

function connect(options: RedisOptions): Redis {
  const redis = new Redis(options);
  redis.on('error', () => undefined);
  connections.push(redis);
  return redis;
}

/** The app's client, as the guide writes it: the helper's options plus the store's settings. */
const naisClient = (env = naisEnv(), extra: RedisOptions = {}) => connect({ ...valkeyOptions('sessions', { env, tls: { ca: tls.ca } }), ...STORE_SETTINGS, ...extra });

/** Resolves with the error a connection attempt ends in, or 'ready'; gives up after `ms`. */
function outcomeOf(redis: Redis, ms = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`no outcome in ${ms} ms (status ${redis.status})`), ms);
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    redis.once('ready', () => done('ready'));
    redis.once('error', (error: Error) => done(error.message));
  });
}

beforeAll(async () => {
  tls = createTestTls();
  tlsPort = await freePort();
  server = await startRedisServer({ args: tls.serverArgs(tlsPort) });
  await addAclUser(server.port, 'app-rw', RW_PASSWORD, NAIS_READWRITE_ACL);
  await addAclUser(server.port, 'app-r', R_PASSWORD, NAIS_READ_ACL);
  admin = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'nais-app', orgno: '991825827', scopes: ['nav:aareg', 'nav:other'], jwks: [key.publicJwk] }] });
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  admin?.disconnect();
  await sim?.close();
  await server?.stop();
  tls?.remove();
});

describe('the variables as NAIS injects them', () => {
  it('new Redis(process.env.VALKEY_URI_SESSIONS) does not get a working connection', async () => {
    const direct = new Redis(naisEnv().VALKEY_URI_SESSIONS!, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 2_000, maxRetriesPerRequest: 0 });
    direct.on('error', () => undefined);
    connections.push(direct);
    // No TLS from valkeys://, and the credentials NAIS keeps in their own variables are not read.
    expect(direct.options.tls).toBeUndefined();
    expect(direct.options.password ?? undefined).toBeUndefined();
    if (IOREDIS_MAJOR === '6') {
      // ioredis 5.11 and 6 parse a URL of another scheme as a Unix socket path.
      expect(direct.options.path).toBe(`//localhost:${tlsPort}`);
    } else {
      // ioredis up to 5.10 finds the host and port, then speaks plain text to the TLS port.
      expect([direct.options.host, direct.options.port]).toEqual(['localhost', tlsPort]);
    }
    const answer = await Promise.race([
      direct.connect().then(() => direct.ping()).then((pong) => `answered ${pong}`, (error: Error) => `failed: ${error.message}`),
      new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 5 s'), 5_000)),
    ]);
    expect(answer).toMatch(/^failed/);
    expect(direct.status).not.toBe('ready');
  });

  it('valkeyOptions("sessions") connects over TLS as the ACL user, with no ready check and no warning', async () => {
    const warn = vi.spyOn(console, 'warn');
    const redis = naisClient();
    expect(await outcomeOf(redis)).toBe('ready');
    expect(await redis.ping()).toBe('PONG');
    // TLS, with the test CA's certificate for localhost verified.
    const socket = (redis as unknown as { stream: { encrypted?: boolean; authorized?: boolean } }).stream;
    expect(socket.encrypted).toBe(true);
    expect(socket.authorized).toBe(true);
    // The NAIS user: INFO (the ready check's command) is not allowed.
    await expect(redis.info()).rejects.toThrow(/NOPERM/);
    expect(warn).not.toHaveBeenCalled();
  });

  it('with ioredis\' ready check left on, the same user makes ioredis warn on every connection: why the helper turns it off', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const redis = naisClient(naisEnv(), { enableReadyCheck: true });
    expect(await outcomeOf(redis)).toBe('ready');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Skipping the ready check because INFO command fails'));
  });

  it('verifies the server certificate: without the CA it does not connect', async () => {
    const redis = connect({ ...valkeyOptions('sessions', { env: naisEnv() }), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const outcome = outcomeOf(redis);
    redis.connect().catch(() => undefined);
    expect(await outcome).toMatch(/certificate/);
  });

  it('the REDIS_* variables alone (rediss://) work the same', async () => {
    const env = Object.fromEntries(Object.entries(naisEnv()).filter(([name]) => name.startsWith('REDIS_')));
    const redis = naisClient(env);
    expect(await outcomeOf(redis)).toBe('ready');
    expect(await redis.set('portvakt:test:compat', '1', 'PX', 10_000)).toBe('OK');
  });

  it('a wrong password is refused by the server (WRONGPASS), not passed over', async () => {
    const redis = connect({ ...valkeyOptions('sessions', { env: naisEnv('app-rw', 'rotated-away'), tls: { ca: tls.ca } }), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const outcome = outcomeOf(redis);
    redis.connect().catch(() => undefined);
    expect(await outcome).toMatch(/WRONGPASS/);
  });
});

describe('the token store under the NAIS readwrite ACL', () => {
  const token = (value: string): StoredToken => ({ accessToken: value, tokenType: 'Bearer', expiresAt: Date.now() + 120_000, issuedAt: Date.now(), scope: 's' });
  let misses: { reason: string }[] = [];
  let lockWaits: { outcome: string }[] = [];
  const onMiss = (message: unknown) => void misses.push(message as { reason: string });
  const onLockWait = (message: unknown) => void lockWaits.push(message as { outcome: string });
  beforeAll(() => {
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS.redisMiss, onMiss);
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS.redisLockWait, onLockWait);
  });
  afterAll(() => {
    diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.redisMiss, onMiss);
    diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.redisLockWait, onLockWait);
  });

  it('two replicas share one token fetch; the lock is released and invalidate deletes the value (both scripts)', async () => {
    const warn = vi.spyOn(console, 'warn');
    misses = [];
    sim.reset();
    const replicas = [naisClient(), naisClient()].map((redis) => ({
      redis,
      client: createMaskinportenClient({
        clientId: 'nais-app', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:aareg',
        cache: { store: createRedisTokenStore({ redis, encryptionKey: Buffer.alloc(32, 7), keyPrefix: 'nais:shared:', operationTimeout: 2_000 }) },
      }),
    }));
    // Called at once, while both connections are still being set up (TLS, AUTH).
    const [a, b] = await Promise.all(replicas.map(({ client }) => client.getToken()));
    expect(a!.accessToken).toBe(b!.accessToken);
    expect(sim.tokenRequestCount()).toBe(1);
    expect(misses.map((m) => m.reason)).toEqual(['absent']);
    const keys = await admin.keys('nais:shared:*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toMatch(/:lock$/);
    // invalidate() after a 401 runs the compare-and-delete script as the ACL user.
    replicas[0]!.client.invalidate(a!);
    for (let i = 0; i < 100 && (await admin.exists(keys[0]!)) === 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await admin.exists(keys[0]!)).toBe(0);
    expect(warn).not.toHaveBeenCalled();
    await Promise.all(replicas.map(({ client }) => client.close()));
  });

  it('while one replica holds the lock and fetches, the other waits for its token', async () => {
    lockWaits = [];
    misses = [];
    let fetches = 0;
    const slowFetch = async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 150));
      return token('eyJnais-locked');
    };
    const [one, two] = [naisClient(), naisClient()];
    await Promise.all([outcomeOf(one), outcomeOf(two)]);
    const stores = [one, two].map((redis) => createRedisTokenStore({ redis, keyPrefix: 'nais:lock:', operationTimeout: 2_000 }));
    const got = await Promise.all(stores.map((s) => s.load('k', slowFetch, { minValidUntil: Date.now() })));
    expect(got.map((t) => t.accessToken)).toEqual(['eyJnais-locked', 'eyJnais-locked']);
    expect(fetches).toBe(1);
    // The second found the lock taken and waited: for the token, or for the lock, under which it
    // read the token the first had just written.
    expect(lockWaits).toHaveLength(1);
    expect(['token', 'lock']).toContain(lockWaits[0]!.outcome);
    expect(misses.map((m) => m.reason)).toEqual(['absent']);
    expect(await admin.exists('nais:lock:{k}:lock')).toBe(0);
  });

  it('a NAIS read user may not SET: every call still succeeds, each replica fetching on its own, call after call', async () => {
    misses = [];
    sim.reset();
    const redis = naisClient(naisEnv('app-r', R_PASSWORD));
    const client = createMaskinportenClient({
      clientId: 'nais-app', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:other',
      cache: { store: createRedisTokenStore({ redis, keyPrefix: 'nais:read:', operationTimeout: 2_000 }) },
    });
    let failed = 0;
    for (let round = 0; round < 3; round++) {
      const batch = await Promise.allSettled(Array.from({ length: 20 }, () => client.getToken()));
      failed += batch.filter((r) => r.status === 'rejected').length;
      const got = batch.find((r) => r.status === 'fulfilled');
      if (got) client.invalidate(got.value);
    }
    expect(failed).toBe(0);
    expect(sim.tokenRequestCount()).toBe(3);
    // The lock's SET NX is refused (NOPERM), so each load counts Redis as unavailable.
    expect(misses.map((m) => m.reason)).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(await admin.keys('nais:read:*')).toEqual([]);
    await client.close();
  });
});

// The README's NAIS example imports 'ioredis', which is 5 outside Vitest's alias: it runs in the 5 project only.
describe.skipIf(IOREDIS_MAJOR === '6')("the README's NAIS example, as printed, on the built packages", () => {
  beforeAll(() => {
    buildPackages();
  }, 120_000);

  it('gets one token through the store on the NAIS variables, with nothing on stderr (no ready-check warning)', async () => {
    const readme = readFileSync(path.join(here, '../README.md'), 'utf8');
    const example = /## On NAIS \(Valkey\)[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("valkeyOptions('tokens')");
    const dir = mkdtempSync(path.join(tmpdir(), 'portvakt-readme-'));
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, tls.ca);
    sim.reset();
    try {
      const instance = Object.fromEntries(Object.entries(naisEnv()).map(([name, value]) => [name.replace(/_SESSIONS$/, '_TOKENS'), value]));
      const { status, stdout, stderr } = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', example!], {
          cwd: path.join(here, '..'),
          timeout: 30_000,
          env: {
            PATH: process.env.PATH,
            ...instance,
            // How the test's CA reaches the example unchanged; NAIS' certificates are publicly trusted.
            NODE_EXTRA_CA_CERTS: caFile,
            MASKINPORTEN_CLIENT_ID: 'nais-app',
            MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk),
            MASKINPORTEN_SCOPES: 'nav:aareg',
            MASKINPORTEN_ISSUER: sim.issuer,
            MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint,
            PORTVAKT_TOKEN_KEY: Buffer.alloc(32, 3).toString('base64'),
          },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
        child.once('exit', (code) => resolve({ status: code, stdout: out, stderr: err }));
      });
      expect(stderr).toBe('');
      expect(status).toBe(0);
      expect(stdout).toMatch(/^\[AccessToken Bearer /);
      expect(sim.tokenRequestCount()).toBe(1);
      const written = (await admin.keys('portvakt:token:*')).filter((k) => !k.endsWith(':lock'));
      expect(written).toHaveLength(1);
      expect(await admin.get(written[0]!)).toMatch(/^v1\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
