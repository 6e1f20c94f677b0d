#!/usr/bin/env node
// Runs every benchmark in this folder (files named *.bench.mjs) one after another, each in its own
// process so one benchmark's heap does not colour the next. All of them use harness.mjs: warm-up,
// at least 5 rounds alternating the order of the compared sides, median and min-max spread per
// figure, load average beside it. See docs/performance.md for the recorded results.
//
//   node tools/bench/run.mjs                  every benchmark, human-readable, summary at the end
//   node tools/bench/run.mjs cache-hit grant  only the benchmarks whose file name contains a word
//   node tools/bench/run.mjs --json > a.json  the same, plus one JSON document on stdout (the
//                                             human-readable lines go to stderr), for diffing
//                                             results between commits
//
// Every benchmark runs in 3 processes, one after another (--processes N changes that), and each
// figure pools the rounds of all of them: a process makes its own JIT decisions, and on this kind of
// machine a ~100 ns figure can differ by 20 % from one process to the next while the rounds inside
// one process agree within 5 %. One process's rounds would print a spread that the next run misses.
//
// The peers benchmark (tools/bench/peers/run.mjs) is not part of this run: it installs a package
// from the npm registry and is run on demand.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { document, mergeProcesses, summaryLines } from './harness.mjs';
import { againstReference, loadReference, notInReference, referencePath } from './reference.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const processesAt = args.indexOf('--processes');
const processes = processesAt >= 0 ? Number(args[processesAt + 1]) : 3;
if (!Number.isInteger(processes) || processes < 1) {
  process.stderr.write('--processes takes a whole number of at least 1\n');
  process.exit(2);
}
const only = args.filter((a, i) => !a.startsWith('--') && !(processesAt >= 0 && i === processesAt + 1));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const say = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);
const scratch = mkdtempSync(path.join(tmpdir(), 'portvakt-bench-'));
const figures = [];
let failed = 0;
const started = performance.now();
for (const file of files) {
  const lists = [];
  for (let p = 1; p <= processes; p++) {
    say(`\n=== ${file}${processes > 1 ? ` (process ${p} of ${processes})` : ''} ===`);
    const resultsFile = path.join(scratch, `${file}.${p}.json`);
    const r = spawnSync(process.execPath, ['--expose-gc', path.join(here, file)], {
      stdio: ['ignore', json ? process.stderr : 'inherit', 'inherit'],
      env: { ...process.env, PORTVAKT_BENCH_RESULTS: resultsFile },
    });
    if (r.status !== 0) {
      failed += 1;
      say(`!!! ${file} exited with ${r.signal ?? r.status}`);
    }
    try {
      lists.push(JSON.parse(readFileSync(resultsFile, 'utf8')));
    } catch {
      say(`!!! ${file} wrote no figures`);
    }
  }
  if (lists.length > 0) figures.push(...mergeProcesses(lists));
}
rmSync(scratch, { recursive: true, force: true });
say(`\n=== summary: ${figures.length} figures from ${files.length} benchmarks, ${processes} process(es) each, in ${((performance.now() - started) / 1000).toFixed(0)} s ===`);
for (const line of summaryLines(figures)) say(line);
say('Ratios within ±10 % of 1.00 are not resolved on a shared 2-core machine; see docs/performance.md.');
const doc = document(figures, files);
// Every run is kept (git-ignored) so it can be diffed or pooled later.
const keep = path.join(here, '.results', `${doc.date.replace(/[:.]/g, '-')}.json`);
mkdirSync(path.dirname(keep), { recursive: true });
writeFileSync(keep, `${JSON.stringify(doc, null, 2)}\n`);
say(`results saved in ${path.relative(process.cwd(), keep)}`);
// The check docs/performance.md rests on: this run's medians against the spreads it prints.
const reference = loadReference();
if (reference) {
  const rows = againstReference(reference, doc).filter((r) => r.got);
  const out = rows.filter((r) => !r.inside);
  say(`\n=== against ${path.relative(process.cwd(), referencePath)} (the spreads docs/performance.md prints, pooled from ${reference.pooled ?? 1} run(s) up to ${reference.date.slice(0, 10)}) ===`);
  say(`${rows.length - out.length} of ${rows.length} medians inside the printed spread`);
  for (const { ref, got } of out) say(`  outside: ${ref.name}: ${got.median} against ${ref.min}–${ref.max}`);
  for (const f of notInReference(reference, doc)) say(`  not in the reference: ${f.name}`);
}
if (json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
process.exitCode = failed === 0 ? 0 : 1;
