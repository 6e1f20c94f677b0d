// http-proxy-middleware is an optional peer: the middleware must load and work without it, and
// maskinportenProxy() must say how to fix a missing install instead of failing the whole import.
// Here the module stands in for "not installed": importing it fails, and the tests count imports.
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { startMaskinporten, startRecordingServer } from './support.js';
import type { Maskinporten, RecordingServer } from './support.js';

const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock('http-proxy-middleware', () => {
  imports.count += 1;
  throw new Error("Cannot find package 'http-proxy-middleware'");
});

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
  vi.restoreAllMocks();
});

describe('without http-proxy-middleware installed', () => {
  it('the package imports and the middleware works, without loading http-proxy-middleware', async () => {
    const { maskinporten } = await import('@portvakt/express');
    const app = express();
    app.use(maskinporten({ client, origins: [upstream.origin] }));
    app.get('/call', async (req, res, next) => {
      try {
        res.status((await req.maskinporten!.fetch(`${upstream.origin}/x`)).status).end();
      } catch (err) {
        next(err);
      }
    });
    await request(app).get('/call').expect(200);
    expect(upstream.seen[0]?.authorization).toMatch(/^Bearer ey/);
    expect(imports.count).toBe(0);
  });

  it('maskinportenProxy() loads it when created, and answers with a 500 problem and one log line saying to install it', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { maskinportenProxy } = await import('@portvakt/express');
    expect(imports.count).toBe(0);
    const app = express();
    app.use(maskinportenProxy({ target: upstream.origin, client }));
    const seenBefore = upstream.seen.length;
    const tokensBefore = mp.sim.tokenRequestCount();
    for (const path of ['/a', '/b']) {
      const res = await request(app).get(path).expect(500);
      expect(res.body).toEqual({ type: 'about:blank', title: expect.any(String), detail: expect.any(String), status: 500, code: 'proxy_unavailable' });
    }
    expect(imports.count).toBeGreaterThan(0);
    expect(upstream.seen.length).toBe(seenBefore);
    expect(mp.sim.tokenRequestCount()).toBe(tokensBefore);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]?.[0])).toContain('npm i http-proxy-middleware');
  });
});
