#!/usr/bin/env node
// Fails when any packages/*/src has an import cycle, type-only imports included: a cycle makes the
// order of module evaluation matter (a class used before its module ran) and says two files are
// one concern split in two. Relative specifiers only (`./x.js` → x.ts, `./dir/index.js`); imports
// of other packages cannot cycle, since packages depend one way.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourcesOf(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourcesOf(full));
    else if (/\.(c|m)?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function resolve(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base.replace(/\.(c|m)?js$/, (ext) => ext.replace('js', 'ts')), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Every cycle found, each as a list of files from one back to itself (one per strongly connected set). */
function cyclesOf(graph) {
  const cycles = [];
  const state = new Map(); // file -> 'open' | 'done'
  const stack = [];
  const visit = (file) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

let files = 0;
let edges = 0;
const found = [];
for (const pkg of readdirSync(path.join(root, 'packages')).sort()) {
  const src = path.join(root, 'packages', pkg, 'src');
  if (!existsSync(src)) continue;
  const graph = new Map();
  for (const file of sourcesOf(src)) {
    files += 1;
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const targets = new Set();
    for (const match of text.matchAll(SPECIFIER)) {
      const target = resolve(file, match[1] ?? match[2]);
      if (target !== undefined) targets.add(target);
    }
    edges += targets.size;
    graph.set(file, [...targets]);
  }
  for (const cycle of cyclesOf(graph)) found.push(cycle.map((f) => path.relative(root, f)).join(' → '));
}

if (found.length > 0) {
  console.error(`import cycles: ${found.length} found in packages/*/src (type-only imports count too):`);
  for (const cycle of found) console.error(`  ${cycle}`);
  console.error('Move what both sides need into a module of its own, or the type next to its one user.');
  process.exit(1);
}
console.log(`import cycles: none in ${files} files (${edges} relative imports)`);
