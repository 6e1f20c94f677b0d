#!/usr/bin/env node
// Compares runs saved with `node tools/bench/run.mjs --json > file.json`: for each figure of the
// first (reference) file, its median and spread, then each other file's median, marked "in" when it
// falls inside the reference spread and "OUT" when it does not.
//
//   node tools/bench/diff.mjs before.json after.json [more.json ...]
//   node tools/bench/diff.mjs --markdown reference.json run1.json ...   (the table in docs/performance.md)
import { readFileSync } from 'node:fs';
import { againstReference } from './reference.mjs';

const markdown = process.argv.includes('--markdown');
const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (files.length < 2) {
  console.error('usage: node tools/bench/diff.mjs reference.json other.json [...]');
  process.exit(2);
}
const [ref, ...others] = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
// Per other run, each reference figure with that run's figure and whether its median is inside.
const checks = others.map((o) => againstReference(ref, o));
const fmt = (x) => (x === undefined ? '—' : Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en') : Number(x.toPrecision(3)).toString());
if (markdown) {
  const unit = (f) => ` ${f.unit}`;
  const num = (f, x) => (f.kind === 'ratio' && x < 100 ? x.toFixed(2) : fmt(x));
  const pooled = ref.pooled ? `Median of ${ref.pooled} runs` : 'Median';
  const spread = ref.pooled ? 'Pooled spread (min–max of all rounds)' : 'Spread (min–max)';
  console.log(`| Figure | ${pooled} | ${spread} | Rounds | Goal | Verdict | Command | ${others.map((_, i) => `Check ${i + 1}`).join(' | ')} |`);
  console.log(`|---|---|---|---|---|---|---|${others.map(() => '---|').join('')}`);
  for (const [i, f] of ref.figures.entries()) {
    const runs = checks.map((c) => {
      const { got, inside } = c[i];
      return !got ? '—' : `${num(f, got.median)} ${inside ? '✔' : '✘'}`;
    });
    const goal = f.goal ? `${f.goal.op === '<=' ? '≤' : '≥'} ${f.goal.value}` : '';
    const noise = f.resolution === 'within noise' ? ' ≈' : '';
    console.log(`| ${f.name} | ${num(f, f.median)}${unit(f)}${noise} | ${num(f, f.min)}–${num(f, f.max)} | ${f.perRound.length} | ${goal} | ${f.verdict} | \`node tools/bench/run.mjs ${f.bench}\` | ${runs.join(' | ')} |`);
  }
  process.exit(0);
}
const w = Math.max(...ref.figures.map((f) => f.name.length));
console.log(`reference: ${files[0]} (${ref.date}, node ${ref.node}, load ${ref.loadavg.join(' ')})`);
others.forEach((o, i) => console.log(`run ${i + 1}:     ${files[i + 1]} (${o.date}, load ${o.loadavg.join(' ')})`));
console.log(`${'figure'.padEnd(w)}  ${'reference'.padStart(22)}  ${others.map((_, i) => `run ${i + 1}`.padStart(12)).join('  ')}`);
let outside = 0;
for (const [i, f] of ref.figures.entries()) {
  const cells = checks.map((c) => {
    const { got, inside } = c[i];
    if (!got) return 'missing'.padStart(12);
    if (!inside) outside += 1;
    return `${fmt(got.median)} ${inside ? 'in ' : 'OUT'}`.padStart(12);
  });
  console.log(`${f.name.padEnd(w)}  ${`${fmt(f.median)} [${fmt(f.min)}–${fmt(f.max)}]`.padStart(22)}  ${cells.join('  ')}`);
}
console.log(`${outside} median(s) outside the reference spread`);
