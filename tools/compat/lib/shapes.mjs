// The app shapes. Each `app` shape is a template under tools/compat/apps/<template or name>/ that gets the
// listed tarballs (by package folder) on top of its own pinned dependencies, and then runs its
// own test command. `check` shapes look at the tarballs themselves.
//
// A shape that differs from its template only in versions says so instead of copying it:
//   pin: { package: 'x.y.z' }      replaces the version of a dependency the template already has;
//   compilerOptions: { ... }       is merged into the template's tsconfig.json;
//   add: ['package@x.y.z']         installs registry packages the template does not have;
//   env: { NAME: 'value' }         is set for the test command;
//   program: { 'index.ts': 'every-entry.ts' } copies programs/<file> into the app under that name,
//                                  so the TypeScript shapes share one program instead of six copies.

const ALL = ['core', 'verify', 'axios', 'express', 'nestjs', 'redis', 'testing'];
const ONE_PROGRAM = { 'index.ts': 'every-entry.ts' };
// The mixed shape compiles the same program twice, as CommonJS (.cts) and as an ES module (.mts).
const MIXED_PROGRAM = { 'index.cts': 'every-entry.ts', 'index.mts': 'every-entry.ts' };
const typecheck = (name, what, variation = {}) => ({ name, kind: 'app', packages: ALL, test: ['npm', 'test'], what, program: /mixed/.test(name) ? MIXED_PROGRAM : ONE_PROGRAM, ...variation });
const TS6 = { typescript: '6.0.3' };
const NEST12 = { '@nestjs/axios': '12.0.1', '@nestjs/common': '12.5.1', '@nestjs/core': '12.5.1', '@nestjs/terminus': '12.1.0' };

export const SHAPES = [
  { name: 'tarball-contents', kind: 'check', what: 'each tarball holds only dist/, README, LICENSE and package.json' },
  { name: 'attw', kind: 'check', what: 'arethetypeswrong on each tarball, every resolution mode (node10, node16-cjs, node16-esm, bundler)' },
  {
    name: 'nest11-jest-cjs',
    kind: 'app',
    packages: ['core', 'axios', 'nestjs', 'testing'],
    test: ['npm', 'run', 'test:e2e'],
    what: '`nest new` for Nest 11: CommonJS, Jest + ts-jest as generated; e2e test through MaskinportenHttpModule',
  },
  {
    name: 'nest12',
    kind: 'app',
    packages: ['core', 'axios', 'nestjs', 'testing'],
    test: ['npm', 'run', 'test:e2e'],
    what: '`nest new` for Nest 12: ESM, Vitest as generated; the same e2e test',
  },
  {
    name: 'nest12-fastify',
    kind: 'app',
    template: 'nest12',
    packages: ['core', 'axios', 'nestjs', 'testing'],
    add: ['@nestjs/platform-fastify@12.5.0'],
    env: { COMPAT_NEST_PLATFORM: 'fastify' },
    test: ['npm', 'run', 'test:e2e'],
    what: 'nest12 on the Fastify platform (@nestjs/platform-fastify): the same e2e test',
  },
  { name: 'express5-esm', kind: 'app', packages: ['core', 'express', 'testing'], test: ['npm', 'test'], what: 'Express 5, ESM, http-proxy-middleware 4, node --test' },
  { name: 'express5-cjs', kind: 'app', packages: ['core', 'express', 'testing'], test: ['npm', 'test'], what: 'Express 5, CommonJS, http-proxy-middleware 3, node --test' },
  { name: 'express4-esm', kind: 'app', template: 'express5-esm', pin: { express: '4.22.3', 'http-proxy-middleware': '3.0.11' }, packages: ['core', 'express', 'testing'], test: ['npm', 'test'], what: 'Express 4, ESM, http-proxy-middleware 3, node --test' },
  { name: 'express4-cjs', kind: 'app', template: 'express5-cjs', pin: { express: '4.22.3' }, packages: ['core', 'express', 'testing'], test: ['npm', 'test'], what: 'Express 4, CommonJS, http-proxy-middleware 3, node --test' },
  { name: 'plain-cjs', kind: 'app', packages: ALL, test: ['npm', 'test'], what: 'a CommonJS script that requires every entry point and gets a token with core + axios' },
  {
    name: 'plain-cjs-no-require-esm',
    kind: 'app',
    template: 'plain-cjs',
    packages: ALL,
    test: ['node', '--no-experimental-require-module', 'index.js'],
    what: 'plain-cjs with require(esm) turned off, as in Jest and Node < 20.19: no CommonJS build may require an ES module',
  },
  {
    name: 'skyporten-no-sdk',
    kind: 'app',
    template: 'skyporten',
    packages: ['core', 'testing', 'skyporten'],
    env: { COMPAT_SKYPORTEN_SDKS: 'none' },
    test: ['npm', 'test'],
    what: '@portvakt/skyporten without any cloud SDK, from CommonJS and ESM: every entry loads; each cloud names the SDK to install',
  },
  {
    name: 'skyporten-sdks',
    kind: 'app',
    template: 'skyporten',
    packages: ['core', 'testing', 'skyporten'],
    add: ['@aws-sdk/client-sts@3.1178.0', 'google-auth-library@10.9.1', '@azure/identity@4.13.1'],
    env: { COMPAT_SKYPORTEN_SDKS: 'all' },
    test: ['npm', 'test'],
    what: '@portvakt/skyporten with the AWS, Google and Azure SDKs, from CommonJS and ESM: credentials from the local stand-ins',
  },
  {
    name: 'next16',
    kind: 'app',
    packages: ['core', 'testing'],
    test: ['npm', 'test'],
    what: 'Next.js 16 (App Router, Turbopack): next build with no MASKINPORTEN_* set, then next start; a route handler, a server component and a server action share one declared client (one token request)',
  },
  {
    name: 'bun',
    kind: 'app',
    packages: ['core', 'verify', 'testing'],
    program: { 'test/runtime-checks.ts': 'runtime-checks.ts' },
    test: ['npm', 'test'],
    what: 'Bun 1.4 (the bun package from the npm registry), bun test: the simulator, fromEnv(), the verifier, a declared client, createAuthorizedFetch with Bun\'s fetch',
  },
  {
    name: 'deno',
    kind: 'app',
    packages: ['core', 'verify', 'testing'],
    program: { 'test/runtime-checks.ts': 'runtime-checks.ts' },
    test: ['npm', 'test'],
    what: 'Deno 2.9 (the deno package from the npm registry), deno test (type-checked first) on node_modules: the same checks as bun',
  },
  typecheck('ts5-node10', 'TypeScript 5, module commonjs, moduleResolution node10, Nest 11'),
  typecheck('ts5-node16', 'TypeScript 5, module node16, a CommonJS package (no "type"), Nest 11'),
  typecheck('ts5-node16-esm', 'TypeScript 5, module node16, "type": "module", Nest 11'),
  typecheck('ts5-node16-mixed', 'TypeScript 5, module node16, a .cts and a .mts file in one program, Nest 11'),
  typecheck('ts5-bundler', 'TypeScript 5, module esnext, moduleResolution bundler, Nest 11'),
  typecheck('ts6-node10', 'TypeScript 6, module commonjs, moduleResolution node10 (ignoreDeprecations 6.0), Nest 11', { template: 'ts5-node10', pin: TS6, compilerOptions: { ignoreDeprecations: '6.0' } }),
  typecheck('ts6-node16', 'TypeScript 6, module node16, a CommonJS package (no "type"), Nest 11', { template: 'ts5-node16', pin: TS6 }),
  typecheck('ts6-node16-esm', 'TypeScript 6, module node16, "type": "module", Nest 12', { template: 'ts5-node16-esm', pin: { ...TS6, ...NEST12 } }),
  typecheck('ts6-node16-mixed', 'TypeScript 6, module node16, a .cts and a .mts file in one program, Nest 11', { template: 'ts5-node16-mixed', pin: TS6 }),
  typecheck('ts6-bundler', 'TypeScript 6, module esnext, moduleResolution bundler, Nest 12', { template: 'ts5-bundler', pin: { ...TS6, ...NEST12 } }),
];

// The lines that say best why a log failed, most telling first. The first pattern that matches
// any line wins, and within it the first such line.
const TELLING = [
  /Must use import to load ES Module/,
  /ERR_REQUIRE_ESM|ERR_REQUIRE_ASYNC_MODULE|ERR_PACKAGE_PATH_NOT_EXPORTED|ERR_MODULE_NOT_FOUND|ERR_UNSUPPORTED_DIR_IMPORT/,
  /error TS\d+:/,
  /Cannot find module|Cannot use import statement|Unexpected token 'export'|does not provide an export named/,
  /^\s*(?:\w*Error|AssertionError)\b.*:/,
  /\b(?:\w*Error)\b: /,
  /npm (?:ERR!|error) (?!A complete log|code )/,
  /^\s*not ok \d+/,
  /✖|\bFAIL\b/,
];

const strip = (s) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

/** The first relevant error line of a failed step's log, trimmed to one readable line. */
export function firstErrorLine(text) {
  const lines = strip(text)
    .split(/\r?\n/)
    .filter((l) => l.trim() && !l.startsWith('[compat]') && !l.startsWith('$ ('));
  for (const re of TELLING) {
    const hit = lines.find((l) => re.test(l));
    if (hit) return clip(hit.trim());
  }
  return clip((lines.at(-1) ?? 'no output').trim());
}

const clip = (s) => (s.length > 300 ? `${s.slice(0, 297)}...` : s);
