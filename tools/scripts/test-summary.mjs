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
  const dir = path.join(root, 'packages', name, '.vitest');
  // results.json, plus results-<variant>.json for a suite run again on other versions (Nest 11).
  const reports = existsSync(dir) ? readdirSync(dir).filter((f) => /^results(-[\w.-]+)?\.json$/.test(f)).sort() : [];
  if (!reports.includes('results.json')) {
    console.error(`no test report for packages/${name}`);
    missing += 1;
    continue;
  }
  for (const report of reports) {
    const r = JSON.parse(readFileSync(path.join(dir, report), 'utf8'));
    const variant = report === 'results.json' ? '' : ` (${report.slice('results-'.length, -'.json'.length)})`;
    console.log(`@portvakt/${name}${variant}: ${r.numPassedTests} passed, ${r.numFailedTests} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ''}`);
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed === 0 && missing === 0 && passed > 0 ? 0 : 1;
