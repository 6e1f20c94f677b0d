#!/usr/bin/env node
// Run by the builds of @portvakt/core and @portvakt/testing after their CommonJS build. jose 6
// ships only ES modules, and Jest's module system cannot require() an ES module (Node's own
// require(esm) it does not use), so a CommonJS app tested with Jest could not load them. The CommonJS build therefore gets its own
// CommonJS copy of jose, bundled here from the installed jose (same version, MIT licence kept in
// the bundle), and its require("jose") calls point to that copy. The ESM build imports jose as is.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { rolldown } from 'rolldown';

const cjsDir = path.join(process.cwd(), 'dist/cjs');
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.js')) files.push(full);
  }
};
walk(cjsDir);
const users = files.filter((file) => readFileSync(file, 'utf8').includes('require("jose")'));
if (users.length === 0) process.exit(0);

const require = createRequire(path.join(process.cwd(), 'package.json'));
const joseManifest = require.resolve('jose/package.json');
const joseDir = path.dirname(joseManifest);
const { version } = JSON.parse(readFileSync(joseManifest, 'utf8'));
const licence = readFileSync(path.join(joseDir, 'LICENSE.md'), 'utf8');
const bundle = await rolldown({ input: path.join(joseDir, 'dist/webapi/index.js'), platform: 'node', logLevel: 'silent' });
const { output } = await bundle.generate({ format: 'cjs', banner: `/*! jose ${version} (https://github.com/panva/jose), bundled as CommonJS for @portvakt/core.\n${licence.trim()}\n*/` });
await bundle.close();
const vendored = path.join(cjsDir, 'vendor/jose.cjs');
await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(vendored), { recursive: true }));
writeFileSync(vendored, output[0].code);
for (const file of users) {
  let relative = path.relative(path.dirname(file), vendored).split(path.sep).join('/');
  if (!relative.startsWith('.')) relative = `./${relative}`;
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('require("jose")', `require(${JSON.stringify(relative)})`));
}
console.log(`[portvakt] jose ${version} bundled as CommonJS for ${users.length} file(s) of the CommonJS build`);
