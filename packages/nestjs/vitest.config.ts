import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of workspace packages (the "@portvakt/source" export
// condition), so a test never needs a build of its dependencies first.
const conditions = ['@portvakt/source', ...defaultServerConditions];

export default defineConfig({
  // Nest uses TypeScript's legacy (experimental) decorators, parameter decorators included.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
