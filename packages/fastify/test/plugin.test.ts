// The plugin on a real Fastify 5 app listening on 127.0.0.1: the answers of the shared table (the
// same the Express middleware and the Nest guard give), requirements at the plugin, an encapsulated
// context and a route, global: false, open routes, nothing refused remembered, and options refused
// at registration.
import { inspect } from 'node:util';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import { createMaskinportenVerifier } from '@portvakt/verify';
import type { MaskinportenVerifier } from '@portvakt/verify';
import { maskinportenFastify } from '@portvakt/fastify';
import { CASES, CUSTOMER, environment, expectedAnswer, factory, okBody, REMEMBERED_AFTER_CASES, ROUTES, send } from '../../verify/test/http-cases.js';

const handler = async (request: FastifyRequest) => okBody(request.maskinportenToken);
const remembered = (verifier: MaskinportenVerifier): number => Number(/remembered tokens: (\d+)/.exec(inspect(verifier))?.[1]);

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

describe('the shared table of answers, on routes with config.maskinporten', () => {
  const verifier = createMaskinportenVerifier({ environment });
  const refusals: Error[] = [];
  let app: FastifyInstance;
  let origin: string;
  beforeAll(async () => {
    app = Fastify();
    await app.register(maskinportenFastify, { verifier, onError: (error) => refusals.push(error) });
    for (const [path, requirements] of Object.entries(ROUTES)) app.get(path, { config: { maskinporten: requirements } }, handler);
    origin = await listen(app);
  });
  afterAll(() => app.close());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const answer = await send(origin, c);
    expect(answer).toEqual(expectedAnswer(c));
  });

  it('remembers only the accepted tokens, and reported every refusal to onError', async () => {
    for (const c of CASES) await send(origin, c);
    expect(remembered(verifier)).toBe(2 * REMEMBERED_AFTER_CASES); // each run of the table mints new tokens
    expect(refusals.length).toBe(2 * CASES.filter((c) => c.status !== 200).length);
    expect(refusals.every((e) => /^ERR_PORTVAKT_/.test((e as { code?: string }).code ?? ''))).toBe(true);
  });

  it('answers problem+json with no-store, and puts nothing of the token in it', async () => {
    const token = await factory.mint({ scope: 'nav:read' });
    const res = await fetch(`${origin}/scope`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).not.toContain(token.slice(0, 30));
  });
});

describe('requirements at the plugin, an encapsulated context and a route', () => {
  let verifyCalls = 0;
  const real = createMaskinportenVerifier({ environment });
  // Counts the verify() calls that reach the verifier: a route under a router verifies once.
  const counting: MaskinportenVerifier = {
    get issuer() {
      return real.issuer;
    },
    verify: (token, requirements) => {
      verifyCalls += 1;
      return real.verify(token, requirements);
    },
    recall: () => undefined,
    checkRequirements: (claims, requirements) => real.checkRequirements(claims, requirements),
    ready: () => real.ready(),
  };
  let app: FastifyInstance;
  let origin: string;
  const errors: unknown[] = [];
  beforeAll(async () => {
    app = Fastify();
    app.setErrorHandler((error, _request, reply: FastifyReply) => {
      errors.push(error);
      return reply.code(500).send({ error: 'internal' });
    });
    await app.register(maskinportenFastify, { verifier: counting, scope: 'nav:read', consumers: [CUSTOMER] });
    app.get('/read', handler);
    app.get('/health', { config: { maskinporten: false } }, async () => ({ ok: true }));
    app.get('/throws', { config: { maskinporten: { organizationPolicy: () => { throw new Error('registry down'); } } } }, handler);
    await app.register(
      async (router) => {
        router.addHook('onRequest', router.requireMaskinportenToken({ scope: 'nav:write' }));
        router.get('/write', handler);
        router.get('/admin', { onRequest: router.requireMaskinportenToken({ scope: 'nav:admin' }) }, handler);
      },
      { prefix: '/cases' },
    );
    origin = await listen(app);
  });
  afterAll(() => app.close());

  const call = async (path: string, scope?: string, consumer = CUSTOMER) => {
    const headers: Record<string, string> = scope === undefined ? {} : { authorization: `Bearer ${await factory.mint({ scope, consumerOrgno: consumer })}` };
    const res = await fetch(`${origin}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('the plugin\'s requirements apply to every route; config.maskinporten: false opens one', async () => {
    expect(await call('/read', 'nav:read')).toMatchObject({ status: 200, body: { consumer: CUSTOMER } });
    expect(await call('/read', 'nav:other')).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    expect(await call('/read', 'nav:read', '974761076')).toMatchObject({ status: 403, body: { code: 'organization_not_allowed' } });
    expect(await call('/health')).toMatchObject({ status: 200, body: { ok: true } });
    expect(await call('/nowhere')).toMatchObject({ status: 401, body: { code: 'token_missing' } });
  });

  it('a context\'s hook and a route\'s hook add their requirements, and the token is verified once', async () => {
    verifyCalls = 0;
    expect(await call('/cases/write', 'nav:read nav:write')).toMatchObject({ status: 200 });
    expect(verifyCalls).toBe(1);
    expect(await call('/cases/write', 'nav:read')).toMatchObject({ status: 403, body: { code: 'insufficient_scope', detail: expect.stringContaining('nav:write') } });
    expect(await call('/cases/admin', 'nav:read nav:write')).toMatchObject({ status: 403 });
    verifyCalls = 0;
    expect(await call('/cases/admin', 'nav:read nav:write nav:admin')).toMatchObject({ status: 200 });
    expect(verifyCalls).toBe(1);
  });

  it('an organisation policy that throws goes to Fastify\'s error handler (500), not a refusal', async () => {
    expect(await call('/throws', 'nav:read')).toMatchObject({ status: 500 });
    expect(errors.at(-1)).toMatchObject({ message: 'registry down' });
  });
});

describe('route configs as callers write them', () => {
  it('a frozen config, and one config object shared by two routes, work as written', async () => {
    const app = Fastify();
    await app.register(maskinportenFastify, { verifier: createMaskinportenVerifier({ environment }) });
    const shared = Object.freeze({ maskinporten: Object.freeze({ scope: 'nav:write' }) });
    app.get('/a', { config: shared }, handler);
    app.get('/b', { config: shared }, handler);
    const origin = await listen(app);
    try {
      const write = { authorization: `Bearer ${await factory.mint({ scope: 'nav:write' })}` };
      const read = { authorization: `Bearer ${await factory.mint({ scope: 'nav:read' })}` };
      for (const path of ['/a', '/b']) {
        expect((await fetch(`${origin}${path}`, { headers: write })).status).toBe(200);
        expect((await fetch(`${origin}${path}`, { headers: read })).status).toBe(403);
      }
      expect(Object.getOwnPropertySymbols(shared)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('global: false', () => {
  let app: FastifyInstance;
  let origin: string;
  beforeAll(async () => {
    app = Fastify();
    await app.register(maskinportenFastify, { verifier: createMaskinportenVerifier({ environment }), global: false, scope: 'nav:read' });
    app.get('/open', async () => ({ open: true }));
    app.get('/guarded', { config: { maskinporten: true } }, handler);
    app.get('/hooked', { preHandler: app.requireMaskinportenToken() }, handler);
    origin = await listen(app);
  });
  afterAll(() => app.close());

  it('guards only the routes that ask, with the plugin\'s requirements', async () => {
    expect((await fetch(`${origin}/open`)).status).toBe(200);
    expect((await fetch(`${origin}/guarded`)).status).toBe(401);
    expect((await fetch(`${origin}/hooked`)).status).toBe(401);
    const ok = { authorization: `Bearer ${await factory.mint({ scope: 'nav:read' })}` };
    expect((await fetch(`${origin}/guarded`, { headers: ok })).status).toBe(200);
    expect((await fetch(`${origin}/hooked`, { headers: ok })).status).toBe(200);
    const wrong = { authorization: `Bearer ${await factory.mint({ scope: 'nav:other' })}` };
    expect((await fetch(`${origin}/hooked`, { headers: wrong })).status).toBe(403);
  });
});

describe('options', () => {
  const verifier = createMaskinportenVerifier({ environment });
  const registration = async (options: Record<string, unknown>, routes?: (app: FastifyInstance) => void) => {
    const app = Fastify();
    try {
      await app.register(maskinportenFastify, options as never);
      routes?.(app);
      await app.ready();
      return undefined;
    } catch (error) {
      return error as Error & { field?: string };
    } finally {
      await app.close();
    }
  };

  it.each([
    [{}, 'verifier'],
    [{ verifier: {} }, 'verifier'],
    [{ verifier, scopes: 'nav:read' }, 'scopes'],
    [{ verifier, global: 'yes' }, 'global'],
    [{ verifier, onError: 'log' }, 'onError'],
    [{ verifier, pid: 'someone' }, 'pid'],
    [{ verifier, consumers: ['0192:910753614'] }, 'consumers'],
    [{ verifier, organizationPolicy: true }, 'organizationPolicy'],
  ])('refuses %j at registration, naming %s', async (options, field) => {
    const error = await registration(options);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.field).toBe(field);
  });

  it('refuses a route\'s bad config.maskinporten when the route is added, and a hook\'s bad requirements when it is made', async () => {
    const error = await registration({ verifier }, (app) => app.get('/x', { config: { maskinporten: { scopes: 'a' } as never } }, handler));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.field).toBe('GET /x config.maskinporten.scopes');
    const app = Fastify();
    await app.register(maskinportenFastify, { verifier });
    expect(() => app.requireMaskinportenToken({ consent: { resource: '' } })).toThrow(expect.objectContaining({ field: 'requirements.consent.resource' }));
    expect(() => app.requireMaskinportenToken('nav:read' as never)).toThrow(ConfigurationError);
    await app.close();
  });
});
