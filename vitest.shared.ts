// The Vitest configuration every package shares.
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import type { ViteUserConfig } from 'vitest/config';

// Tests run against the TypeScript sources of workspace packages (the "@portvakt/source" export
// condition), so a test never needs a build of its dependencies first.
const conditions = ['@portvakt/source', ...defaultServerConditions];

/** Coverage floors a package's test run must meet (set a little under what its suite reaches, so a real loss shows). */
export interface CoverageFloors {
  lines: number;
  branches: number;
  functions: number;
  statements: number;
}

export function definePackageConfig(extra: Pick<ViteUserConfig, 'oxc'> & { coverage?: CoverageFloors } = {}): ViteUserConfig {
  const { coverage, ...rest } = extra;
  return defineConfig({
    ...rest,
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      include: ['test/**/*.test.ts'],
      // The JSON report feeds the test count that `npm test` prints at the end (tools/scripts/test-summary.mjs).
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest/results.json' },
      testTimeout: 30_000,
      hookTimeout: 30_000,
      ...(coverage === undefined
        ? {}
        : { coverage: { enabled: true, provider: 'v8' as const, include: ['src/**/*.ts'], reporter: ['text-summary'], reportsDirectory: '.vitest/coverage', thresholds: coverage } }),
    },
  });
}
