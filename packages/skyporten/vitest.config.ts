import { definePackageConfig } from '../../vitest.shared.ts';

// The AWS SDK's "module" builds (dist-es) import files without extensions, which only bundlers
// resolve; Node loads its CommonJS or "node" builds. So these tests resolve without "module".
const conditions = ['@portvakt/source', 'node', 'development|production'];
const config = definePackageConfig();

export default { ...config, resolve: { ...config.resolve, conditions }, ssr: { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions } } };
