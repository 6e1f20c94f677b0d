import type { ViteUserConfig } from 'vitest/config';
import { definePackageConfig } from '../../vitest.shared.ts';

// The suite runs once per supported http-proxy-middleware major: 3 as installed, and 4 through the
// `http-proxy-middleware4` devDependency (an npm alias), which replaces the module for the proxy.
// PORTVAKT_HPM=3 or PORTVAKT_HPM=4 runs one major only.
const selected = process.env.PORTVAKT_HPM;
const majors = selected === '3' || selected === '4' ? [selected] : ['3', '4'];

const shared = definePackageConfig();

const config: ViteUserConfig = {
  ...shared,
  test: {
    ...shared.test,
    projects: majors.map((major) => ({
      extends: true,
      resolve: major === '4' ? { alias: [{ find: /^http-proxy-middleware$/, replacement: 'http-proxy-middleware4' }] } : {},
      test: { name: `http-proxy-middleware ${major}`, env: { PORTVAKT_HPM: major } },
    })),
  },
};

export default config;
