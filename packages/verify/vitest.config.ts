import { definePackageConfig } from '../../vitest.shared.ts';

const config = definePackageConfig();
// The verifier is what stands between an API and a forged token: its test run fails when coverage
// drops below these floors (set a little under what the suite reaches, so a real loss shows).
export default {
  ...config,
  test: {
    ...config.test,
    coverage: {
      enabled: true,
      provider: 'v8' as const,
      include: ['src/**/*.ts'],
      reporter: ['text-summary'],
      reportsDirectory: '.vitest/coverage',
      thresholds: { lines: 95, branches: 87, functions: 93, statements: 92 },
    },
  },
};
