#!/usr/bin/env node
// The API reference in docs/api/: one markdown page per public entry of every package (each
// package.json "exports" entry with a "@portvakt/source" condition), generated from the TSDoc by
// TypeDoc and typedoc-plugin-markdown, plus an index page. The output holds no date, no commit and
// no source link, and members are sorted, so the same code always gives the same bytes.
//
//   node tools/apidocs/generate.mjs           writes docs/api/
//   node tools/apidocs/generate.mjs --check   exits 1 when docs/api/ differs from what the code
//                                             generates (run the command above and commit)
//
// Types come from the packages' sources (the "@portvakt/source" condition), so no build is needed.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, LogLevel } from 'typedoc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const target = path.join(root, 'docs/api');
const check = process.argv.includes('--check');

/** Every public entry: { name: '@portvakt/nestjs/health', slug: 'nestjs-health', source, tsconfig, description }. */
function publicEntries() {
  const entries = [];
  const packagesDir = path.join(root, 'packages');
  for (const folder of readdirSync(packagesDir).sort()) {
    const manifestPath = path.join(packagesDir, folder, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.private) continue;
    for (const [subpath, conditions] of Object.entries(manifest.exports ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      const source = typeof conditions === 'object' ? conditions['@portvakt/source'] : undefined;
      if (source === undefined) continue;
      // An internal entry (plumbing shared by the @portvakt/* packages) is not a public API.
      if (subpath.endsWith('/internal')) continue;
      if (!existsSync(path.join(packagesDir, folder, source))) {
        console.warn(`skipped ${manifest.name}${subpath.slice(1)}: ${source} does not exist yet`);
        continue;
      }
      const suffix = subpath === '.' ? '' : subpath.slice(1);
      entries.push({
        name: `${manifest.name}${suffix}`,
        slug: `${folder}${suffix.replaceAll('/', '-')}`,
        source: path.join(packagesDir, folder, source),
        // The spec config: no project references, so other packages' types come from their sources
        // whether or not they are built (the package config would read their dist declarations).
        tsconfig: path.join(packagesDir, folder, 'tsconfig.spec.json'),
        description: subpath === '.' ? manifest.description : `${subpath.slice(2)} entry of ${manifest.name}.`,
      });
    }
  }
  return entries;
}

/** The markdown of one entry, from TypeDoc. */
async function render(entry, scratch) {
  const out = path.join(scratch, entry.slug);
  const app = await Application.bootstrapWithPlugins({
    entryPoints: [entry.source],
    tsconfig: entry.tsconfig,
    compilerOptions: { customConditions: ['@portvakt/source'], noEmit: true, composite: false, incremental: false, declaration: false },
    plugin: ['typedoc-plugin-markdown'],
    out,
    name: entry.name,
    readme: 'none',
    disableSources: true,
    hideGenerator: true,
    excludePrivate: true,
    excludeInternal: true,
    // Members inherited from Error and other built-ins (stack, captureStackTrace, ...) say nothing of Portvakt.
    excludeExternals: true,
    sort: ['kind', 'alphabetical'],
    outputFileStrategy: 'modules',
    hideBreadcrumbs: true,
    hidePageHeader: true,
    useCodeBlocks: true,
    parametersFormat: 'table',
    interfacePropertiesFormat: 'table',
    classPropertiesFormat: 'table',
    typeDeclarationFormat: 'table',
    // Type errors are the typecheck's business; links to another package's symbols stay plain text.
    skipErrorChecking: true,
    validation: { notExported: false, invalidLink: false, notDocumented: false },
    logLevel: LogLevel.Warn,
  });
  const project = await app.convert();
  if (project === undefined || app.logger.hasErrors()) throw new Error(`TypeDoc could not convert ${entry.name}: see the errors above`);
  await app.outputs.writeOutputs(project);
  const files = readdirSync(out).filter((f) => f.endsWith('.md'));
  if (files.length !== 1) throw new Error(`expected one page for ${entry.name}, TypeDoc wrote ${files.join(', ')}`);
  return readFileSync(path.join(out, files[0]), 'utf8').replace(/[ \t]+$/gm, '').replace(/\n*$/, '\n');
}

function indexPage(entries) {
  const rows = entries.map((e) => `| [\`${e.name}\`](${e.slug}.md) | ${e.description} |`);
  return [
    '# API reference',
    '',
    'Generated from the TSDoc in the sources by `node tools/apidocs/generate.mjs`; do not edit by hand.',
    '`node tools/apidocs/generate.mjs --check` fails when these pages differ from the code.',
    'The guides are one folder up, in [docs](../).',
    '',
    '| Entry | What it is |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
}

const entries = publicEntries();
const scratch = mkdtempSync(path.join(tmpdir(), 'portvakt-apidocs-'));
const pages = new Map();
try {
  for (const entry of entries) pages.set(`${entry.slug}.md`, await render(entry, scratch));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
pages.set('README.md', indexPage(entries));

if (check) {
  const committed = existsSync(target) ? readdirSync(target).filter((f) => f.endsWith('.md')) : [];
  const drift = [];
  for (const [file, text] of pages) {
    const p = path.join(target, file);
    if (!existsSync(p)) drift.push(`missing: docs/api/${file}`);
    else if (readFileSync(p, 'utf8') !== text) drift.push(`differs: docs/api/${file}`);
  }
  for (const file of committed) if (!pages.has(file)) drift.push(`not generated (stale): docs/api/${file}`);
  if (drift.length > 0) {
    console.error(`docs/api is out of date with the code:\n  ${drift.join('\n  ')}\nRun node tools/apidocs/generate.mjs and commit docs/api.`);
    process.exitCode = 1;
  } else {
    console.log(`docs/api matches the code (${pages.size} pages).`);
  }
} else {
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(target)) if (file.endsWith('.md') && !pages.has(file)) rmSync(path.join(target, file));
  for (const [file, text] of pages) writeFileSync(path.join(target, file), text);
  console.log(`wrote ${pages.size} pages to docs/api`);
}
