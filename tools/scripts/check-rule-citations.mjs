#!/usr/bin/env node
// Fails when the code or the guides cite a rule that docs/maskinporten-rules.md does not have: every
// `§N` or `§N.M` in the repository names a section of that page (its headings `## N.` and
// `### N.M`), and nothing cites the team's private protocol notes or their test-vector names,
// which are not in the repository.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const RULES = 'docs/maskinporten-rules.md';
const SKIP = new Set(['node_modules', 'dist', '.cache', '.nx', '.git', '.vitest', 'coverage']);
const TEXT = /\.(ts|mts|cts|js|mjs|cjs|md)$/;

const page = readFileSync(path.join(root, RULES), 'utf8');
const sections = new Set([...page.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]));

function* filesUnder(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else if (TEXT.test(entry.name)) yield full;
  }
}

const problems = [];
let citations = 0;
const places = ['packages', 'docs', 'tools', 'README.md'].map((p) => path.join(root, p));
for (const place of places) {
  const files = place.endsWith('.md') ? [place] : filesUnder(place);
  for (const file of files) {
    const relative = path.relative(root, file);
    if (relative === 'tools/scripts/check-rule-citations.mjs') continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const match of line.matchAll(/§(\d+(?:\.\d+)?)/g)) {
        citations += 1;
        if (!sections.has(match[1])) problems.push(`${relative}:${i + 1}: §${match[1]} is not a section of ${RULES}`);
      }
      if (/protocol\.md/.test(line)) problems.push(`${relative}:${i + 1}: cites protocol.md, which is not in the repository: cite ${RULES} §N`);
      if (/\bTV\d+\b/.test(line)) problems.push(`${relative}:${i + 1}: cites a test vector by its private name: cite ${RULES} §8.N`);
    });
  }
}

if (problems.length > 0) {
  console.error(`rule citations: ${problems.length} problem(s):`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`rule citations: ${citations} citations of ${sections.size} sections in ${RULES}, none missing`);
