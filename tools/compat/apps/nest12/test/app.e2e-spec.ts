import { createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test, TestingModule } from '@nestjs/testing';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { App } from 'supertest/types.js';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { AppModule } from './../src/app.module.js';

const CLIENT_ID = 'compat-nest';
// The nest12-fastify shape runs this same test on the Fastify platform.
const platform = process.env.COMPAT_NEST_PLATFORM === 'fastify' ? 'fastify' : 'express';
const SCOPE = 'compat:read';

/** Checks a bearer token the way an API would: RS256 signature against the simulator's JWKS, issuer, expiry, scope. */
async function verifyBearer(header: string | undefined, sim: MaskinportenSimulator): Promise<Record<string, unknown>> {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
  if (!m) throw new Error('no bearer token');
  const [, h, p, s] = m;
  const head = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
  const jwks = (await (await fetch(sim.jwksUri)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === head.kid);
  if (head.alg !== 'RS256' || !jwk) throw new Error(`unknown key ${head.kid}`);
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'))) {
    throw new Error('bad signature');
  }
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  if (claims.iss !== sim.issuer) throw new Error(`issuer ${String(claims.iss)}`);
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) throw new Error('expired');
  if (!String(claims.scope).split(' ').includes(SCOPE)) throw new Error(`scope ${String(claims.scope)}`);
  return claims;
}

describe('AppController (e2e)', () => {
  let app: INestApplication<App>;
  let sim: MaskinportenSimulator;
  let api: Server;
  let apiUrl: string;
  const seen: string[] = [];
  const key = generateClientKey({ kid: 'compat-key' });

  beforeAll(async () => {
    sim = await startMaskinportenSimulator({
      clients: [{ clientId: CLIENT_ID, orgno: '991825827', scopes: [SCOPE], jwks: [key.publicJwk] }],
    });
    // A small API that answers only with a valid Maskinporten token.
    api = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      verifyBearer(req.headers.authorization, sim).then(
        (claims) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ path: req.url, client_id: claims.client_id, scope: claims.scope }));
        },
        (error: Error) => {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: error.message }));
        },
      );
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await sim?.close();
    api?.closeAllConnections();
    await new Promise((resolve) => (api ? api.close(resolve) : resolve(undefined)));
  });

  beforeEach(async () => {
    seen.length = 0;
    const moduleFixture: TestingModule = await Test.createTestingModule({
      imports: [
        AppModule.register({
          clientId: CLIENT_ID,
          environment: sim.environment(),
          key: { jwk: key.privateJwk },
          scope: SCOPE,
          apiUrl,
        }),
      ],
    }).compile();

    if (platform === 'fastify') {
      const specifier = '@nestjs/platform-fastify'; // installed only by the nest12-fastify shape
      const { FastifyAdapter } = (await import(specifier)) as { FastifyAdapter: new () => never };
      app = moduleFixture.createNestApplication(new FastifyAdapter());
      await app.init();
      await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
    } else {
      app = moduleFixture.createNestApplication();
      await app.init();
    }
  });

  it(`runs on the ${platform} platform`, () => {
    expect(app.getHttpAdapter().getType()).toBe(platform);
  });

  it('/ (GET)', () => {
    return request(app.getHttpServer())
      .get('/')
      .expect(200)
      .expect('Hello World!');
  });

  it('/upstream/whoami (GET) reaches the API with a Maskinporten token from MaskinportenHttpModule', async () => {
    const res = await request(app.getHttpServer()).get('/upstream/whoami').expect(200);
    expect(res.body).toEqual({ path: '/whoami', client_id: CLIENT_ID, scope: SCOPE });
    expect(seen).toHaveLength(1);
    await expect(verifyBearer(seen[0], sim)).resolves.toMatchObject({ client_id: CLIENT_ID });
    expect(sim.issuedTokenCount()).toBeGreaterThanOrEqual(1);
  });

  it('/health (GET) is up through @portvakt/nestjs/health', async () => {
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body.info.maskinporten.status).toBe('up');
  });

  afterEach(async () => {
    await app.close();
  });
});
