// The same test suite on Nest 11: every @nestjs/* import (ours, the tests' and Nest's own, since
// Nest 11's packages resolve each other from where tools/nest11 installed them) goes to Nest 11.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePackageConfig } from '../../vitest.shared.ts';

const nest11 = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tools/nest11/node_modules');
const packages = ['axios', 'common', 'config', 'core', 'platform-express', 'platform-fastify', 'terminus', 'testing'];
const alias = packages.map((name) => ({ find: new RegExp(`^@nestjs/${name}(?=/|$)`), replacement: realpathSync(path.join(nest11, '@nestjs', name)) }));

const config = definePackageConfig({ oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } } });
export default {
  ...config,
  resolve: { ...config.resolve, alias },
  test: { ...config.test, env: { PORTVAKT_NEST_MAJOR: '11' }, outputFile: { json: '.vitest/results-nest11.json' } },
};
