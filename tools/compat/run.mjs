#!/usr/bin/env node
// Portvakt compatibility suite: packs every package, installs the tarballs into throwaway apps of
// the shapes users have, and runs each app's own tests. Node built-ins only.
//
//   node tools/compat/run.mjs [--build] [--only a,b] [--jobs 2] [--keep] [--list]
//
// See tools/compat/README.md.
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, findPnpm, run } from './lib/proc.mjs';
import { SHAPES, firstErrorLine } from './lib/shapes.mjs';
import { checkContents, checkTypes, packAll, workspacePackages } from './lib/tarballs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const INSTALL_TIMEOUT = 8 * 60_000;
const TEST_TIMEOUT = 5 * 60_000;

function parseArgs(argv) {
  const opts = { build: false, keep: false, list: false, only: null, jobs: 2 };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const value = () => {
      const inline = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (inline === undefined) usage(`${a} needs a value`);
      return inline;
    };
    if (a === '--build') opts.build = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--only' || a.startsWith('--only=')) opts.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--jobs' || a.startsWith('--jobs=')) opts.jobs = Math.max(1, Number.parseInt(value(), 10) || 1);
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

function usage(problem) {
  if (problem) console.error(`compat: ${problem}`);
  console.error('usage: node tools/compat/run.mjs [--build] [--only shape,...] [--jobs N] [--keep] [--list]');
  process.exit(problem ? 2 : 0);
}

const opts = parseArgs(process.argv.slice(2));
if (opts.list) {
  for (const s of SHAPES) console.log(`${s.name.padEnd(18)} ${s.what}`);
  process.exit(0);
}
let shapes = SHAPES;
if (opts.only) {
  const unknown = opts.only.filter((n) => !SHAPES.some((s) => s.name === n));
  if (unknown.length) usage(`unknown shape ${unknown.join(', ')} (known: ${SHAPES.map((s) => s.name).join(', ')})`);
  shapes = SHAPES.filter((s) => opts.only.includes(s.name));
}

const pnpm = findPnpm(root);
if (!pnpm) {
  console.error('compat: pnpm not found on PATH nor in .cache/pnpm (npm test fetches it there; or export PATH=$PWD/.cache/pnpm/node_modules/.bin:$PATH)');
  process.exit(2);
}

const started = Date.now();
const logs = mkdtempSync(path.join(os.tmpdir(), 'portvakt-compat-logs-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'portvakt-compat-'));
console.log(`compat: node ${process.version}, ${shapes.length} shapes, ${opts.jobs} at a time`);
console.log(`compat: logs in ${logs}`);
console.log(`compat: apps in ${work}${opts.keep ? ' (kept)' : ' (removed at the end; --keep keeps it)'}`);

let cleaned = false;
const cleanup = () => {
  if (cleaned || opts.keep) return;
  cleaned = true;
  rmSync(work, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const packages = workspacePackages(root);

if (opts.build) {
  console.log('compat: building (pnpm nx run-many -t build)');
  const log = path.join(logs, 'build.log');
  const r = await run(pnpm, ['nx', 'run-many', '-t', 'build'], { cwd: root, env: childEnv({ NX_DAEMON: 'false', NX_TUI: 'false' }), log, timeoutMs: 15 * 60_000 });
  if (r.code !== 0) {
    console.error(`compat: build failed: ${firstErrorLine(readFileSync(log, 'utf8'))} (log: ${log})`);
    cleanup();
    process.exit(2);
  }
}
const unbuilt = packages.filter((p) => !existsSync(path.join(p.path, 'dist')));
if (unbuilt.length) {
  console.error(`compat: ${unbuilt.map((p) => `packages/${p.dir}/dist`).join(', ')} missing: run \`pnpm nx run-many -t build\` first (or pass --build)`);
  cleanup();
  process.exit(2);
}

// Pack every package once; every shape installs from these files.
const packLog = path.join(logs, 'pack.log');
let tarballs;
try {
  tarballs = await packAll(pnpm, packages, path.join(work, 'tarballs'), packLog);
} catch (error) {
  console.error(`compat: ${error.message}`);
  cleanup();
  process.exit(2);
}
console.log(`compat: packed ${Object.values(tarballs).map((t) => path.basename(t)).join(', ')}`);

/**
 * A shape's differences from its template (see lib/shapes.mjs): versions in `pin` replace the
 * template's (a package the template does not have is an error), and `compilerOptions` are
 * merged into its tsconfig.json. Returns an error message, or undefined.
 */
function applyVariation(shape, app) {
  if (shape.pin) {
    const file = path.join(app, 'package.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    for (const [name, version] of Object.entries(shape.pin)) {
      const section = ['dependencies', 'devDependencies'].find((s) => manifest[s]?.[name] !== undefined);
      if (!section) return `shape ${shape.name} pins ${name}, which template apps/${shape.template}/package.json does not have`;
      manifest[section][name] = version;
    }
    manifest.name = `compat-${shape.name}`;
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  if (shape.compilerOptions) {
    const file = path.join(app, 'tsconfig.json');
    const tsconfig = JSON.parse(readFileSync(file, 'utf8'));
    tsconfig.compilerOptions = { ...tsconfig.compilerOptions, ...shape.compilerOptions };
    writeFileSync(file, `${JSON.stringify(tsconfig, null, 2)}\n`);
  }
  return undefined;
}

/** Copies the template, installs its pinned dependencies plus the tarballs, runs its test command. */
async function runApp(shape, log) {
  const template = path.join(here, 'apps', shape.template ?? shape.name);
  const app = path.join(work, 'apps', shape.name);
  cpSync(template, app, { recursive: true, filter: (src) => !/[\\/](node_modules|dist|coverage|package-lock\.json)$/.test(src) });
  for (const [target, file] of Object.entries(shape.program ?? {})) cpSync(path.join(here, 'programs', file), path.join(app, target));
  const variation = applyVariation(shape, app);
  if (variation) return { ok: false, error: variation };
  // Templates pin exact versions, so a run today and a run next month install the same apps.
  const manifest = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
  const loose = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(([, v]) => !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(v));
  if (loose.length) return { ok: false, error: `template apps/${shape.template ?? shape.name}/package.json does not pin ${loose.map(([n, v]) => `${n}@${v}`).join(', ')}` };
  // A shape may add registry packages to its template's (`add`, pinned the same way).
  const looseAdd = (shape.add ?? []).filter((spec) => !/^(@[^/]+\/)?[^@]+@\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec));
  if (looseAdd.length) return { ok: false, error: `shape ${shape.name} does not pin ${looseAdd.join(', ')}` };
  const missing = shape.packages.filter((p) => !tarballs[p]);
  if (missing.length) return { ok: false, error: `no tarball for ${missing.join(', ')}` };
  const install = ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline', ...shape.packages.map((p) => tarballs[p]), ...(shape.add ?? [])];
  const i = await run('npm', install, { cwd: app, log, timeoutMs: INSTALL_TIMEOUT });
  if (i.code !== 0) return { ok: false, error: `npm install: ${i.timedOut ? 'timed out' : firstErrorLine(readFileSync(log, 'utf8'))}` };
  const mark = readFileSync(log, 'utf8').length;
  const t = await run(shape.test[0], shape.test.slice(1), { cwd: app, log, timeoutMs: TEST_TIMEOUT, env: childEnv(shape.env) });
  if (t.code !== 0) {
    const out = readFileSync(log, 'utf8').slice(mark);
    return { ok: false, error: t.timedOut ? `${shape.test.join(' ')} timed out after ${TEST_TIMEOUT / 1000} s (${firstErrorLine(out)})` : firstErrorLine(out) };
  }
  return { ok: true };
}

async function runCheck(shape, log) {
  if (shape.name === 'tarball-contents') {
    const r = checkContents(tarballs, log);
    return r.ok ? { ok: true } : { ok: false, error: r.summary };
  }
  if (shape.name === 'attw') {
    const dir = path.join(work, 'attw');
    mkdirSync(dir, { recursive: true });
    const failures = await checkTypes(root, tarballs, dir, log);
    return failures.length ? { ok: false, error: failures.join('; ') } : { ok: true };
  }
  return { ok: false, error: `no check named ${shape.name}` };
}

const results = [];
async function runShape(shape) {
  const log = path.join(logs, `${shape.name}.log`);
  writeFileSync(log, `# ${shape.name}: ${shape.what}\n`);
  const t0 = Date.now();
  let result;
  try {
    result = shape.kind === 'check' ? await runCheck(shape, log) : await runApp(shape, log);
  } catch (error) {
    appendFileSync(log, `[compat] ${error.stack ?? error}\n`);
    result = { ok: false, error: `harness: ${error.message}` };
  }
  const seconds = (Date.now() - t0) / 1000;
  // Paths inside the app read better relative to it.
  if (result.error) result.error = result.error.replaceAll(`${path.join(work, 'apps', shape.name)}${path.sep}`, '');
  results.push({ shape: shape.name, ...result, seconds, log });
  console.log(result.ok ? `PASS ${shape.name} (${seconds.toFixed(1)}s)` : `FAIL ${shape.name}: ${result.error}`);
}

// Run `jobs` shapes at a time, in the order of the table.
const queue = [...shapes];
await Promise.all(
  Array.from({ length: Math.min(opts.jobs, queue.length) }, async () => {
    while (queue.length) await runShape(queue.shift());
  }),
);

cleanup();
const failed = results.filter((r) => !r.ok);
const total = ((Date.now() - started) / 1000).toFixed(0);
for (const r of failed) console.log(`  log of ${r.shape}: ${r.log}`);
console.log(`compat: total ${total}s, logs in ${logs}`);
console.log(`compat: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length ? 1 : 0;
