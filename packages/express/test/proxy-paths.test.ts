// The proxy forwards only normalised paths under its mount (security: no path escape upstream).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { maskinportenProxy } from '@portvakt/express';
import { EXPRESS_VERSIONS, listen, rawRequest, startMaskinporten, startRecordingServer } from './support.js';
import type { Maskinporten, RecordingServer } from './support.js';

let mp: Maskinporten;
let client: MaskinportenClient;
let upstream: RecordingServer;

beforeAll(async () => {
  mp = await startMaskinporten();
  client = mp.newClient();
  upstream = await startRecordingServer();
});
afterAll(async () => {
  await upstream.close();
  await mp.close();
});
afterEach(() => {
  upstream.seen.length = 0;
});

// Each would reach something other than /public/... on an upstream (or a server in front of it)
// that normalises dot segments, decodes them, or reads a backslash as a slash.
const ESCAPES = [
  'GET http://gw/skatt/admin HTTP/1.1',
  'GET /skatt/../admin HTTP/1.1',
  'GET /skatt/x/../../admin HTTP/1.1',
  'GET /skatt/./admin HTTP/1.1',
  'GET /skatt/x/.. HTTP/1.1',
  'GET /skatt/%2e%2e/admin HTTP/1.1',
  'GET /skatt/%2E%2e/admin HTTP/1.1',
  'GET /skatt/.%2e/admin HTTP/1.1',
  'GET /skatt/%2e/admin HTTP/1.1',
  'GET /skatt/..\\admin HTTP/1.1',
  'GET /skatt/..%5cadmin HTTP/1.1',
  'GET /skatt/%2e%2e%5Cadmin HTTP/1.1',
  'GET /skatt/..%2fadmin HTTP/1.1',
  'GET /skatt/x%2f..%2f..%2fadmin HTTP/1.1',
  'GET /skatt/%252e%252e/admin HTTP/1.1',
  'GET /skatt/..;/admin HTTP/1.1',
  'POST /skatt/../admin?x=1 HTTP/1.1',
];

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  const start = () => {
    const app = express();
    app.use('/skatt', maskinportenProxy({ target: `${upstream.origin}/public`, client }));
    return listen(app);
  };

  it.each(ESCAPES)('refuses %s with a 400 problem, before any token or upstream call', async (requestLine) => {
    const server = await start();
    const tokensBefore = mp.sim.tokenRequestCount();
    const res = await rawRequest(server.port, requestLine, requestLine.startsWith('POST') ? { 'content-length': '0' } : {});
    await server.close();
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.body)).toEqual({ type: 'about:blank', title: expect.any(String), detail: expect.any(String), status: 400, code: 'invalid_path' });
    expect(upstream.seen).toEqual([]);
    expect(mp.sim.tokenRequestCount()).toBe(tokensBefore);
  });

  it('forwards normalised paths, including dots inside names and encoded slashes that make no dot segment', async () => {
    const server = await start();
    const paths = ['/skatt/v1/items', '/skatt/a..b/c.d/...', '/skatt/id%2fwith%2fslash', '/skatt/q?path=../x&y=%2e%2e', '/skatt/100%25', '/skatt/%C3%A6%C3%B8'];
    for (const path of paths) {
      const res = await rawRequest(server.port, `GET ${path} HTTP/1.1`);
      expect(res.status, path).toBe(200);
    }
    await server.close();
    expect(upstream.seen.map((s) => s.url)).toEqual(paths.map((p) => `/public${p.slice('/skatt'.length)}`));
    expect(upstream.seen.every((s) => s.authorization?.startsWith('Bearer ey'))).toBe(true);
  });
});
