// The Vitest configuration every package shares.
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import type { ViteUserConfig } from 'vitest/config';

// Tests run against the TypeScript sources of workspace packages (the "@portvakt/source" export
// condition), so a test never needs a build of its dependencies first.
const conditions = ['@portvakt/source', ...defaultServerConditions];

export function definePackageConfig(extra: Pick<ViteUserConfig, 'oxc'> = {}): ViteUserConfig {
  return defineConfig({
    ...extra,
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      include: ['test/**/*.test.ts'],
      // The JSON report feeds the test count that `npm test` prints at the end (tools/scripts/test-summary.mjs).
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest/results.json' },
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  });
}
