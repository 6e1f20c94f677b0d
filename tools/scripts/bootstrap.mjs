#!/usr/bin/env node
// One entry point for the README commands, so they work on a machine that has only Node and npm:
// it fetches the pinned pnpm into .cache/pnpm when pnpm 12 is not on PATH, installs the workspace
// from the lockfile, and then runs the requested job through pnpm (and so through Nx).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '12.21.0';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const jobs = { demo: 'ci:demo', test: 'ci:test', 'test-only': 'ci:test-only', bench: 'ci:bench' };

const job = process.argv[2];
if (!job || !(job in jobs)) {
  console.error(`usage: node tools/scripts/bootstrap.mjs <${Object.keys(jobs).join('|')}>`);
  process.exit(2);
}

function run(cmd, args, env = process.env) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function pnpmOnPath() {
  try {
    return execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().startsWith('12.');
  } catch {
    return false;
  }
}

const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: process.env.CI ? 'true' : process.env.NX_SKIP_NX_CACHE ?? '' };
if (!pnpmOnPath()) {
  const binDir = path.join(root, '.cache/pnpm/node_modules/.bin');
  if (!existsSync(path.join(binDir, 'pnpm'))) {
    console.log(`[portvakt] fetching pnpm@${PNPM_VERSION} into .cache/pnpm`);
    run('npm', ['install', '--prefix', '.cache/pnpm', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `pnpm@${PNPM_VERSION}`]);
  }
  env.PATH = `${binDir}${path.delimiter}${env.PATH}`;
}

// The Redis adapter's tests start a real redis-server. Install Debian's package when it is missing
// and this machine can (root with apt-get); otherwise those tests fail with a message saying so.
if (job === 'test' || job === 'test-only' || job === 'bench') {
  const has = spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
  const canApt = typeof process.getuid === 'function' && process.getuid() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!has && canApt) {
    console.log('[portvakt] installing redis-server (Debian package) for the @portvakt/redis tests');
    run('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null']);
  } else if (!has) {
    console.warn('[portvakt] redis-server is not installed; the @portvakt/redis tests need it (apt-get install redis-server)');
  }
}

run('pnpm', ['install', '--frozen-lockfile', '--reporter=append-only'], env);
run('pnpm', ['run', jobs[job]], env);
