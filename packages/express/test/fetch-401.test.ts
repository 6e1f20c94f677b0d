// req.maskinporten.fetch against an API that always answers 401: each call settles after at most
// two sends and one new token, and a redirect to a foreign origin that answers 401 gets no token.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { maskinporten } from '@portvakt/express';
import { EXPRESS_VERSIONS, startMaskinporten, startRecordingServer } from './support.js';
import type { Maskinporten, RecordingServer } from './support.js';

let mp: Maskinporten;
let api: RecordingServer;
let foreign: RecordingServer;

beforeAll(async () => {
  mp = await startMaskinporten();
  foreign = await startRecordingServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
  });
  api = await startRecordingServer((req, res) => {
    if (req.url === '/moved') return void res.writeHead(302, { location: `${foreign.origin}/landing` }).end();
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
  });
});
afterAll(async () => {
  await Promise.all([api.close(), foreign.close()]);
  await mp.close();
});
afterEach(() => {
  api.seen.length = 0;
  foreign.seen.length = 0;
});

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  const appFor = () => {
    const app = express();
    app.use(maskinporten({ client: mp.newClient(), origins: [api.origin] }));
    app.get('/prime', async (req, res) => {
      await req.maskinporten!.getToken();
      res.sendStatus(204);
    });
    app.get('/call/:path', async (req, res, next) => {
      try {
        const upstream = await req.maskinporten!.fetch(`${api.origin}/${String(req.params.path)}`);
        res.status(upstream.status).end();
      } catch (err) {
        next(err);
      }
    });
    return app;
  };

  it('a persistent 401 settles each call after two sends and one new token', async () => {
    const app = appFor();
    await request(app).get('/prime').expect(204);
    for (let call = 0; call < 3; call++) {
      const tokensBefore = mp.sim.tokenRequestCount();
      api.seen.length = 0;
      await request(app).get('/call/always-401').expect(401);
      expect(api.seen).toHaveLength(2);
      expect(mp.sim.tokenRequestCount() - tokensBefore).toBeLessThanOrEqual(1);
      expect(api.seen.every((s) => s.authorization?.startsWith('Bearer ey'))).toBe(true);
      expect(api.seen[1]?.authorization).not.toBe(api.seen[0]?.authorization);
    }
  });

  it('concurrent calls against a persistent 401 share new tokens: at most one new token per call', async () => {
    const app = appFor();
    await request(app).get('/prime').expect(204);
    const tokensBefore = mp.sim.tokenRequestCount();
    await Promise.all(Array.from({ length: 6 }, () => request(app).get('/call/always-401').expect(401)));
    expect(api.seen).toHaveLength(12);
    expect(mp.sim.tokenRequestCount() - tokensBefore).toBeLessThanOrEqual(6);
    expect(api.seen.every((s) => s.authorization?.startsWith('Bearer ey'))).toBe(true);
  });

  it('a 401 from a foreign origin after a redirect settles at once, and the foreign origin sees no token', async () => {
    const app = appFor();
    await request(app).get('/prime').expect(204);
    for (let call = 0; call < 3; call++) {
      const tokensBefore = mp.sim.tokenRequestCount();
      api.seen.length = 0;
      foreign.seen.length = 0;
      await request(app).get('/call/moved').expect(401);
      expect(api.seen.length).toBeLessThanOrEqual(2);
      expect(foreign.seen.length).toBeGreaterThanOrEqual(1);
      expect(foreign.seen.length).toBeLessThanOrEqual(2);
      expect(foreign.seen.map((s) => s.authorization)).toEqual(foreign.seen.map(() => undefined));
      expect(mp.sim.tokenRequestCount() - tokensBefore).toBeLessThanOrEqual(1);
    }
  });
});
