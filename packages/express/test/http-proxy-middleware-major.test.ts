// The suite runs once per supported http-proxy-middleware major (see vitest.config.ts): make sure
// each project really runs the proxy on the major it names.
import * as selected from 'http-proxy-middleware';
import * as major4 from 'http-proxy-middleware4';
import { expect, it } from 'vitest';

it(`runs on http-proxy-middleware ${process.env.PORTVAKT_HPM ?? '?'}`, () => {
  expect(['3', '4']).toContain(process.env.PORTVAKT_HPM);
  expect((selected.createProxyMiddleware as unknown) === major4.createProxyMiddleware).toBe(process.env.PORTVAKT_HPM === '4');
});
