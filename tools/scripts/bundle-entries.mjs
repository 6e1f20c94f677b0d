#!/usr/bin/env node
// Run by a package's build after tsc has written the declarations (`emitDeclarationOnly`) and
// mark-cjs.mjs has marked dist/cjs: writes the JavaScript of dist/esm and dist/cjs as one file per
// entry of the package's `exports` (and the chunks that entries share), bundled with rolldown
// from the TypeScript sources. The declarations stay as tsc wrote them, one per module.
//
// Why: Node resolves, reads and compiles every file of an import separately. @portvakt/core as
// one file per module was 57 files, and `import('@portvakt/core')` cost about four times the
// instructions of the same code in one file (docs/performance.md, cold start). Entries share
// their chunks, so a class has one identity whichever entry a caller loaded it from
// (`instanceof ConfigurationError` holds between '@portvakt/core' and '@portvakt/core/internal').
//
// What is bundled: the package's own modules. Every bare import (node: built-ins, other
// @portvakt packages, peer dependencies) stays an import. Comments are dropped (the sources
// keep them) and non-ASCII characters are escaped, so Node reads each file as one-byte text.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { rolldown } from 'rolldown';

const packageDir = process.cwd();
const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));

/** `{ name: source }` for rolldown, from each export's `@portvakt/source` and `import` targets. */
function entriesOf(exports) {
  const input = {};
  for (const [subpath, target] of Object.entries(exports ?? {})) {
    if (typeof target !== 'object' || target === null) continue;
    const source = target['@portvakt/source'];
    const esm = target.import?.default;
    const cjs = target.require?.default;
    if (typeof source !== 'string' || typeof esm !== 'string') continue;
    const name = path.posix.relative('./dist/esm', esm).replace(/\.js$/, '');
    if (typeof cjs === 'string' && path.posix.relative('./dist/cjs', cjs).replace(/\.js$/, '') !== name) {
      throw new Error(`exports["${subpath}"]: the import and require targets must have the same path under dist/esm and dist/cjs`);
    }
    input[name] = path.join(packageDir, source);
  }
  if (Object.keys(input).length === 0) throw new Error(`${manifest.name}: no export has both "@portvakt/source" and "import" targets`);
  return input;
}

/** Removes the JavaScript of an earlier build (tsc's one file per module included); keeps declarations and package.json. */
function removeJavaScript(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) removeJavaScript(full);
    else if (/\.(c|m)?js(\.map)?$/.test(entry.name)) rmSync(full);
  }
}

/** Any warning from rolldown fails the build. */
function failOnLog(level, log) {
  throw new Error(`rolldown ${level}: ${log.message}`);
}

const input = entriesOf(manifest.exports);
const bundle = await rolldown({
  input,
  platform: 'node',
  // Only the package's own files are bundled.
  external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
  // The sources are erasable TypeScript; the output keeps the syntax level tsc targets.
  transform: { target: 'es2023' },
  logLevel: 'warn',
  onLog: failOnLog,
});
const output = {
  entryFileNames: '[name].js',
  chunkFileNames: 'chunks/shared-[hash].js',
  comments: false,
  charset: 'ascii',
  // Class and function names as written (error classes print them; rolldown may rename a binding
  // that two modules share).
  keepNames: true,
  // `exports.__esModule` in the CommonJS build, as tsc's CommonJS output had.
  esModule: true,
};
for (const [format, dir] of [['esm', 'dist/esm'], ['cjs', 'dist/cjs']]) {
  removeJavaScript(path.join(packageDir, dir));
  await bundle.write({ ...output, format, dir: path.join(packageDir, dir) });
}
await bundle.close();

// Condition targets that are one CommonJS file of their own (core's "edge-light" module): each is
// `./dist/cjs/<name>.cjs`, written from `src/<name>.cts`. tsc only writes declarations, so these are
// written here too; publint checks that every target exists.
const standalone = new Map();
for (const target of Object.values(manifest.exports ?? {})) {
  if (typeof target !== 'object' || target === null) continue;
  for (const value of Object.values(target)) {
    if (typeof value === 'string' && value.startsWith('./dist/cjs/') && value.endsWith('.cjs')) {
      const name = path.posix.basename(value, '.cjs');
      standalone.set(value, path.join(packageDir, 'src', `${name}.cts`));
    }
  }
}
for (const [target, source] of standalone) {
  const single = await rolldown({ input: source, platform: 'node', logLevel: 'warn', onLog: failOnLog });
  await single.write({ format: 'cjs', file: path.join(packageDir, target), comments: false, charset: 'ascii' });
  await single.close();
}
const extra = standalone.size > 0 ? ` (and ${[...standalone.keys()].map((t) => path.posix.basename(t)).join(', ')})` : '';
console.log(`[portvakt] ${manifest.name}: ${Object.keys(input).join(', ')} bundled into dist/esm and dist/cjs${extra}`);
