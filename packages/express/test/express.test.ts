import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { maskinporten, maskinportenProxy } from '@portvakt/express';

const key = generateClientKey({ kid: 'express-key' });
let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let upstream: http.Server;
let upstreamOrigin: string;
const seen: { auth: string | undefined; url: string }[] = [];

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'gw', orgno: '991825827', scopes: ['api:read'], jwks: [key.publicJwk] }] });
  client = createMaskinportenClient({ clientId: 'gw', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read', transport: { maxAttempts: 1 } });
  upstream = http.createServer((req, res) => {
    seen.push({ auth: req.headers.authorization, url: req.url ?? '' });
    if (req.url?.startsWith('/download/')) {
      const size = Number(req.url.split('/')[2]);
      const chunk = Buffer.alloc(64 * 1024, 7);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => { hash.update(c); bytes += c.length; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ url: req.url, bytes, sha256: hash.digest('hex'), method: req.method }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamOrigin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  await sim.close();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});
beforeEach(() => {
  seen.length = 0;
  sim.clearFaults();
});

const decodeJwt = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString());

const versions = [['Express 5', express5], ['Express 4', express4]] as const;

describe.each(versions)('%s', (_name, express) => {
  describe('maskinporten() middleware', () => {
    it('gives handlers getToken() and an authorised fetch; the token reaches the upstream, never the client', async () => {
      const app = express();
      app.use(maskinporten({ client, origins: [upstreamOrigin] }));
      app.get('/call', async (req, res, next) => {
        try {
          const upstreamRes = await req.maskinporten!.fetch(`${upstreamOrigin}/data?x=1`);
          const token = await req.maskinporten!.getToken();
          res.json({ upstream: await upstreamRes.json(), scope: token.scope, printed: String(token) });
        } catch (err) {
          next(err);
        }
      });
      const res = await request(app).get('/call').expect(200);
      expect(seen[0]?.auth).toMatch(/^Bearer ey/);
      const token = seen[0]?.auth?.split(' ')[1] as string;
      expect(JSON.stringify(res.headers) + res.text).not.toContain(token);
      expect(res.body.scope).toBe('api:read');
    });

    it('gets per-customer system-user tokens from the request', async () => {
      const app = express();
      app.use('/customers/:orgno', maskinporten({ client, origins: [upstreamOrigin], claims: (req) => ({ systemUser: { orgno: String(req.params.orgno) } }) }));
      app.get('/customers/:orgno/status', async (req, res) => {
        await (await req.maskinporten!.fetch(`${upstreamOrigin}/status`)).text();
        res.sendStatus(204);
      });
      await request(app).get('/customers/910753614/status').expect(204);
      await request(app).get('/customers/974761076/status').expect(204);
      await request(app).get('/customers/910753614/status').expect(204);
      const orgs = seen.map((s) => (decodeJwt(s.auth!.split(' ')[1]!).authorization_details as { systemuser_org: { ID: string } }[])[0]!.systemuser_org.ID);
      expect(orgs).toEqual(['0192:910753614', '0192:974761076', '0192:910753614']);
      expect(seen[0]?.auth).toBe(seen[2]?.auth);
      expect(seen[0]?.auth).not.toBe(seen[1]?.auth);
    });

    it('sends bad claims to next(err) as 400 with expose false, and token failures with status and code', async () => {
      const errors: { status: number; expose: boolean; code: string }[] = [];
      const app = express();
      app.use('/c/:orgno', maskinporten({ client, claims: (req) => ({ consumerOrg: String(req.params.orgno) }) }));
      app.get('/c/:orgno', async (req, res, next) => {
        try {
          await req.maskinporten!.getToken({ scope: 'not-registered' });
          res.sendStatus(200);
        } catch (err) {
          next(err);
        }
      });
      app.use((err: { status: number; expose: boolean; code: string }, _req: unknown, res: { status(n: number): { end(): void } }, _next: unknown) => {
        errors.push({ status: err.status, expose: err.expose, code: err.code });
        res.status(err.status).end();
      });
      await request(app).get('/c/123').expect(400);
      await request(app).get('/c/910753614').expect(502);
      expect(errors).toEqual([
        { status: 400, expose: false, code: 'invalid_claims' },
        { status: 502, expose: false, code: 'maskinporten_rejected' },
      ]);
    });
  });

  describe('maskinportenProxy()', () => {
    const app = () => {
      const a = express();
      a.use('/api', maskinportenProxy({ target: upstreamOrigin, client }));
      return a;
    };

    it('replaces the caller\'s Authorization with ours and keeps path and query', async () => {
      const res = await request(app()).get('/api/v1/things%20x?b=2&a=1&a=3&q=%C3%A6').set('Authorization', 'Bearer caller-token').expect(200);
      expect(res.body.url).toBe('/v1/things%20x?b=2&a=1&a=3&q=%C3%A6');
      expect(seen[0]?.auth).toMatch(/^Bearer ey/);
      expect(seen[0]?.auth).not.toContain('caller-token');
      expect(res.headers['x-upstream']).toBe('yes');
      expect(JSON.stringify(res.headers) + res.text).not.toContain(seen[0]!.auth!.split(' ')[1]!);
    });

    it('streams large request and response bodies both ways', async () => {
      const body = randomBytes(12 * 1024 * 1024);
      const up = await request(app()).post('/api/upload').set('content-type', 'application/octet-stream').send(body).expect(200);
      expect(up.body).toMatchObject({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      const down = await request(app()).get(`/api/download/${20 * 1024 * 1024}`).buffer(true).parse((res, cb) => {
        let n = 0;
        res.on('data', (c: Buffer) => { n += c.length; });
        res.on('end', () => cb(null, n));
      }).expect(200);
      expect(down.body).toBe(20 * 1024 * 1024);
    });

    it.each([
      [{ kind: 'status', status: 503 }, 503, 'maskinporten_unavailable'],
      [{ kind: 'status', status: 400, body: { error: 'invalid_scope', error_description: 'MP-200 not registered' } }, 502, 'maskinporten_rejected'],
      [{ kind: 'malformed', body: '<html>' }, 502, 'maskinporten_bad_response'],
    ] as const)('answers a Maskinporten failure with an RFC 9457 problem (%j)', async (fault, status, code) => {
      const fresh = createMaskinportenClient({ clientId: 'gw', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read', transport: { maxAttempts: 1 } });
      const a = express();
      a.use('/api', maskinportenProxy({ target: upstreamOrigin, client: fresh }));
      sim.inject(fault as never);
      const res = await request(a).get('/api/x').expect(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String), type: 'about:blank' });
      // The MP code is in its own member, as the Nest filter gives it (for the caller's support
      // ticket); Maskinporten's description and anything token-like never are.
      expect(res.text).not.toMatch(/not registered|eyJ/);
      if (code === 'maskinporten_rejected') expect(res.body.mpCode).toBe('MP-200');
      else expect(res.body).not.toHaveProperty('mpCode');
      expect(seen).toHaveLength(0);
      await fresh.close();
    });

    it('answers 504 when Maskinporten times out', async () => {
      const slow = createMaskinportenClient({ clientId: 'gw', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read', transport: { maxAttempts: 1, attemptTimeout: 200, deadline: 300 } });
      const a = express();
      a.use(maskinportenProxy({ target: upstreamOrigin, client: slow }));
      sim.inject({ kind: 'hang' });
      const res = await request(a).get('/x').expect(504);
      expect(res.body.code).toBe('maskinporten_timeout');
      await slow.close();
    });

    it('answers 502 upstream_unavailable when the upstream cannot be reached', async () => {
      const a = express();
      a.use(maskinportenProxy({ target: 'http://127.0.0.1:9', client }));
      const res = await request(a).get('/x').expect(502);
      expect(res.body.code).toBe('upstream_unavailable');
    });
  });
});

describe('bad options fail at creation', () => {
  it.each([
    ['no client', () => maskinporten({} as never), 'client'],
    ['bad scope', () => maskinporten({ client, scope: 5 as never }), 'scope'],
    ['claims not a function', () => maskinporten({ client, claims: 'x' as never }), 'claims'],
    ['http origin on a public host', () => maskinporten({ client, origins: ['http://api.example.no'] }), 'origins'],
    ['proxy target not a URL', () => maskinportenProxy({ client, target: 'api' }), 'target'],
    ['proxy target over http', () => maskinportenProxy({ client, target: 'http://api.example.no' }), 'target'],
    ['proxy without a client', () => maskinportenProxy({ target: 'https://api.example.no' } as never), 'client'],
  ])('%s', (_name, create, field) => {
    expect(create).toThrow(ConfigurationError);
    try {
      create();
    } catch (err) {
      expect((err as ConfigurationError).field.startsWith(field)).toBe(true);
    }
  });
});
