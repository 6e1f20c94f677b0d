import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, envFile, expectNoSecrets, runCli, secretsOfKeyFile, tempDir } from './helpers.js';
import type { CliResult } from './helpers.js';

const ORG = '991825827';
let dir: string;
let sim: MaskinportenSimulator;
let adminEnv: string;
let appEnv: string;
const outputs: CliResult[] = [];

async function portvakt(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { env, cwd: dir });
  outputs.push(result);
  return result;
}

const keyFile = (kid: string) => path.join(dir, `${kid}.private.jwk.json`);
const kidsOf = async (clientId: string): Promise<string[]> => {
  const listed = await portvakt(['keys', 'list', '--client-id', clientId, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--json']);
  expect(listed.code).toBe(0);
  return (JSON.parse(listed.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
};

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  const admin = await runCli(['keygen', '--kid', 'admin-key', '--out', dir, '--json']);
  const adminJwks = (JSON.parse(admin.stdout) as { jwks: { keys: Record<string, string>[] } }).jwks.keys;
  sim = await startMaskinportenSimulator({
    // Keys written through self-service are accepted at /token only after this, on the simulator's clock.
    selfServicePropagationMs: 1_500,
    clients: [
      { clientId: 'admin', orgno: ORG, scopes: ['idporten:dcr.modify'], jwks: adminJwks },
      { clientId: 'app', orgno: ORG, scopes: ['demo:read'], jwks: [] },
      { clientId: 'full', orgno: ORG, scopes: ['demo:read'], jwks: [1, 2, 3, 4, 5].map((i) => ({ ...adminJwks[0], kid: `full-${i}` })) },
    ],
  });
  const environment = { MASKINPORTEN_ISSUER: sim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint };
  adminEnv = envFile(dir, 'admin.env', { MASKINPORTEN_CLIENT_ID: 'admin', MASKINPORTEN_CLIENT_JWK: readFileSync(keyFile('admin-key'), 'utf8'), ...environment });
  appEnv = envFile(dir, 'app.env', { MASKINPORTEN_CLIENT_ID: 'app', MASKINPORTEN_SCOPES: 'demo:read', ...environment });
});
afterAll(async () => {
  await sim?.close();
});

describe('the key lifecycle: keygen, register, token, rotate, prune', () => {
  it('rotates a running client to a new key with no failed token request', async () => {
    // 1. keygen
    const made = await portvakt(['keygen', '--kid', 'app-key-1']);
    expect(made.code).toBe(0);

    // 2. register it through the self-service API, with an admin token from `portvakt token --header` (as with curl)
    const header = await portvakt(['token', '--header', '--dotenv', adminEnv, '--scope', 'idporten:dcr.modify']);
    expect(header.code).toBe(0);
    const [name, value] = header.stdout.trim().split(': ') as [string, string];
    const registered = await fetch(`${sim.selfServiceUrl}/clients/app/jwks`, {
      method: 'POST', headers: { [name]: value, 'content-type': 'application/json' }, body: made.stdout,
    });
    expect(registered.status).toBe(200);

    // 3. token: refused until the key has propagated, then issued (bounded polling)
    const appKey1 = { MASKINPORTEN_CLIENT_JWK: readFileSync(keyFile('app-key-1'), 'utf8') };
    let token: CliResult | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      token = await portvakt(['token', '--dotenv', appEnv], appKey1);
      if (token.code === 0) break;
      expect(token.stderr).toMatch(/MP-124/);
      await sleep(100);
    }
    expect(token?.code).toBe(0);

    // A running service, signing with the first key; every iteration is a real token request.
    const client: MaskinportenClient = createMaskinportenClient({ clientId: 'app', environment: sim.environment(), key: { jwk: JSON.parse(appKey1.MASKINPORTEN_CLIENT_JWK) }, scope: 'demo:read' });
    let running = true;
    let succeeded = 0;
    const failures: unknown[] = [];
    const loop = (async () => {
      while (running) {
        try {
          const t = await client.getToken();
          client.invalidate(t);
          succeeded += 1;
        } catch (error) {
          failures.push(error);
        }
        await sleep(5);
      }
    })();

    // 4. rotate: a dry run writes nothing; the real one waits until Maskinporten takes the new key
    const dry = await portvakt(['keys', 'rotate', '--dotenv', appEnv, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--kid', 'app-key-2', '--current-key', keyFile('app-key-1'), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect((JSON.parse(dry.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual(['app-key-1', 'app-key-2']);
    expect(existsSync(keyFile('app-key-2'))).toBe(false);
    expect(await kidsOf('app')).toEqual(['app-key-1']);

    const rotated = await portvakt(['keys', 'rotate', '--dotenv', appEnv, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--kid', 'app-key-2', '--current-key', keyFile('app-key-1'), '--poll-interval', '0.1', '--wait', '60', '--json']);
    expect(rotated.code).toBe(0);
    const result = JSON.parse(rotated.stdout) as { before: string[]; keys: string[]; propagation: { attempts: number }; next: string[] };
    expect(result.before).toEqual(['app-key-1']);
    expect(result.keys).toEqual(['app-key-1', 'app-key-2']);
    expect(result.propagation.attempts).toBeGreaterThanOrEqual(1);
    expect(result.next.join(' ')).toMatch(/setKey/);
    const pollKids = sim.requests.filter((r) => r.path === '/token' && r.grant?.header.kid === 'app-key-2').map((r) => r.status);
    expect(pollKids.at(-1)).toBe(200);
    expect(pollKids.slice(0, -1).every((s) => s === 400)).toBe(true);

    // The service switches keys without a restart, as a file watcher would: setKey with the new file.
    const identity = client.setKey({ jwk: readFileSync(keyFile('app-key-2'), 'utf8') });
    expect(identity).toMatch(/^kid:app-key-2;jkt:[\w-]{43}$/);
    // A fetch in flight at setKey() finishes with the key it started with (by design). Wait until
    // it has, and one more has been made with the new key, before counting what the service signs.
    const succeededAtSwitch = succeeded;
    for (let i = 0; i < 500 && succeeded < succeededAtSwitch + 2; i++) await sleep(10);
    expect(succeeded).toBeGreaterThanOrEqual(succeededAtSwitch + 2);
    const switchedAt = sim.requests.length;

    // 5. prune the old key once no one signs with it
    const dryPrune = await portvakt(['keys', 'prune', '--dotenv', appEnv, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--keep', 'app-key-2', '--dry-run', '--json']);
    expect((JSON.parse(dryPrune.stdout) as { dropped: string[] }).dropped).toEqual(['app-key-1']);
    expect(await kidsOf('app')).toEqual(['app-key-1', 'app-key-2']);
    const pruned = await portvakt(['keys', 'prune', '--dotenv', appEnv, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--keep', 'app-key-2']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/Dropped app-key-1; app has app-key-2/);

    // Let the service make a few more requests with the new key, then stop it (bounded).
    for (let i = 0; i < 200 && sim.requests.slice(switchedAt).filter((r) => r.path === '/token' && r.status === 200 && r.grant?.claims.iss === 'app').length < 5; i++) await sleep(20);
    running = false;
    await loop;
    await client.close();
    expect(failures).toEqual([]);
    expect(succeeded).toBeGreaterThan(0);
    const serviceKids = sim.requests.slice(switchedAt).filter((r) => r.path === '/token' && r.grant?.claims.iss === 'app').map((r) => r.grant?.header.kid);
    expect(serviceKids.length).toBeGreaterThan(0);
    expect(new Set(serviceKids)).toEqual(new Set(['app-key-2']));

    // The old key no longer gets a token; the new one does.
    const old = await portvakt(['token', '--dotenv', appEnv], appKey1);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/MP-124/);
    const fresh = await portvakt(['token', '--dotenv', appEnv, '--key', keyFile('app-key-2')]);
    expect(fresh.code).toBe(0);
  });

  it('refuses a sixth key with the fix, a prune that would drop every key, and a missing admin client', async () => {
    const full = await portvakt(['keys', 'rotate', '--dotenv', appEnv, '--client-id', 'full', '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--kid', 'six']);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/already has 5 keys/);
    expect(full.stderr).toMatch(/fix: drop old keys first: portvakt keys prune/);
    expect(existsSync(keyFile('six'))).toBe(false);
    const all = await portvakt(['keys', 'prune', '--client-id', 'full', '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--remove', 'full-1', '--remove', 'full-2', '--remove', 'full-3', '--remove', 'full-4', '--remove', 'full-5']);
    expect(all.code).toBe(2);
    expect(all.stderr).toMatch(/keep at least one/);
    const noAdmin = await portvakt(['keys', 'rotate', '--dotenv', appEnv, '--self-service', sim.selfServiceUrl]);
    expect(noAdmin.code).toBe(2);
    expect(noAdmin.stderr).toMatch(/--admin-dotenv/);
    const plainHttp = await portvakt(['keys', 'prune', '--client-id', 'app', '--admin-dotenv', adminEnv, '--self-service', 'http://api.example.no', '--keep', 'app-key-2']);
    expect(plainHttp.code).toBe(2);
    expect(plainHttp.stderr).toMatch(/https/);
  });

  it('refuses an admin client without idporten:dcr.modify, naming the scope', async () => {
    const appAsAdmin = envFile(dir, 'not-admin.env', { MASKINPORTEN_CLIENT_ID: 'app', MASKINPORTEN_CLIENT_JWK: readFileSync(keyFile('app-key-2'), 'utf8'), MASKINPORTEN_ISSUER: sim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint });
    const refused = await portvakt(['keys', 'prune', '--client-id', 'app', '--admin-dotenv', appAsAdmin, '--self-service', sim.selfServiceUrl, '--keep', 'app-key-2']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Admin client: .*MP-200/);
  });

  it('finds the self-service API in PORTVAKT_SELF_SERVICE_URL when --self-service is not given', async () => {
    const listed = await portvakt(['keys', 'list', '--client-id', 'app', '--admin-dotenv', adminEnv, '--json'], { PORTVAKT_SELF_SERVICE_URL: sim.selfServiceUrl });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual(['app-key-2']);
    const human = await portvakt(['keys', 'list', '--client-id', 'app', '--admin-dotenv', adminEnv], { PORTVAKT_SELF_SERVICE_URL: sim.selfServiceUrl });
    expect(human.stdout).toMatch(/app has 1 of at most 5 keys:\n {2}app-key-2/);
    const none = await portvakt(['keys', 'list', '--client-id', 'app', '--admin-dotenv', adminEnv]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--self-service/);
  });

  it('shows no token, grant or private key in any output but the token it was asked for', () => {
    const secrets = readdirSync(dir).filter((f) => f.endsWith('.private.jwk.json') || f.endsWith('.private.pem')).flatMap((f) => secretsOfKeyFile(path.join(dir, f)));
    expect(secrets.length).toBeGreaterThan(0);
    expect(outputs.length).toBeGreaterThan(10);
    for (const output of outputs) {
      const askedForToken = /^(eyJ|Authorization: Bearer eyJ)/.test(output.stdout);
      expectNoSecrets(output, secrets, { tokenOnStdout: askedForToken });
    }
  });
});
