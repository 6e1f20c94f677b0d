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
// The peers benchmark (tools/bench/peers/run.mjs) is not part of this run: it installs a package
// from the npm registry and is run on demand.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { document, summaryLines } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.filter((a) => !a.startsWith('--'));
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
  say(`\n=== ${file} ===`);
  const resultsFile = path.join(scratch, `${file}.json`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(here, file)], {
    stdio: ['ignore', json ? process.stderr : 'inherit', 'inherit'],
    env: { ...process.env, PORTVAKT_BENCH_RESULTS: resultsFile },
  });
  if (r.status !== 0) {
    failed += 1;
    say(`!!! ${file} exited with ${r.signal ?? r.status}`);
  }
  try {
    figures.push(...JSON.parse(readFileSync(resultsFile, 'utf8')));
  } catch {
    say(`!!! ${file} wrote no figures`);
  }
}
rmSync(scratch, { recursive: true, force: true });
say(`\n=== summary: ${figures.length} figures from ${files.length} benchmarks in ${((performance.now() - started) / 1000).toFixed(0)} s ===`);
for (const line of summaryLines(figures)) say(line);
say('Ratios within ±10 % of 1.00 are not resolved on a shared 2-core machine; see docs/performance.md.');
if (json) process.stdout.write(`${JSON.stringify(document(figures, files), null, 2)}\n`);
process.exitCode = failed === 0 ? 0 : 1;
