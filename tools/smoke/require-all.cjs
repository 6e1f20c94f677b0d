// Smoke test: every @portvakt package is ESM-only and must still load from CommonJS through
// require(esm) (Node >= 20.19), because Nest apps and older services are often CommonJS.
'use strict';
const assert = require('node:assert');
const packages = ['core', 'testing', 'axios', 'express', 'nestjs', 'nestjs/health', 'redis'];
let passed = 0;
let failed = 0;
for (const name of packages) {
  const id = `@portvakt/${name}`;
  try {
    const mod = require(id);
    assert.ok(mod && typeof mod === 'object', `${id} did not load as a module namespace`);
    assert.ok(Object.keys(mod).length > 0, `${id} exports nothing`);
    console.log(`ok   require('${id}') -> ${Object.keys(mod).length} exports`);
    passed += 1;
  } catch (err) {
    console.error(`FAIL require('${id}'): ${err && err.message}`);
    failed += 1;
  }
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
