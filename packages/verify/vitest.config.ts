import { definePackageConfig } from '../../vitest.shared.ts';

// The verifier is what stands between an API and a forged token: its test run fails when coverage
// drops below these floors.
export default definePackageConfig({ coverage: { lines: 95, branches: 88, functions: 95, statements: 92 } });
