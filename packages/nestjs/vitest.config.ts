import { definePackageConfig } from '../../vitest.shared.ts';

// Nest uses TypeScript's legacy (experimental) decorators, parameter decorators included.
export default definePackageConfig({ oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } } });
