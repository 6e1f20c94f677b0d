// Where the proxy may send the token: a router's answer obeys the rule for `target` (https, or http
// on loopback) on every request, and options that send the request elsewhere are refused.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { maskinportenProxy } from '@portvakt/express';
import type { MaskinportenProxyOptions } from '@portvakt/express';
import { EXPRESS_VERSIONS, startMaskinporten, startRecordingServer } from './support.js';
import type { Maskinporten, RecordingServer } from './support.js';

let mp: Maskinporten;
let client: MaskinportenClient;
let upstream: RecordingServer;
let other: RecordingServer;
// Reachable through addresses that are not loopback names (0.0.0.0, IPv4-mapped IPv6): it stands
// for a server elsewhere that must never see a token.
let foreign: RecordingServer;

beforeAll(async () => {
  mp = await startMaskinporten();
  client = mp.newClient();
  upstream = await startRecordingServer();
  other = await startRecordingServer();
  foreign = await startRecordingServer();
});
afterAll(async () => {
  await Promise.all([upstream.close(), other.close(), foreign.close()]);
  await mp.close();
});
afterEach(() => {
  for (const server of [upstream, other, foreign]) server.seen.length = 0;
});

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  describe('proxy.router', () => {
    const routes = (): Record<string, unknown> => ({
      other: other.origin,
      'other-object': { protocol: 'http:', host: '127.0.0.1', port: other.port },
      'any-address': `http://0.0.0.0:${foreign.port}`,
      'any-address-object': { protocol: 'http:', host: '0.0.0.0', port: foreign.port },
      'mapped-ipv6': `http://[::ffff:127.0.0.1]:${foreign.port}`,
      'public-http': 'http://api.example.no',
      'not-http': `ftp://127.0.0.1:${foreign.port}`,
      'socket-path': { socketPath: '/tmp/portvakt-none.sock' },
    });
    const routedApp = (received: Error[] = []) => {
      const app = express();
      app.use('/api', maskinportenProxy({
        target: upstream.origin,
        client,
        onError: (error) => void received.push(error),
        proxy: { router: (req) => routes()[String(req.headers['x-route'])] as never },
      }));
      return app;
    };

    it('sends each request to the upstream its router chose, with the token, when the rule allows it', async () => {
      const app = routedApp();
      await request(app).get('/api/a').expect(200);
      await request(app).get('/api/b').set('x-route', 'other').expect(200);
      await request(app).get('/api/c').set('x-route', 'other-object').expect(200);
      expect(upstream.seen.map((s) => s.url)).toEqual(['/a']);
      expect(other.seen.map((s) => s.url)).toEqual(['/b', '/c']);
      expect([...upstream.seen, ...other.seen].every((s) => s.authorization?.startsWith('Bearer ey'))).toBe(true);
    });

    it.each(['any-address', 'any-address-object', 'mapped-ipv6', 'public-http', 'not-http', 'socket-path'])(
      'answers a router choice outside the rule (%s) with a 502 problem; no token is fetched or sent',
      async (route) => {
        const received: Error[] = [];
        const tokensBefore = mp.sim.tokenRequestCount();
        const res = await request(routedApp(received)).get('/api/admin').set('x-route', route).expect(502);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body).toEqual({ type: 'about:blank', title: expect.any(String), detail: expect.any(String), status: 502, code: 'upstream_not_allowed' });
        expect(foreign.seen).toEqual([]);
        expect(upstream.seen).toEqual([]);
        expect(mp.sim.tokenRequestCount()).toBe(tokensBefore);
        expect(received).toHaveLength(1);
        expect(received[0]).toBeInstanceOf(ConfigurationError);
        expect((received[0] as ConfigurationError).field.startsWith('proxy.router')).toBe(true);
      },
    );

    it('a router that throws is answered with a 502 problem', async () => {
      const app = express();
      app.use(maskinportenProxy({ target: upstream.origin, client, proxy: { router: () => { throw new Error('tenant table unavailable'); } } }));
      const res = await request(app).get('/x').expect(502);
      expect(res.body.code).toBe('upstream_unavailable');
      expect(upstream.seen).toEqual([]);
    });
  });

  it('puts the token on, and the caller\'s Authorization off, even with ejectPlugins', async () => {
    const app = express();
    app.use(maskinportenProxy({ target: upstream.origin, client, proxy: { ejectPlugins: true } }));
    await request(app).get('/x').set('authorization', 'Bearer caller-token').expect(200);
    expect(upstream.seen.map((s) => s.authorization?.slice(0, 9))).toEqual(['Bearer ey']);
  });
});

describe('options that would send the request elsewhere are refused at construction', () => {
  const target = 'https://api.example.no';
  it.each([
    ['proxy.forward', { forward: 'http://127.0.0.1:1' }],
    ['proxy.toProxy', { toProxy: true }],
    ['proxy.followRedirects', { followRedirects: true }],
    ['proxy.ws', { ws: true }],
    ['proxy.auth', { auth: 'user:password' }],
    ['proxy.router["/evil"]', { router: { '/ok': 'https://api2.example.no', '/evil': `http://203.0.113.9` } }],
    ['proxy.router["tenant.example.no"]', { router: { 'tenant.example.no': { protocol: 'http:', host: 'tenant.example.no', port: 80 } } }],
  ])('%s', (field, proxy) => {
    let caught: unknown;
    try {
      maskinportenProxy({ target, client, proxy: proxy as MaskinportenProxyOptions['proxy'] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).field).toBe(field);
  });

  it('accepts options that only shape the request (agent, router table within the rule)', () => {
    expect(() => maskinportenProxy({ target, client, proxy: { agent: undefined, router: { '/v2': 'https://v2.api.example.no', '/local': 'http://127.0.0.1:8080' } } })).not.toThrow();
  });
});
