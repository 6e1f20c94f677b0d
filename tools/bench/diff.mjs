#!/usr/bin/env node
// Compares runs saved with `node tools/bench/run.mjs --json > file.json`: for each figure of the
// first (reference) file, its median and spread, then each other file's median, marked "in" when it
// falls inside the reference spread and "OUT" when it does not.
//
//   node tools/bench/diff.mjs before.json after.json [more.json ...]
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error('usage: node tools/bench/diff.mjs reference.json other.json [...]');
  process.exit(2);
}
const [ref, ...others] = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const key = (f) => `${f.bench}\u0000${f.name}`;
const fmt = (x) => (x === undefined ? '—' : Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en') : Number(x.toPrecision(3)).toString());
const w = Math.max(...ref.figures.map((f) => f.name.length));
console.log(`reference: ${files[0]} (${ref.date}, node ${ref.node}, load ${ref.loadavg.join(' ')})`);
others.forEach((o, i) => console.log(`run ${i + 1}:     ${files[i + 1]} (${o.date}, load ${o.loadavg.join(' ')})`));
console.log(`${'figure'.padEnd(w)}  ${'reference'.padStart(22)}  ${others.map((_, i) => `run ${i + 1}`.padStart(12)).join('  ')}`);
let outside = 0;
for (const f of ref.figures) {
  const cells = others.map((o) => {
    const g = o.figures.find((x) => key(x) === key(f));
    if (!g) return 'missing'.padStart(12);
    const inside = g.median >= f.min && g.median <= f.max;
    if (!inside) outside += 1;
    return `${fmt(g.median)} ${inside ? 'in ' : 'OUT'}`.padStart(12);
  });
  console.log(`${f.name.padEnd(w)}  ${`${fmt(f.median)} [${fmt(f.min)}–${fmt(f.max)}]`.padStart(22)}  ${cells.join('  ')}`);
}
console.log(`${outside} median(s) outside the reference spread`);
