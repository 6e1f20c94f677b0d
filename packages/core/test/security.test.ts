import util from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyError, PortvaktError, createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { clientFor, key, startSim } from './client/harness.js';

const CANARY_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJjYW5hcnkiOiJ0b2tlbiJ9.Y2FuYXJ5LXNpZ25hdHVyZQ';
const CANARY_GRANT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImNhbmFyeSJ9.eyJncmFudCI6ImNhbmFyeSJ9.Z3JhbnQtY2FuYXJ5';

let sim: MaskinportenSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

function everyView(value: unknown): string {
  const err = value as Error;
  return [String(err), err.stack ?? '', JSON.stringify(err), util.inspect(err, { depth: Infinity, showHidden: true })].join('\n');
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('no token, grant or key in errors', () => {
  it.each([
    ['an OAuth error that echoes the grant and a token', { kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: `MP-130 bad grant ${CANARY_GRANT} token ${CANARY_TOKEN}` } }],
    ['a success body with a token but a bad expires_in', { kind: 'status', status: 200, body: { access_token: CANARY_TOKEN, token_type: 'Bearer', expires_in: 'soon' } }],
    ['a 5xx whose body holds a token', { kind: 'status', status: 500, body: { access_token: CANARY_TOKEN } }],
    ['a redirect carrying a token in its URL', { kind: 'redirect', status: 302, location: `http://127.0.0.1:9/cb#access_token=${CANARY_TOKEN}` }],
  ] as const)('%s', async (_name, fault) => {
    const client = clientFor(sim, { transport: { maxAttempts: 1 } });
    sim.inject(fault);
    const err = await failure(() => client.getToken({ scope: 'e' }));
    expect(err).toBeInstanceOf(PortvaktError);
    const views = everyView(err);
    expect(views).not.toContain(CANARY_TOKEN);
    expect(views).not.toContain(CANARY_GRANT);
    expect(views).not.toContain(String(key.privateJwk.d));
    // and the real grant that was sent is not there either
    const sent = sim.requests.at(-1)?.grant;
    expect(sent).toBeDefined();
    expect(views).not.toContain(String(sent?.claims.jti));
    await client.close();
  });

  it('keeps key material out of key errors', () => {
    const jwk = { ...key.privateJwk, n: 'AQAB', kid: 'k' };
    let err: unknown;
    try {
      createMaskinportenClient({ clientId: 'c', environment: 'test', key: { jwk } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KeyError);
    expect(everyView(err)).not.toContain(String(key.privateJwk.d));
  });

  it('keeps the token out of the token object, the client and their JSON', async () => {
    const client = clientFor(sim);
    const token = await client.getToken();
    const views = [String(token), `${token}`, JSON.stringify(token), JSON.stringify({ token }), util.inspect(token, { depth: Infinity, showHidden: true }), util.inspect({ token }), JSON.stringify({ ...token }), util.inspect(client, { depth: Infinity }), JSON.stringify(client)].join('\n');
    expect(views).not.toContain(token.accessToken);
    expect(views).not.toContain(String(key.privateJwk.d));
    expect(views).toContain('Bearer');
    await client.close();
  });
});
