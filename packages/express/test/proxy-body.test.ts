// A body parser in front of the proxy has read the body the proxy would stream: answer at once with
// a problem and say how to fix the app, instead of leaving the upstream waiting for the body.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { maskinportenProxy } from '@portvakt/express';
import type { MaskinportenErrorHook } from '@portvakt/express';
import { EXPRESS_VERSIONS, startMaskinporten, startRecordingServer } from './support.js';
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
  vi.restoreAllMocks();
});

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  const appWithParsersFirst = (onError?: MaskinportenErrorHook) => {
    const app = express();
    app.use(express.json());
    app.use(express.urlencoded({ extended: false }));
    app.use('/api', maskinportenProxy({ target: upstream.origin, client, ...(onError ? { onError } : {}) }));
    return app;
  };

  it('answers a read body with a 500 problem at once and logs one line saying to mount the proxy first', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const app = appWithParsersFirst();
    const tokensBefore = mp.sim.tokenRequestCount();
    const json = await request(app).post('/api/items').send({ orgno: '910753614' }).expect(500);
    const form = await request(app).post('/api/items').type('form').send('a=1').expect(500);
    for (const res of [json, form]) {
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toEqual({ type: 'about:blank', title: expect.any(String), detail: expect.any(String), status: 500, code: 'body_already_read' });
    }
    expect(upstream.seen).toEqual([]);
    expect(mp.sim.tokenRequestCount()).toBe(tokensBefore);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/mount the proxy before express\.json\(\)/);
  });

  it('gives the mistake to onError on every such request instead of console.error', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const received: Error[] = [];
    const app = appWithParsersFirst((error) => void received.push(error));
    await request(app).post('/api/items').send({ a: 1 }).expect(500);
    await request(app).post('/api/items').send({ a: 2 }).expect(500);
    expect(received.map((e) => (e as Error & { code: string }).code)).toEqual(['ERR_PORTVAKT_CONFIGURATION', 'ERR_PORTVAKT_CONFIGURATION']);
    expect(received[0]?.message).toMatch(/before express\.json\(\)/);
    expect(logged).not.toHaveBeenCalled();
  });

  it('still forwards requests the parsers left alone: no body, or a type they do not parse', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const app = appWithParsersFirst();
    await request(app).get('/api/items?x=1').expect(200);
    await request(app).post('/api/upload').set('content-type', 'application/octet-stream').send(Buffer.from('raw bytes')).expect(200);
    expect(upstream.seen.map((s) => [s.method, s.url, s.body])).toEqual([['GET', '/items?x=1', ''], ['POST', '/upload', 'raw bytes']]);
    expect(upstream.seen.every((s) => s.authorization?.startsWith('Bearer ey'))).toBe(true);
    expect(logged).not.toHaveBeenCalled();
  });
});
