// requireMaskinportenToken() against the shared table of answers (the same the Nest guard and the
// Fastify plugin give), on real Express 4 and 5 apps on 127.0.0.1: every requirement, the person
// from a path parameter, an async organisation policy with the request, the padded and spaced
// variants of a valid token, and nothing refused remembered.
import { inspect } from 'node:util';
import type { NextFunction, Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskinportenVerifier } from '@portvakt/verify';
import { requireMaskinportenToken } from '@portvakt/express/verify';
import { CASES, CUSTOMER, environment, expectedAnswer, factory, okBody, REMEMBERED_AFTER_CASES, ROUTES, send } from '../../verify/test/http-cases.js';
import { EXPRESS_VERSIONS, listen } from './support.js';

const remembered = (verifier: object): number => Number(/remembered tokens: (\d+)/.exec(inspect(verifier))?.[1]);

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  const verifier = createMaskinportenVerifier({ environment });
  const errors: unknown[] = [];
  let server: { port: number; close(): Promise<void> };
  let origin: string;
  beforeAll(async () => {
    const app = express();
    for (const [path, requirements] of Object.entries(ROUTES)) {
      app.get(path, requireMaskinportenToken({ verifier, ...requirements }), (req: Request, res: Response) => res.json(okBody(req.maskinportenToken)));
    }
    const router = express.Router();
    router.use(requireMaskinportenToken({ verifier, consumers: [CUSTOMER] }));
    router.get('/persons/:pid', requireMaskinportenToken({ verifier, pid: (req) => req.params.pid as string }), (req: Request, res: Response) => res.json(okBody(req.maskinportenToken)));
    router.get('/throws', requireMaskinportenToken({ verifier, organizationPolicy: async () => { throw new Error('registry down'); } }), (_req: Request, res: Response) => res.json({}));
    app.use('/router', router);
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(error);
      res.status(500).json({ error: 'internal' });
    });
    server = await listen(app);
    origin = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.close());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_case, c) => {
    expect(await send(origin, c)).toEqual(expectedAnswer(c));
  });

  it('remembers only the accepted tokens', async () => {
    const before = remembered(verifier);
    for (const c of CASES) await send(origin, c);
    expect(remembered(verifier)).toBe(before + REMEMBERED_AFTER_CASES);
  });

  it('a router\'s consumers, then a route\'s person from its path', async () => {
    const get = async (path: string, claims: Record<string, unknown>) => (await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${await factory.mint(claims)}` } })).status;
    expect(await get('/router/persons/05848998356', { consumerOrgno: CUSTOMER, pid: '05848998356' })).toBe(200);
    expect(await get('/router/persons/01010199999', { consumerOrgno: CUSTOMER, pid: '05848998356' })).toBe(403);
    expect(await get('/router/persons/05848998356', { consumerOrgno: '974761076', pid: '05848998356' })).toBe(403);
  });

  it('an organisation policy that rejects goes to next(err), not a refusal', async () => {
    const res = await fetch(`${origin}/router/throws`, { headers: { authorization: `Bearer ${await factory.mint({ consumerOrgno: CUSTOMER })}` } });
    expect(res.status).toBe(500);
    expect(errors.at(-1)).toMatchObject({ message: 'registry down' });
  });

  it('keeps the requirements it was made with, whatever the caller does to its objects afterwards', async () => {
    const consumers = [CUSTOMER];
    const app = express();
    app.get('/x', requireMaskinportenToken({ verifier, consumers }), (req: Request, res: Response) => res.json(okBody(req.maskinportenToken)));
    consumers.push('974761076');
    consumers.shift();
    const other = await listen(app);
    try {
      const get = async (consumer: string) => (await fetch(`http://127.0.0.1:${other.port}/x`, { headers: { authorization: `Bearer ${await factory.mint({ consumerOrgno: consumer })}` } })).status;
      expect(await get(CUSTOMER)).toBe(200);
      expect(await get('974761076')).toBe(403);
    } finally {
      await other.close();
    }
  });

  it('refuses a pid that is neither true, a person nor a function when the middleware is made', () => {
    expect(() => requireMaskinportenToken({ verifier, pid: 42 as never })).toThrow(expect.objectContaining({ field: 'pid' }));
    expect(() => requireMaskinportenToken({ verifier, systemUser: { customer: CUSTOMER } as never })).toThrow(expect.objectContaining({ field: 'systemUser.customer' }));
  });
});
