// The reference figures that docs/performance.md prints (tools/bench/reference.json, pooled from
// several runs with pool.mjs), and the check every run makes against them: is this run's median
// of each figure inside the spread the docs print?
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { figureKey } from './harness.mjs';

export const referencePath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference.json');

/** The committed reference document, or undefined when there is none. */
export function loadReference(file = referencePath) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/**
 * For each figure of the reference: the run's figure (or undefined when the run did not measure
 * it) and whether its median falls inside the reference's min-max spread.
 */
export function againstReference(reference, run) {
  return reference.figures.map((ref) => {
    const got = run.figures.find((f) => figureKey(f) === figureKey(ref));
    return { ref, got, inside: got !== undefined && got.median >= ref.min && got.median <= ref.max };
  });
}

/** Figures of the run that the reference does not have (new or renamed benchmarks). */
export function notInReference(reference, run) {
  const known = new Set(reference.figures.map(figureKey));
  return run.figures.filter((f) => !known.has(figureKey(f)));
}
