#!/usr/bin/env node
// Run by each package's build after `tsc -p tsconfig.cjs.json`: marks dist/cjs as CommonJS, so
// Node and TypeScript read its .js and .d.ts files as CommonJS inside a "type": "module" package.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

writeFileSync(path.join(process.cwd(), 'dist/cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
