// Error identity as a bundled app sees it: esbuild puts the ESM and the CommonJS build of core and
// of this package into one file when an app both imports and requires them, and a minifier
// renames every class. Names must stay the classes' own, and `instanceof` must give the same
// answer across the two copies as within one: 18 classes (the base and 17 errors) against 18, and
// the list is every error class the two packages export.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, '..');
const out = mkdtempSync(path.join(tmpdir(), 'portvakt-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// The app: one copy through `import` (ESM builds), one through `require` (CommonJS builds).
const APP = `
import * as coreEsm from '@portvakt/core';
import * as verifyEsm from '@portvakt/verify';
const coreCjs = require('@portvakt/core');
const verifyCjs = require('@portvakt/verify');
const make = (core, verify) => ({
  PortvaktError: null,
  ConfigurationError: () => new core.ConfigurationError('scope', 'is required.'),
  KeyError: () => new core.KeyError('bad key'),
  CertificateError: () => new core.CertificateError('expired', 'expired'),
  TokenEndpointError: () => new core.TokenEndpointError({ status: 400, error: 'invalid_grant' }),
  EndpointUnavailableError: () => new core.EndpointUnavailableError('down', { attempts: 3 }),
  TimeoutError: () => new core.TimeoutError('slow', 1000),
  AbortedError: () => new core.AbortedError(),
  MalformedResponseError: () => new core.MalformedResponseError('not json', 200),
  ClientClosedError: () => new core.ClientClosedError(),
  AltinnExchangeError: () => new core.AltinnExchangeError(403),
  MissingTokenError: () => new verify.MissingTokenError(),
  InvalidTokenError: () => new verify.InvalidTokenError('malformed', 'bad'),
  InsufficientScopeError: () => new verify.InsufficientScopeError(['a:b'], ['a:b']),
  OrganizationNotAllowedError: () => new verify.OrganizationNotAllowedError('consumer', 'no'),
  KeySetUnavailableError: () => new verify.KeySetUnavailableError('down'),
  RequirementNotMetError: () => new verify.RequirementNotMetError('pid', 'another person'),
  IntrospectionUnavailableError: () => new verify.IntrospectionUnavailableError('Texas is down'),
});
const classOf = (core, verify, name) => core[name] ?? verify[name];
const copies = { esm: [coreEsm, verifyEsm], cjs: [coreCjs, verifyCjs] };
const names = Object.keys(make(coreEsm, verifyEsm));
// Every error class the packages export, so a new class that is not in the list above fails the test.
const exported = [coreEsm, verifyEsm].flatMap((m) => Object.entries(m)).filter(([, v]) => typeof v === 'function' && (v === coreEsm.PortvaktError || v.prototype instanceof coreEsm.PortvaktError)).map(([k]) => k).sort();
const result = { distinctCopies: coreEsm.ConfigurationError !== coreCjs.ConfigurationError, exported, listed: [...names].sort(), errors: [], answers: [] };
for (const [from, [core, verify]] of Object.entries(copies)) {
  const factories = make(core, verify);
  for (const made of names) {
    const factory = factories[made];
    if (factory === null) continue;
    const error = factory();
    result.errors.push({ from, made, name: error.name, json: error.toJSON().name, code: error.code, classCode: classOf(core, verify, made).code, className: classOf(core, verify, made).name });
    for (const [to, [core2, verify2]] of Object.entries(copies)) {
      for (const tested of names) result.answers.push({ from, to, made, tested, answer: error instanceof classOf(core2, verify2, tested) });
    }
  }
}
console.log(JSON.stringify(result));
`;

async function bundleAndRun(minify: boolean): Promise<{ distinctCopies: boolean; exported: string[]; listed: string[]; errors: Record<string, unknown>[]; answers: { from: string; to: string; made: string; tested: string; answer: boolean }[] }> {
  const outfile = path.join(out, minify ? 'app.min.cjs' : 'app.cjs');
  await build({ stdin: { contents: APP, resolveDir: packageDir, sourcefile: 'app.mjs', loader: 'js' }, bundle: true, platform: 'node', format: 'cjs', minify, outfile, logLevel: 'silent' });
  return JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8' })) as never;
}

describe.each([false, true])('an esbuild bundle with both copies (minify: %s)', (minify) => {
  it('keeps every class name and code, and answers instanceof across copies as within one', async () => {
    const result = await bundleAndRun(minify);
    expect(result.distinctCopies).toBe(true);
    expect(result.exported).toEqual(result.listed);
    expect(result.errors).toHaveLength(2 * 17);
    for (const error of result.errors) {
      expect(error.name).toBe(error.made);
      expect(error.json).toBe(error.made);
      expect(error.className).toBe(error.made);
      expect(error.code).toBe(error.classCode);
    }
    expect(result.answers).toHaveLength(2 * 17 * 2 * 18);
    const wrong = result.answers.filter((a) => a.answer !== (a.tested === 'PortvaktError' || a.tested === a.made));
    expect(wrong).toEqual([]);
  });
});

describe('no error can carry a code that is not its class\'s', () => {
  it('the abstract base refuses to be constructed, and every class owns its code', async () => {
    const core = await import('@portvakt/core');
    const verify = await import('@portvakt/verify');
    const Base = core.PortvaktError as unknown as new (message: string) => Error;
    expect(() => new Base('x')).toThrow(TypeError);
    // A subclass without a code of its own is refused too, so no class can borrow another's.
    class Unowned extends (core.PortvaktError as unknown as new (message: string) => Error) {}
    expect(() => new Unowned('x')).toThrow(TypeError);
    const error = new verify.InvalidTokenError('expired', 'x');
    expect(error.code).toBe(verify.InvalidTokenError.code);
    expect(Object.getOwnPropertyDescriptor(error, 'code')?.value).toBe('ERR_PORTVAKT_INVALID_TOKEN');
    expect(new core.ConfigurationError('scope', 'x').toJSON()).toMatchObject({ name: 'ConfigurationError', code: 'ERR_PORTVAKT_CONFIGURATION', field: 'scope' });
  });
});
