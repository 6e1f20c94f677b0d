// The plugin with NAIS Texas' introspection verifier, on a real Fastify 5 app against the
// simulator's Texas on 127.0.0.1: a valid token 200, an inactive one 401 invalid_token, a wrong
// scope 403 insufficient_scope, and 1,000 concurrent requests with one token making 1 introspection.
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskinportenFastify } from '@portvakt/fastify';
import { getWith, INACTIVE, startTexasWorld, TEXAS_CUSTOMER, WRONG_SCOPE } from '../../verify/test/texas-support.js';
import type { TexasWorld } from '../../verify/test/texas-support.js';

let world: TexasWorld;
let app: FastifyInstance;
let origin: string;
beforeAll(async () => {
  world = await startTexasWorld();
  app = Fastify();
  await app.register(maskinportenFastify, { verifier: world.verifier });
  const handler = async (request: FastifyRequest) => ({ consumer: request.maskinportenToken?.consumerOrg });
  app.get('/read', handler);
  app.get('/write', { config: { maskinporten: { scope: 'nav:write' } } }, handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app.close();
  await world.close();
});

describe('the plugin with the Texas introspection verifier', () => {
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

  it('1,000 concurrent requests with one token: 1 introspection', async () => {
    const token = await world.token();
    const before = world.introspections();
    const statuses = await Promise.all(Array.from({ length: 1000 }, async () => (await fetch(`${origin}/read`, { headers: { authorization: `Bearer ${token}` } })).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(world.introspections()).toBe(before + 1);
  });
});
