import type { ViteUserConfig } from 'vitest/config';
import { definePackageConfig } from '../../vitest.shared.ts';

// The suite runs once per supported ioredis major: 5 as installed, and 6 (RESP3 by default, new
// reconnect defaults) through the `ioredis6` devDependency (an npm alias), which replaces the
// module for the tests; the fleet's child processes pick it from PORTVAKT_IOREDIS.
// PORTVAKT_IOREDIS=5 or PORTVAKT_IOREDIS=6 runs one major only.
const selected = process.env.PORTVAKT_IOREDIS;
const majors = selected === '5' || selected === '6' ? [selected] : ['5', '6'];

// On 6 the refresh-ahead simulation is left out: it drives the store's timing logic on an
// injected clock for 45 s of simulated time with GET/SET/EVAL only, which redis.test.ts already
// runs on each major; it is the slowest file, and its outcome does not depend on the client.
const ONLY_ON_5 = ['test/refresh-ahead.test.ts'];

const shared = definePackageConfig();

const config: ViteUserConfig = {
  ...shared,
  test: {
    ...shared.test,
    projects: majors.map((major) => ({
      extends: true,
      resolve: major === '6' ? { alias: [{ find: /^ioredis$/, replacement: 'ioredis6' }] } : {},
      test: {
        name: `ioredis ${major}`,
        env: { PORTVAKT_IOREDIS: major },
        ...(major === '6' ? { exclude: ONLY_ON_5 } : {}),
      },
    })),
  },
};

export default config;
