import { definePackageConfig } from '../../vitest.shared.ts';

// Nest uses TypeScript's legacy (experimental) decorators, parameter decorators included.
const config = definePackageConfig({ oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } } });
// vitest.nest11.config.ts runs the same suite on Nest 11.
export default { ...config, test: { ...config.test, env: { PORTVAKT_NEST_MAJOR: '12' } } };
