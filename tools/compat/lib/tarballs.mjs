// Packing the workspace packages, and the two checks that look at the tarballs themselves.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { childEnv, run } from './proc.mjs';

/** Workspace packages: [{ dir, name, path }] for every packages/<dir>/package.json. */
export function workspacePackages(root) {
  const base = path.join(root, 'packages');
  return readdirSync(base)
    .filter((dir) => existsSync(path.join(base, dir, 'package.json')))
    .map((dir) => ({ dir, path: path.join(base, dir), name: JSON.parse(readFileSync(path.join(base, dir, 'package.json'), 'utf8')).name }))
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Packs each package with `pnpm pack` (which rewrites workspace: ranges). Returns { dir: tarballPath }. */
export async function packAll(pnpm, packages, dest, log) {
  mkdirSync(dest, { recursive: true });
  const tarballs = {};
  for (const pkg of packages) {
    const before = new Set(readdirSync(dest));
    const r = await run(pnpm, ['pack', '--pack-destination', dest], { cwd: pkg.path, log, timeoutMs: 2 * 60_000 });
    const made = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
    if (r.code !== 0 || made.length !== 1) throw new Error(`pnpm pack failed in packages/${pkg.dir} (see ${log})`);
    tarballs[pkg.dir] = path.join(dest, made[0]);
  }
  return tarballs;
}

/** Entries of a .tgz, without the leading `package/`. */
export function tarballEntries(tgz) {
  return execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l && !l.endsWith('/'))
    .map((l) => l.replace(/^package\//, ''));
}

const ALLOWED_TOP = /^(package\.json|README(\.md)?|LICEN[CS]E(\.md|\.txt)?)$/i;
const NOT_IN_DIST = [
  [/\.tsbuildinfo$/, 'TypeScript build info'],
  [/(^|\/)(__tests__|test|tests)\//, 'test folder'],
  [/\.(test|spec)\.[cm]?[jt]sx?$/, 'test file'],
  [/\.(test|spec)\.d\.[cm]?ts$/, 'test declaration'],
];

/** Why a tarball entry should not be published, or null when it belongs there. */
export function offence(entry) {
  if (!entry.includes('/')) return ALLOWED_TOP.test(entry) ? null : 'not dist/, README, LICENSE or package.json';
  if (!entry.startsWith('dist/')) return `${entry.split('/')[0]}/ is not dist/`;
  for (const [re, why] of NOT_IN_DIST) if (re.test(entry)) return why;
  return null;
}

/** The tarball-contents check: returns { ok, summary } and writes every finding to `log`. */
export function checkContents(tarballs, log) {
  const failures = [];
  for (const [dir, tgz] of Object.entries(tarballs)) {
    const entries = tarballEntries(tgz);
    const bad = entries.map((e) => [e, offence(e)]).filter(([, why]) => why);
    appendFileSync(log, `\n== ${path.basename(tgz)}: ${entries.length} files, ${bad.length} that should not be there\n`);
    for (const [e, why] of bad) appendFileSync(log, `   ${e}  (${why})\n`);
    for (const must of ['package.json', 'README.md']) if (!entries.includes(must)) bad.push([must, 'missing']), appendFileSync(log, `   ${must} is missing\n`);
    if (!entries.some((e) => /^LICEN[CS]E/i.test(e))) bad.push(['LICENSE', 'missing']), appendFileSync(log, '   LICENSE is missing\n');
    if (!entries.some((e) => e.startsWith('dist/'))) bad.push(['dist/', 'missing']), appendFileSync(log, '   dist/ is missing\n');
    // Not a failure: source maps that point at sources the tarball does not ship.
    const maps = entries.filter((e) => e.endsWith('.map'));
    if (maps.length && !entries.some((e) => e.startsWith('src/'))) {
      appendFileSync(log, `   note: ${maps.length} .map files but no src/ in the tarball; unless they embed sourcesContent they point at missing files\n`);
    }
    if (bad.length) failures.push(`${dir}: ${summarise(bad.map(([e]) => e))}`);
  }
  return { ok: failures.length === 0, summary: failures.join('; ') };
}

/** `src/a.ts, src/b.ts, ...` grouped by top folder with counts, so a line stays short. */
function summarise(files) {
  const groups = new Map();
  for (const f of files) {
    const key = f.endsWith('.tsbuildinfo') ? '*.tsbuildinfo' : f.includes('/') ? `${f.split('/')[0]}/` : f;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => (n > 1 ? `${k} (${n} files)` : k)).join(', ');
}

/**
 * arethetypeswrong with the strict profile (every resolution mode: node10, node16-cjs, node16-esm,
 * bundler) on each tarball. The readable table goes to `log`; returns one line per failing package.
 */
export async function checkTypes(root, tarballs, cwd, log) {
  const local = path.join(root, 'node_modules/.bin/attw');
  const [cmd, pre] = existsSync(local) ? [local, []] : ['npx', ['-y', '@arethetypeswrong/cli@0.18.5']];
  const common = ['--profile', 'strict', '--no-color', '--no-definitely-typed'];
  const failures = [];
  for (const [dir, tgz] of Object.entries(tarballs)) {
    const r = await run(cmd, [...pre, ...common, '--format', 'ascii', '--no-emoji', tgz], { cwd, env: childEnv(), log, timeoutMs: 3 * 60_000 });
    if (r.code === 0) continue;
    let problems = [];
    try {
      const out = execFileSync(cmd, [...pre, ...common, '--format', 'json', tgz], { cwd, env: childEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString();
      problems = parseProblems(out);
    } catch (error) {
      // attw exits 1 when it finds problems; its JSON is still on stdout.
      problems = parseProblems(String(error.stdout ?? ''));
    }
    const text = problems.length ? problems.join(', ') : `attw exited ${r.code ?? r.signal} (see log)`;
    appendFileSync(log, `[compat] ${dir}: ${text}\n`);
    failures.push(`${dir}: ${text}`);
  }
  return failures;
}

function parseProblems(json) {
  try {
    const report = JSON.parse(json);
    // `problems` is grouped by kind (and filtered by the profile); `analysis.problems` is a flat list.
    const grouped = report.problems;
    const problems = grouped && typeof grouped === 'object' ? (Array.isArray(grouped) ? grouped : Object.values(grouped).flat()) : (report.analysis?.problems ?? []);
    const byKind = new Map();
    for (const p of problems) {
      const key = `${p.kind} ${p.entrypoint ?? ''}`.trim();
      if (!byKind.has(key)) byKind.set(key, []);
      if (p.resolutionKind) byKind.get(key).push(p.resolutionKind);
    }
    return [...byKind].map(([k, modes]) => (modes.length ? `${k} (${modes.join(', ')})` : k));
  } catch {
    return [];
  }
}
