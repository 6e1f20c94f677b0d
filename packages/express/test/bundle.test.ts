// An app bundled with esbuild and no flags, as a user builds one: the built packages (dist) are
// copied into a throw-away app folder's node_modules as an install would put them, with express,
// and with http-proxy-middleware only where the app installed it. Outside that folder nothing can
// be resolved, so a missing install is missing for the bundler and for Node alike. Each bundle
// runs in its own `node` process, starts an Express app and calls it once; the Maskinporten
// simulator and the upstream API run here.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaskinporten, startRecordingServer } from './support.js';
import type { Maskinporten, RecordingServer } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'portvakt-express-bundle-'));
// The http-proxy-middleware major this project runs on (see vitest.config.ts).
const hpmDir = realpathSync(path.join(packageDir, 'node_modules', process.env.PORTVAKT_HPM === '4' ? 'http-proxy-middleware4' : 'http-proxy-middleware'));

type ModuleSyntax = 'esm' | 'cjs';

/** A fresh app folder: @portvakt/core and @portvakt/express from their dist, express, and http-proxy-middleware when `withProxy`. */
function installApp(name: string, withProxy: boolean): string {
  const dir = path.join(tmp, name);
  for (const pkg of ['core', 'express']) {
    const from = path.resolve(packageDir, '..', pkg);
    const to = path.join(dir, 'node_modules', '@portvakt', pkg);
    mkdirSync(to, { recursive: true });
    cpSync(path.join(from, 'package.json'), path.join(to, 'package.json'));
    cpSync(path.join(from, 'dist'), path.join(to, 'dist'), { recursive: true });
  }
  symlinkSync(realpathSync(path.join(packageDir, 'node_modules', 'express')), path.join(dir, 'node_modules', 'express'), 'dir');
  if (withProxy) symlinkSync(hpmDir, path.join(dir, 'node_modules', 'http-proxy-middleware'), 'dir');
  return dir;
}

const IMPORTS = {
  esm: (names: string) => `import express from 'express';\nimport { createMaskinportenClient } from '@portvakt/core';\nimport { ${names} } from '@portvakt/express';\n`,
  cjs: (names: string) => `const express = require('express');\nconst { createMaskinportenClient } = require('@portvakt/core');\nconst { ${names} } = require('@portvakt/express');\n`,
};

const SETUP = `
const { environment, jwk, upstream } = JSON.parse(process.env.PORTVAKT_TEST_APP);
const client = createMaskinportenClient({ clientId: 'gw', environment, key: { jwk }, scope: 'api:read', transport: { maxAttempts: 1 } });
const app = express();
`;

// Calls the app once, prints { status, body } and lets the process end.
const CALL_ONCE = (pathname: string) => `
const server = app.listen(0, '127.0.0.1', () => {
  fetch('http://127.0.0.1:' + server.address().port + '${pathname}')
    .then(async (res) => console.log(JSON.stringify({ status: res.status, body: await res.text() })))
    .finally(() => {
      server.closeAllConnections();
      server.close();
      return client.close();
    });
});
`;

const MIDDLEWARE_APP = (syntax: ModuleSyntax) => `${IMPORTS[syntax]('maskinporten')}${SETUP}
app.use(maskinporten({ client, origins: [upstream] }));
app.get('/call', async (req, res, next) => {
  try {
    const answer = await req.maskinporten.fetch(upstream + '/from-middleware');
    res.status(answer.status).send(await answer.text());
  } catch (error) {
    next(error);
  }
});
${CALL_ONCE('/call')}`;

const PROXY_APP = (syntax: ModuleSyntax) => `${IMPORTS[syntax]('maskinportenProxy')}${SETUP}
app.use('/api', maskinportenProxy({ target: upstream, client }));
${CALL_ONCE('/api/from-proxy')}`;

// Express itself calls require() for Node's own modules, which an ES module output has not got
// without this banner (esbuild's usual advice for any ESM bundle of Express); it is not for us.
const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);";

interface Bundle {
  outfile: string;
  warnings: string[];
}

async function bundle(dir: string, app: string, syntax: ModuleSyntax, format: ModuleSyntax, minify: boolean): Promise<Bundle> {
  const outfile = path.join(dir, `bundle${minify ? '.min' : ''}.${format === 'esm' ? 'mjs' : 'cjs'}`);
  const result = await build({
    stdin: { contents: app, resolveDir: dir, sourcefile: syntax === 'esm' ? 'app.mjs' : 'app.cjs', loader: 'js' },
    bundle: true,
    platform: 'node',
    format,
    minify,
    outfile,
    logLevel: 'silent',
    ...(format === 'esm' ? { banner: { js: ESM_REQUIRE_BANNER } } : {}),
  });
  return { outfile, warnings: result.warnings.map((w) => w.text) };
}

interface Run {
  status: number;
  body: string;
  stderr: string;
}

function run(outfile: string): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '', PORTVAKT_TEST_APP: JSON.stringify({ environment: mp.sim.environment(), jwk: mp.key.privateJwk, upstream: upstream.origin }) };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [outfile], { cwd: path.dirname(outfile), env, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${outfile} failed: ${error.message}\n${stderr}`));
      const line = stdout.trim().split('\n').at(-1) ?? '';
      resolve({ ...(JSON.parse(line) as { status: number; body: string }), stderr });
    });
  });
}

let mp: Maskinporten;
let upstream: RecordingServer;

beforeAll(async () => {
  mp = await startMaskinporten();
  upstream = await startRecordingServer();
});
afterAll(async () => {
  await upstream.close();
  await mp.close();
  rmSync(tmp, { recursive: true, force: true });
});

const BUILDS = (['esm', 'cjs'] as const).flatMap((syntax) => (['esm', 'cjs'] as const).flatMap((format) => [false, true].map((minify) => ({ syntax, format, minify }))));
const named = (b: { syntax: string; format: string; minify: boolean }) => `${b.syntax} app, ${b.format} output${b.minify ? ', minified' : ''}`;

describe('an app that uses only maskinporten(), without http-proxy-middleware installed', () => {
  it.each(BUILDS.map((b) => [named(b), b] as const))('bundles with esbuild and no flags, and gets a token (%s)', async (name, { syntax, format, minify }) => {
    const dir = installApp(`middleware-${syntax}-${format}-${minify}`, false);
    const { outfile, warnings } = await bundle(dir, MIDDLEWARE_APP(syntax), syntax, format, minify);
    expect(warnings).toEqual([]);
    const tokens = mp.sim.tokenRequestCount();
    const seen = upstream.seen.length;
    const result = await run(outfile);
    expect(result.status, `${name}: ${result.body} ${result.stderr}`).toBe(200);
    expect(mp.sim.tokenRequestCount()).toBe(tokens + 1);
    expect(upstream.seen.slice(seen)).toEqual([expect.objectContaining({ url: '/from-middleware', authorization: expect.stringMatching(/^Bearer ey/) })]);
  });
});

// http-proxy-middleware is never bundled: it is loaded at run time, from beside the bundle.
const PROXY_BUILDS = [
  { syntax: 'esm', format: 'esm', minify: false },
  { syntax: 'esm', format: 'cjs', minify: true },
  { syntax: 'cjs', format: 'cjs', minify: false },
  { syntax: 'cjs', format: 'esm', minify: true },
] as const;

describe(`an app that uses maskinportenProxy() (http-proxy-middleware ${process.env.PORTVAKT_HPM ?? '?'})`, () => {
  it.each(PROXY_BUILDS.map((b) => [named(b), b] as const))('bundles with no flags and proxies with a token when it is installed beside the bundle (%s)', async (name, { syntax, format, minify }) => {
    const dir = installApp(`proxy-${syntax}-${format}-${minify}`, true);
    const { outfile, warnings } = await bundle(dir, PROXY_APP(syntax), syntax, format, minify);
    expect(warnings).toEqual([]);
    const seen = upstream.seen.length;
    const result = await run(outfile);
    expect(result.status, `${name}: ${result.body} ${result.stderr}`).toBe(200);
    expect(upstream.seen.slice(seen)).toEqual([expect.objectContaining({ url: '/from-proxy', authorization: expect.stringMatching(/^Bearer ey/) })]);
  });

  // Once never installed, once installed when bundling and gone when the bundle runs: it is not in the bundle.
  it.each(PROXY_BUILDS.filter((b) => !b.minify).map((b, i) => [`${named(b)}${i === 1 ? ', installed only when bundling' : ''}`, b, i === 1] as const))('answers 500 proxy_unavailable and says to install it when it is not there at run time (%s)', async (_name, { syntax, format, minify }, installedWhenBundling) => {
    const dir = installApp(`proxy-missing-${syntax}-${format}-${minify}`, installedWhenBundling);
    const { outfile, warnings } = await bundle(dir, PROXY_APP(syntax), syntax, format, minify);
    expect(warnings).toEqual([]);
    if (installedWhenBundling) rmSync(path.join(dir, 'node_modules', 'http-proxy-middleware'));
    const seen = upstream.seen.length;
    const tokens = mp.sim.tokenRequestCount();
    const result = await run(outfile);
    expect(result.status).toBe(500);
    expect(JSON.parse(result.body)).toMatchObject({ status: 500, code: 'proxy_unavailable' });
    expect(result.stderr).toContain('npm i http-proxy-middleware');
    expect(result.stderr).toContain('installed where the bundle runs');
    expect(upstream.seen.length).toBe(seen);
    expect(mp.sim.tokenRequestCount()).toBe(tokens);
  });
});
