import { definePackageConfig } from '../../vitest.shared.ts';

// Core holds the protocol logic every adapter relies on: its test run fails when coverage drops
// below these floors.
export default definePackageConfig({ coverage: { lines: 95, branches: 87, functions: 93, statements: 92 } });
