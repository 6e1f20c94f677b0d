// requireMaskinportenToken() on a real Express app (4 and 5) on 127.0.0.1: the answers of RFC 6750
// with problem+json bodies, the claims on req, composition of a router's and a route's
// requirements, and the key set fetched from the simulator over HTTP.
import type { Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, createMaskinportenClient } from '@portvakt/core';
import { createMaskinportenVerifier } from '@portvakt/verify';
import type { MaskinportenVerifier } from '@portvakt/verify';
import { createTokenFactory, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { requireMaskinportenToken } from '@portvakt/express/verify';
import { EXPRESS_VERSIONS, listen } from './support.js';

const factory = createTokenFactory();
const CUSTOMER = '910753614';
const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks } });

interface Answer {
  status: number;
  wwwAuthenticate: string | null;
  contentType: string | null;
  body: Record<string, unknown>;
}

async function call(port: number, path: string, authorization?: string): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: authorization === undefined ? {} : { authorization } });
  const text = await res.text();
  return { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), contentType: res.headers.get('content-type'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const claimsHandler = (req: Request, res: Response) => {
  const claims = req.maskinportenToken!;
  res.json({ consumer: claims.consumerOrg, scopes: claims.scopes, pid: claims.pid ?? null });
};

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  let server: { port: number; close(): Promise<void> };
  const seen: Error[] = [];
  let verifyCalls = 0;
  // A verifier that counts its verify() calls, to show a route behind a router verifies once.
  const counting: MaskinportenVerifier = {
    get issuer() {
      return verifier.issuer;
    },
    verify: (token, requirements) => {
      verifyCalls += 1;
      return verifier.verify(token, requirements);
    },
    recall: () => undefined, // nothing remembered: every request reaches verify()
    checkRequirements: (claims, requirements) => verifier.checkRequirements(claims, requirements),
    ready: () => verifier.ready(),
  };

  beforeAll(async () => {
    const app = express();
    app.get('/open', (_req, res) => res.json({ open: true }));
    app.get('/claims', requireMaskinportenToken({ verifier, onError: (error) => seen.push(error) }), claimsHandler);
    app.get('/read', requireMaskinportenToken({ verifier, scope: 'nav:read' }), claimsHandler);
    app.get('/customers', requireMaskinportenToken({ verifier, consumers: [CUSTOMER] }), claimsHandler);
    app.get('/audience', requireMaskinportenToken({ verifier, audience: 'https://api.example.no/' }), claimsHandler);
    const router = express.Router();
    router.use(requireMaskinportenToken({ verifier: counting, scope: 'nav:read' }));
    router.get('/list', claimsHandler);
    router.post('/write', requireMaskinportenToken({ verifier: counting, scope: 'nav:write' }), claimsHandler);
    router.get('/admin', requireMaskinportenToken({ verifier: counting, scope: ['nav:write', 'nav:admin'] }), claimsHandler);
    // An async handler after the middleware (Express 5 awaits it; Express 4 does not mind).
    router.get('/async', async (req, res) => {
      await new Promise((r) => setImmediate(r));
      res.json({ consumer: req.maskinportenToken?.consumerOrg });
    });
    app.use('/router', router);
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('lets a valid token through and puts its claims on req.maskinportenToken', async () => {
    const answer = await call(server.port, '/claims', `Bearer ${await factory.mint({ scope: 'nav:read', consumerOrgno: CUSTOMER, pid: '05848998356' })}`);
    expect(answer).toMatchObject({ status: 200, body: { consumer: CUSTOMER, scopes: ['nav:read'], pid: '05848998356' } });
  });

  it('answers no token with 401 and a bare Bearer challenge', async () => {
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz']) {
      const answer = await call(server.port, '/claims', authorization);
      expect(answer).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer', contentType: 'application/problem+json' });
      expect(answer.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: expect.any(String), code: 'token_missing' });
    }
    await expect(call(server.port, '/open')).resolves.toMatchObject({ status: 200 });
  });

  it.each([
    ['expired', () => factory.mint({}, { now: Date.now() - 600_000 }), 'The access token expired'],
    ['alg none', () => factory.forge({}, { header: { alg: 'none' }, signature: 'none' }), 'The token is not signed with an algorithm Maskinporten uses'],
    ['HS256 with the public key', () => factory.forge({}, { header: { alg: 'HS256' }, signature: 'hmac-public-key' }), 'The token is not signed with an algorithm Maskinporten uses'],
    ['another key', () => factory.forge({}, { signature: 'other-key' }), 'The token signature is invalid'],
    ['garbage', () => 'abc.def', 'The access token is not a well-formed signed JWT'],
  ])('answers an %s token with 401 invalid_token', async (_case, make, description) => {
    const token = await make();
    const answer = await call(server.port, '/claims', `Bearer ${token}`);
    expect(answer.status).toBe(401);
    expect(answer.wwwAuthenticate).toBe(`Bearer error="invalid_token", error_description="${description}"`);
    expect(answer.body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'invalid_token' });
    expect(JSON.stringify(answer.body)).not.toContain(token.slice(0, 30));
    expect(seen.at(-1)).toMatchObject({ code: expect.stringMatching(/^ERR_PORTVAKT_/) });
  });

  it('answers a missing scope with 403 insufficient_scope naming the scope', async () => {
    const answer = await call(server.port, '/read', `Bearer ${await factory.mint({ scope: 'nav:readonly' })}`);
    expect(answer.status).toBe(403);
    expect(answer.wwwAuthenticate).toBe('Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="nav:read"');
    expect(answer.body).toMatchObject({ title: 'Forbidden', status: 403, code: 'insufficient_scope' });
  });

  it('answers a consumer it does not serve with 403 organization_not_allowed, and a wrong audience with 401', async () => {
    expect(await call(server.port, '/customers', `Bearer ${await factory.mint({ consumerOrgno: '974761076' })}`)).toMatchObject({ status: 403, body: { code: 'organization_not_allowed' } });
    expect(await call(server.port, '/customers', `Bearer ${await factory.mint({ consumerOrgno: CUSTOMER })}`)).toMatchObject({ status: 200 });
    expect(await call(server.port, '/audience', `Bearer ${await factory.mint({ audience: 'https://other.example.no/' })}`)).toMatchObject({ status: 401, body: { code: 'invalid_token' } });
  });

  it('composes a router’s requirement with a route’s, verifying the token once', async () => {
    const readWrite = `Bearer ${await factory.mint({ scope: 'nav:read nav:write', consumerOrgno: CUSTOMER })}`;
    const readOnly = `Bearer ${await factory.mint({ scope: 'nav:read' })}`;
    const writeOnly = `Bearer ${await factory.mint({ scope: 'nav:write' })}`;
    verifyCalls = 0;
    const post = (authorization: string) => fetch(`http://127.0.0.1:${server.port}/router/write`, { method: 'POST', headers: { authorization } });
    expect((await post(readWrite)).status).toBe(200);
    expect(verifyCalls).toBe(1);
    const refused = await post(readOnly);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="nav:write"');
    expect((await post(writeOnly)).status).toBe(403); // the router's nav:read still applies
    expect(await call(server.port, '/router/list', readOnly)).toMatchObject({ status: 200 });
    expect(await call(server.port, '/router/admin', readWrite)).toMatchObject({ status: 403, wwwAuthenticate: expect.stringContaining('scope="nav:write nav:admin"') });
    expect(await call(server.port, '/router/async', readWrite)).toMatchObject({ status: 200, body: { consumer: CUSTOMER } });
    expect(await call(server.port, '/router/list')).toMatchObject({ status: 401 });
  });
});

describe('a token presented again', () => {
  it.each(EXPRESS_VERSIONS)('%s: is answered from the verifier\'s memory, with expiry and requirements still checked', async (_name, express) => {
    let now = Date.now();
    const clock = { now: () => now };
    const remembering = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks }, clock });
    const app = express();
    app.get('/read', requireMaskinportenToken({ verifier: remembering, scope: 'nav:read' }), claimsHandler);
    app.get('/write', requireMaskinportenToken({ verifier: remembering, scope: 'nav:write' }), claimsHandler);
    const server = await listen(app);
    try {
      const token = await factory.mint({ scope: 'nav:read', consumerOrgno: CUSTOMER }, { now, lifetimeSeconds: 60 });
      for (let i = 0; i < 3; i++) expect(await call(server.port, '/read', `Bearer ${token}`)).toMatchObject({ status: 200, body: { consumer: CUSTOMER } });
      expect(remembering.recall(token)).toBeDefined();
      expect(await call(server.port, '/write', `Bearer ${token}`)).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
      now += 120_000;
      expect(await call(server.port, '/read', `Bearer ${token}`)).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer error="invalid_token", error_description="The access token expired"' });
    } finally {
      await server.close();
    }
  });
});

describe('with the key set fetched from the simulator', () => {
  const key = generateClientKey({ kid: 'consumer-key' });
  let sim: MaskinportenSimulator;
  beforeAll(async () => {
    sim = await startMaskinportenSimulator({ clients: [{ clientId: 'consumer', orgno: CUSTOMER, scopes: ['nav:read'], jwks: [key.publicJwk] }] });
  });
  afterAll(() => sim.close());

  it.each(EXPRESS_VERSIONS)('%s: a token the simulator issued passes; the key endpoint down before the first fetch is 503', async (_name, express) => {
    const client = createMaskinportenClient({ clientId: 'consumer', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:read' });
    const token = await client.getToken();
    const down = createMaskinportenVerifier({ environment: { issuer: sim.issuer, jwksUri: `${sim.url}/jwk` } });
    const up = createMaskinportenVerifier({ environment: { metadataUrl: sim.metadataUrl }, scope: 'nav:read' });
    const app = express();
    app.get('/down', requireMaskinportenToken({ verifier: down }), claimsHandler);
    app.get('/up', requireMaskinportenToken({ verifier: up, consumers: CUSTOMER }), claimsHandler);
    const server = await listen(app);
    sim.inject({ kind: 'status', status: 503 }, { path: '/jwk' });
    const unavailable = await call(server.port, '/down', token.authorization);
    expect(unavailable).toMatchObject({ status: 503, wwwAuthenticate: null, body: { code: 'key_set_unavailable', title: 'Service Unavailable' } });
    expect(await call(server.port, '/up', token.authorization)).toMatchObject({ status: 200, body: { consumer: CUSTOMER } });
    await server.close();
    await client.close();
  });
});

describe('options', () => {
  it.each([
    ['no verifier', {}, 'verifier'],
    ['a client where the verifier goes', { verifier: { getToken() {} } }, 'verifier'],
    ['a typo', { verifier, scopes: 'nav:read' }, 'scopes'],
    ['a scope with a quote', { verifier, scope: 'nav:"read' }, 'scope'],
    ['a consumer that is no organisation number', { verifier, consumers: ['0192:910753614'] }, 'consumers'],
    ['onError that is not a function', { verifier, onError: 'log' }, 'onError'],
  ])('refuses %s when the middleware is created', (_name, options, field) => {
    let error: unknown;
    try {
      requireMaskinportenToken(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
  });

  it('refuses options that are not an object', () => {
    expect(() => requireMaskinportenToken(undefined as never)).toThrow(ConfigurationError);
  });
});

describe('errors that are not refusals', () => {
  it.each(EXPRESS_VERSIONS)('%s: go to next(err)', async (_name, express) => {
    const broken: MaskinportenVerifier = { issuer: undefined, verify: () => Promise.reject(new Error('a bug')), recall: () => undefined, checkRequirements: () => undefined, ready: () => Promise.resolve() };
    const app = express();
    app.get('/x', requireMaskinportenToken({ verifier: broken }), claimsHandler);
    app.use((err: Error, _req: Request, res: Response, _next: (e?: unknown) => void) => {
      res.status(500).json({ handled: err.message });
    });
    const server = await listen(app);
    expect(await call(server.port, '/x', `Bearer ${await factory.mint()}`)).toMatchObject({ status: 500, body: { handled: 'a bug' } });
    await server.close();
  });
});
