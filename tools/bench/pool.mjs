#!/usr/bin/env node
// Pools several --json runs into one reference: per figure, the median of the runs' medians and
// the spread of every round of every run. One run's rounds show the noise within a run; on a
// shared machine runs also drift between each other, and a reference spread that is meant to hold
// for the next run has to include that drift. docs/performance.md prints pooled spreads.
//
//   node tools/bench/pool.mjs run1.json run2.json run3.json > reference.json
//   node tools/bench/diff.mjs reference.json run4.json run5.json run6.json
import { readFileSync } from 'node:fs';
import { figureKey, goalFromJson, median, verdict } from './harness.mjs';

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error('usage: node tools/bench/pool.mjs run1.json run2.json [...] > reference.json');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const figures = runs[0].figures.map((first) => {
  const same = runs.map((r) => r.figures.find((f) => figureKey(f) === figureKey(first))).filter(Boolean);
  const rounds = same.flatMap((f) => (f.perRound?.length ? f.perRound : [f.median]));
  const pooled = { ...first, median: median(same.map((f) => f.median)), min: Math.min(...rounds), max: Math.max(...rounds), perRound: rounds, pooledFrom: same.length };
  const goal = goalFromJson(first.goal);
  return { ...pooled, verdict: goal ? verdict(goal, pooled) : first.verdict };
});
process.stdout.write(`${JSON.stringify({ ...runs[0], date: runs.at(-1).date, pooled: files.length, figures }, null, 2)}\n`);
