// The Texas token source in real Express apps (4 and 5), against the simulator's Texas and a real
// API: the middleware's getToken() and fetch(), and the proxy, as a NAIS app uses them.
import http from 'node:http';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTexasTokenSource } from '@portvakt/core';
import type { TexasTokenSource } from '@portvakt/core';
import { startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi, SimulatorTexas } from '@portvakt/testing';
import { maskinporten, maskinportenProxy } from '@portvakt/express';
import { EXPRESS_VERSIONS } from './support.js';

const CUSTOMER = '910753614';
let sim: MaskinportenSimulator;
let texas: SimulatorTexas;
let api: RecordingApi;
let source: TexasTokenSource;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ texas: { client: { clientId: 'nais-app', orgno: '889640782', scopes: ['api:read'] } } });
  texas = sim.texas!;
  api = await startRecordingApi();
});
afterAll(async () => {
  await Promise.all([sim.close(), api.close()]);
});
beforeEach(() => {
  source = createTexasTokenSource({ endpoint: texas.tokenEndpoint, scope: 'api:read', transport: { backoffBase: 1, backoffMax: 5 } });
});
afterEach(async () => {
  await source.close();
  sim.reset();
  api.seen.length = 0;
  api.revoked.clear();
});

const tokenOf = (header: string | undefined) => header?.split(' ')[1];

describe.each(EXPRESS_VERSIONS)('%s with the Texas token source', (name, express) => {
  function app() {
    const created = express();
    created.use('/proxied', maskinportenProxy({ target: api.origin, client: source }));
    created.use('/for-customer', maskinportenProxy({ target: api.origin, client: source, claims: (req) => ({ consumerOrg: String(req.query.customer) }) }));
    created.use(maskinporten({ client: source, origins: [api.origin], claims: (req) => (typeof req.query.customer === 'string' ? { consumerOrg: req.query.customer } : {}) }));
    created.get('/call', async (req, res, next) => {
      try {
        const upstream = await req.maskinporten!.fetch(`${api.origin}/ok`);
        res.status(upstream.status).end();
      } catch (error) {
        next(error);
      }
    });
    created.get('/herd/:size', async (req, res) => {
      const tokens = await Promise.all(Array.from({ length: Number(req.params.size) }, () => req.maskinporten!.getToken()));
      res.json({ distinct: new Set(tokens.map((t) => t.accessToken)).size });
    });
    return created;
  }

  // The herd does not depend on the Express or http-proxy-middleware major: once is enough.
  it.runIf(name === 'Express 5' && process.env.PORTVAKT_HPM !== '4')('10,000 concurrent token requests in a handler, and 300 concurrent proxied requests: 1 Texas request', async () => {
    const server = app().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 300 });
    try {
      const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const statuses = await Promise.all(Array.from({ length: 300 }, () => fetchStatus(`${origin}/proxied/ok`, agent)));
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(texas.tokenRequestCount()).toBe(1);
      expect(new Set(api.seen.map((s) => s.authorization)).size).toBe(1);
      expect(await (await fetch(`${origin}/herd/10000`)).json()).toEqual({ distinct: 1 });
      expect(texas.tokenRequestCount()).toBe(1);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a 401 from the API: exactly 1 skip_cache request to Texas and 1 resend', async () => {
    const served = app();
    await request(served).get('/call').expect(200);
    const stale = tokenOf(api.seen[0]?.authorization) as string;
    api.revoked.add(stale);
    await request(served).get('/call').expect(200);
    expect(api.seen.map((s) => tokenOf(s.authorization) === stale)).toEqual([true, true, false]);
    expect(texas.skipCacheCount()).toBe(1);
    expect(texas.tokenRequestCount()).toBe(2);
  });

  it("invalid_scope from Texas: 502 maskinporten_rejected with Maskinporten's MP code, after 1 Texas request", async () => {
    const served = express();
    served.use('/proxied', maskinportenProxy({ target: api.origin, client: source, scope: 'api:not-consumed' }));
    const res = await request(served).get('/proxied/ok').expect(502);
    expect(res.body).toMatchObject({ code: 'maskinporten_rejected', mpCode: 'MP-200' });
    expect(texas.tokenRequestCount()).toBe(1);
    expect(api.seen).toHaveLength(0);
  });

  it('Texas answering 500 for ever: 503 maskinporten_unavailable after a bounded number of requests', async () => {
    sim.inject({ kind: 'status', status: 500, body: { error: 'server_error', error_description: 'Upstream request failed' } }, { path: '/api/v1/token', times: Infinity });
    const res = await request(app()).get('/proxied/ok').expect(503);
    expect(res.body).toMatchObject({ code: 'maskinporten_unavailable' });
    expect(texas.tokenRequestCount()).toBe(2);
  });

  it('consumerOrg from the request: refused with 0 Texas requests', async () => {
    const res = await request(app()).get(`/for-customer/ok?customer=${CUSTOMER}`).expect(502);
    expect(res.body).toMatchObject({ code: 'maskinporten_misconfigured' });
    expect(texas.tokenRequestCount()).toBe(0);
    expect(api.seen).toHaveLength(0);
  });

  it('Texas down with a valid token: no failed call', async () => {
    const served = app();
    await request(served).get('/proxied/ok').expect(200);
    sim.inject({ kind: 'drop' }, { path: '/api/v1/token', times: Infinity });
    for (let i = 0; i < 10; i++) await request(served).get(i % 2 === 0 ? '/proxied/ok' : '/call').expect(200);
  });
});

function fetchStatus(url: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}
