#!/usr/bin/env node
// Prints one closing line with the number of tests run across the workspace, from each package's
// Vitest JSON report, and fails when a package has no report or any test failed.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
for (const name of readdirSync(path.join(root, 'packages')).sort()) {
  const file = path.join(root, 'packages', name, '.vitest/results.json');
  if (!existsSync(file)) {
    console.error(`no test report for packages/${name}`);
    missing += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  console.log(`@portvakt/${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ''}`);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed === 0 && missing === 0 && passed > 0 ? 0 : 1;
