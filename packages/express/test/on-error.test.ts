// The onError hook: every failure reaches the operator's logger as core's typed error, the caller's
// answer stays the same, a failing hook changes nothing, and nothing secret reaches the hook.
import { inspect } from 'node:util';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenEndpointError } from '@portvakt/core';
import type { ConfigurationError, MaskinportenClient } from '@portvakt/core';
import { maskinporten, maskinportenProxy } from '@portvakt/express';
import type { MaskinportenErrorHook } from '@portvakt/express';
import { EXPRESS_VERSIONS, startMaskinporten, startRecordingServer } from './support.js';
import type { Maskinporten, RecordingServer } from './support.js';

let mp: Maskinporten;
let upstream: RecordingServer;

beforeAll(async () => {
  mp = await startMaskinporten();
  upstream = await startRecordingServer();
});
afterAll(async () => {
  await upstream.close();
  await mp.close();
});
afterEach(() => {
  mp.sim.clearFaults();
  upstream.seen.length = 0;
  vi.restoreAllMocks();
});

const MP_200 = { kind: 'status', status: 400, body: { error: 'invalid_scope', error_description: 'MP-200 scope not registered' } } as const;

type Received = { error: Error; path: string; args: unknown[] };
const recorder = () => {
  const received: Received[] = [];
  const onError: MaskinportenErrorHook = (...args) => {
    received.push({ error: args[0], path: args[1].originalUrl, args });
  };
  return { received, onError };
};

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  describe('maskinportenProxy({ onError })', () => {
    const proxyApp = (client: MaskinportenClient, onError?: MaskinportenErrorHook) => {
      const app = express();
      app.use('/api', maskinportenProxy({ target: upstream.origin, client, ...(onError ? { onError } : {}) }));
      return app;
    };

    it('gets the typed core error and the request, and the caller gets the same problem as without a hook', async () => {
      const { received, onError } = recorder();
      mp.sim.inject(MP_200);
      const withHook = await request(proxyApp(mp.newClient(), onError)).get('/api/x').expect(502);
      mp.sim.inject(MP_200);
      const without = await request(proxyApp(mp.newClient())).get('/api/x').expect(502);
      expect(withHook.body).toEqual(without.body);
      expect(withHook.body.code).toBe('maskinporten_rejected');
      expect(received).toHaveLength(1);
      const error = received[0]!.error as TokenEndpointError;
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect(error.code).toBe('ERR_PORTVAKT_TOKEN_REJECTED');
      expect(error.mpCode).toBe('MP-200');
      expect(error.hint).toEqual(expect.stringContaining('scope'));
      expect(received[0]!.path).toBe('/api/x');
      expect(upstream.seen).toEqual([]);
    });

    it('gets claims failures, and upstream failures', async () => {
      const { received, onError } = recorder();
      const app = express();
      app.use('/c/:orgno', maskinportenProxy({ target: upstream.origin, client: mp.newClient(), claims: (req) => ({ consumerOrg: String(req.params.orgno) }), onError }));
      app.use('/down', maskinportenProxy({ target: 'http://127.0.0.1:9', client: mp.newClient(), onError }));
      await request(app).get('/c/123/x').expect(400);
      await request(app).get('/down/x').expect(502);
      expect(received.map((r) => [r.error.constructor.name, r.path])).toEqual([
        ['ConfigurationError', '/c/123/x'],
        [expect.any(String), '/down/x'],
      ]);
      expect((received[0]!.error as ConfigurationError).field).toBe('claims.consumerOrg');
    });

    it.each([
      ['throws', () => { throw new Error('logger down'); }],
      ['rejects', () => Promise.reject(new Error('logger down'))],
    ])('a hook that %s does not change the answer', async (_how, hook) => {
      const console_ = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      mp.sim.inject(MP_200, { times: 2 });
      const app = proxyApp(mp.newClient(), hook as MaskinportenErrorHook);
      const first = await request(app).get('/api/x').expect(502);
      const second = await request(app).get('/api/x').expect(502);
      expect([first.body.code, second.body.code]).toEqual(['maskinporten_rejected', 'maskinporten_rejected']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(console_).toHaveBeenCalledTimes(1); // once per proxy, whatever the number of failures
    });
  });

  describe('maskinporten({ onError })', () => {
    it('gets token failures from getToken() and fetch(), and claims failures; next(err) is unchanged', async () => {
      const { received, onError } = recorder();
      const statuses: unknown[] = [];
      const app = express();
      app.use('/c/:orgno', maskinporten({ client: mp.newClient(), origins: [upstream.origin], claims: (req) => ({ consumerOrg: String(req.params.orgno) }), onError }));
      app.get('/c/:orgno/token', async (req, res, next) => {
        try {
          await req.maskinporten!.getToken();
          res.sendStatus(200);
        } catch (err) {
          next(err);
        }
      });
      app.get('/c/:orgno/fetch', async (req, res, next) => {
        try {
          await req.maskinporten!.fetch(`${upstream.origin}/x`);
          res.sendStatus(200);
        } catch (err) {
          next(err);
        }
      });
      app.use((err: { status: number; code: string }, _req: unknown, res: { sendStatus(n: number): void }, _next: unknown) => {
        statuses.push([err.status, err.code]);
        res.sendStatus(err.status);
      });
      mp.sim.inject(MP_200, { times: 2 });
      await request(app).get('/c/910753614/token').expect(502);
      await request(app).get('/c/910753614/fetch').expect(502);
      await request(app).get('/c/123/token').expect(400);
      expect(statuses).toEqual([[502, 'maskinporten_rejected'], [502, 'maskinporten_rejected'], [400, 'invalid_claims']]);
      expect(received.map((r) => [r.error.constructor.name, (r.error as TokenEndpointError).mpCode, r.path])).toEqual([
        ['TokenEndpointError', 'MP-200', '/c/910753614/token'],
        ['TokenEndpointError', 'MP-200', '/c/910753614/fetch'],
        ['ConfigurationError', undefined, '/c/123/token'],
      ]);
      expect(upstream.seen).toEqual([]);
    });
  });

  it('nothing secret reaches the hook, even when Maskinporten echoes a token in its error', async () => {
    const client = mp.newClient();
    const secret = (await client.getToken({ scope: 'api:read', minValidity: 1 })).accessToken;
    const { received, onError } = recorder();
    const app = express();
    app.use('/p', maskinportenProxy({ target: upstream.origin, client, scope: 'api:read', request: { consumerOrg: '910753614' }, onError }));
    app.use('/m', maskinporten({ client, request: { consumerOrg: '910753614' }, onError }), async (req, res) => {
      await req.maskinporten!.getToken().catch(() => undefined);
      res.sendStatus(502);
    });
    const echo = { kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: `MP-124 cannot verify ${secret}` } } as const;
    mp.sim.inject(echo, { times: 2 });
    await request(app).get('/p/x').expect(502);
    await request(app).get('/m/x').expect(502);
    expect(received).toHaveLength(2);
    const printed = inspect(received.map((r) => r.args), { showHidden: true, depth: 6 }) + JSON.stringify(received.map((r) => r.error));
    expect(printed).toContain('MP-124');
    expect(printed).not.toContain(secret);
    expect(printed).not.toContain(secret.split('.')[1]);
    expect(printed).not.toContain(mp.key.privateJwk.d as string);
  });
});
