// Claims a resolver hands out, treated as resolvers do: one shared object, changed for the next
// request. A request must keep the customer it was resolved for, through its handler's awaits and
// its fetch's 401 retry: another customer's token must never reach it.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient, TokenRequest } from '@portvakt/core';
import { maskinporten } from '@portvakt/express';
import { generateClientKey, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';

const A = '910753614';
const B = '974760673';
const key = generateClientKey({ kid: 'express-objects' });
let sim: MaskinportenSimulator;
let api: RecordingApi;
let client: MaskinportenClient;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'gw', orgno: '991825827', scopes: ['api:read'], jwks: [key.publicJwk], systemUsers: [{ orgno: A }, { orgno: B }] }] });
  api = await startRecordingApi();
  client = createMaskinportenClient({ clientId: 'gw', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read' });
});
afterAll(async () => {
  await client.close();
  await Promise.all([sim.close(), api.close()]);
});

const customerOf = (token: string): string | undefined => {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { authorization_details?: { systemuser_org?: { ID?: string } }[] };
  return payload.authorization_details?.[0]?.systemuser_org?.ID;
};

async function serve(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('maskinporten() with a resolver that reuses one claims object', () => {
  it('two concurrent customers: each request gets its own customer\'s token, also from fetch after a 401', async () => {
    const shared: TokenRequest = { systemUser: { orgno: A } };
    const app = express();
    app.use(
      maskinporten({
        client,
        origins: [api.origin],
        claims: (req) => {
          (shared.systemUser as { orgno: string }).orgno = req.path.slice(1);
          return shared;
        },
      }),
    );
    app.get('/:orgno', async (req, res) => {
      // The handler awaits before it asks for the token, as handlers do: by then the resolver has
      // set the shared object to the other customer.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const token = await req.maskinporten!.getToken();
      // The API refuses the first token it sees for this customer, so fetch retries once.
      api.revoked.add(token.accessToken);
      const response = await req.maskinporten!.fetch(`${api.origin}/ok`);
      res.json({ token: customerOf(token.accessToken), status: response.status });
    });
    const server = await serve(app);
    try {
      const answer = (r: Response) => r.json() as Promise<{ token: string; status: number }>;
      const [a, b] = await Promise.all([fetch(`${server.url}/${A}`).then(answer), fetch(`${server.url}/${B}`).then(answer)]);
      expect(a.token).toBe(`0192:${A}`);
      expect(b.token).toBe(`0192:${B}`);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      // Every token sent to the API after a 401 was for a customer that asked for one, and each
      // customer's retry carried its own customer (the two requests' retries are both recorded).
      const retried = api.seen.filter((s) => s.authorization !== undefined).map((s) => customerOf(s.authorization!.slice(7)));
      expect(retried.filter((c) => c === `0192:${A}`).length).toBe(2);
      expect(retried.filter((c) => c === `0192:${B}`).length).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('options changed after maskinporten() was created change nothing', async () => {
    const options = { client, origins: [api.origin], request: { systemUser: { orgno: A } } as TokenRequest };
    const app = express();
    app.use(maskinporten(options));
    (options.request.systemUser as { orgno: string }).orgno = B;
    app.get('/', async (req, res) => res.json({ token: customerOf((await req.maskinporten!.getToken()).accessToken) }));
    const server = await serve(app);
    try {
      expect(await fetch(server.url).then((r) => r.json())).toEqual({ token: `0192:${A}` });
    } finally {
      await server.close();
    }
  });
});
