// requireMaskinportenToken() with NAIS Texas' introspection verifier, on real Express 4 and 5 apps
// against the simulator's Texas on 127.0.0.1: a valid token 200, an inactive one 401 invalid_token,
// a wrong scope 403 insufficient_scope, and 1,000 concurrent requests with one token making 1
// introspection.
import type { Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMaskinportenToken } from '@portvakt/express/verify';
import { getWith, INACTIVE, startTexasWorld, TEXAS_CUSTOMER, WRONG_SCOPE } from '../../verify/test/texas-support.js';
import type { TexasWorld } from '../../verify/test/texas-support.js';
import { EXPRESS_VERSIONS, listen } from './support.js';

let world: TexasWorld;
beforeAll(async () => {
  world = await startTexasWorld();
});
afterAll(() => world.close());

describe.each(EXPRESS_VERSIONS)('%s with the Texas introspection verifier', (_name, express) => {
  let server: { port: number; close(): Promise<void> };
  let origin: string;
  beforeAll(async () => {
    const app = express();
    const handler = (req: Request, res: Response) => res.json({ consumer: req.maskinportenToken?.consumerOrg });
    app.get('/read', requireMaskinportenToken({ verifier: world.verifier }), handler);
    app.get('/write', requireMaskinportenToken({ verifier: world.verifier, scope: 'nav:write' }), handler);
    server = await listen(app);
    origin = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.close());

  it('a valid token: 200 with its claims', async () => {
    const res = await fetch(`${origin}/read`, { headers: { authorization: `Bearer ${await world.token()}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ consumer: TEXAS_CUSTOMER });
  });

  it('an inactive token: 401 invalid_token', async () => {
    expect(await getWith(`${origin}/read`, await world.foreignToken())).toEqual(INACTIVE);
  });

  it('a wrong scope: 403 insufficient_scope', async () => {
    expect(await getWith(`${origin}/write`, await world.token('nav:read'))).toEqual(WRONG_SCOPE);
  });

  // Once per run (Express 5, the first http-proxy-middleware project): 1,000 connections take seconds.
  it.skipIf(_name !== 'Express 5' || process.env.PORTVAKT_HPM === '4')('1,000 concurrent requests with one token: 1 introspection', async () => {
    const token = await world.token();
    const before = world.introspections();
    const statuses = await Promise.all(Array.from({ length: 1000 }, async () => (await fetch(`${origin}/read`, { headers: { authorization: `Bearer ${token}` } })).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(world.introspections()).toBe(before + 1);
  });
});
