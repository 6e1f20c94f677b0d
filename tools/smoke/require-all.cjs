// Smoke test: every @portvakt package ships a CommonJS build beside its ESM one, because Nest apps,
// Jest (whose module system cannot load ES modules through require) and older services are
// CommonJS. Each entry must load with require() and resolve to the CommonJS files.
'use strict';
const assert = require('node:assert');
const packages = ['core', 'core/internal', 'verify', 'testing', 'axios', 'express', 'express/verify', 'nestjs', 'nestjs/health', 'nestjs/verify', 'fastify', 'redis', 'opentelemetry', 'skyporten', 'skyporten/aws', 'skyporten/google', 'skyporten/azure', 'undici', 'got'];
let passed = 0;
let failed = 0;
for (const name of packages) {
  const id = `@portvakt/${name}`;
  try {
    const resolved = require.resolve(id);
    assert.ok(resolved.includes(`${require('node:path').sep}dist${require('node:path').sep}cjs${require('node:path').sep}`), `${id} resolved to ${resolved}, not to its CommonJS build`);
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
