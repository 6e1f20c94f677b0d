// The redaction of Node's request objects that the HTTP client adapters (Axios, got) share: real
// requests to a server on 127.0.0.1, redacted once they are over.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import util from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containsSecret,
  hideProperty,
  REDACTED,
  redactClientRequest,
  redactSentClientRequest,
  scrubHeaderObject,
  scrubSecrets,
  secretsOf,
  sweepSecrets,
} from '@portvakt/core/internal';

const TOKEN = `eyJhbGciOiJSUzI1NiJ9.${'x'.repeat(600)}.signature`;
const AUTHORIZATION = `Bearer ${TOKEN}`;
const SECRETS = secretsOf([{ authorization: AUTHORIZATION, accessToken: TOKEN }]);

let server: http.Server;
let origin: string;
beforeAll(async () => {
  server = http.createServer((req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** A request sent with the header, and its response read to the end. */
async function sent(headers: Record<string, string>): Promise<{ request: http.ClientRequest; response: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${origin}/`, { headers, agent: new http.Agent({ keepAlive: true }) }, (response) => {
      response.resume();
      response.on('end', () => resolve({ request, response }));
    });
    request.on('error', reject);
  });
}

const headerMapOf = (request: object) => (request as Record<symbol, Record<string, [string, string]>>)[Object.getOwnPropertySymbols(request).find((s) => s.description === 'kOutHeaders')!]!;
const headerBlockOf = (request: object) => (request as { _header: string })._header;

describe("a Node request's header block and header map", () => {
  it('are redacted by compare when the header is where Node keeps it, under the name it was set with', async () => {
    for (const name of ['Authorization', 'authorization']) {
      const { request } = await sent({ [name]: AUTHORIZATION });
      expect(headerBlockOf(request)).toContain(TOKEN);
      expect(redactSentClientRequest(request, AUTHORIZATION, name)).toBe(true);
      expect(headerBlockOf(request)).toContain(`\r\n${name}: ${REDACTED}\r\n`);
      expect(headerMapOf(request).authorization).toEqual([name, REDACTED]);
      expect(util.inspect(request, { showHidden: true, depth: 3 })).not.toContain(TOKEN);
      request.destroy();
    }
  });

  it('answer false for another value or another name, and the scan then removes every secret', async () => {
    const { request } = await sent({ authorization: AUTHORIZATION, 'x-copy': TOKEN });
    expect(redactSentClientRequest(request, AUTHORIZATION)).toBe(false); // set as 'authorization', asked as 'Authorization'
    expect(redactSentClientRequest(request, 'Bearer other', 'authorization')).toBe(false);
    expect(redactSentClientRequest({}, AUTHORIZATION)).toBe(false);
    redactClientRequest(request, SECRETS, false);
    expect(headerBlockOf(request)).not.toContain(TOKEN);
    expect(headerMapOf(request)['x-copy']).toEqual(['x-copy', REDACTED]);
    request.destroy();
  });

  it('with hideLinks, the socket and agent of the request and of its response are no longer walked into', async () => {
    const { request, response } = await sent({ authorization: AUTHORIZATION });
    redactClientRequest(request, SECRETS, true);
    for (const [holder, key] of [[request, 'socket'], [request, 'agent'], [response, 'socket'], [response, 'client']] as const) {
      // Node 24 keeps some of these behind accessors, which are not walked into anyway.
      expect(Object.getOwnPropertyDescriptor(holder, key)?.enumerable ?? false, key).toBe(false);
    }
    expect((request as unknown as { agent: unknown }).agent).toBeInstanceOf(http.Agent); // still readable
    request.destroy();
  });
});

describe('the sweep', () => {
  it('replaces every reachable copy, in objects, arrays and Maps, and enters no shared emitter', () => {
    const shared = Object.assign(new EventEmitter(), { header: AUTHORIZATION });
    const frozen = Object.freeze({ header: AUTHORIZATION });
    const root: Record<string, unknown> = {
      text: `token: ${TOKEN}`,
      nested: { list: ['x', AUTHORIZATION], map: new Map<string, unknown>([['a', TOKEN], ['b', { deep: TOKEN }]]) },
      shared,
      frozen,
      bytes: Buffer.from(TOKEN),
    };
    root.self = root;
    sweepSecrets(root, SECRETS);
    expect(root.text).toBe(`token: ${REDACTED}`);
    const nested = root.nested as { list: string[]; map: Map<string, unknown> };
    expect(nested.list).toEqual(['x', REDACTED]);
    expect(nested.map.get('a')).toBe(REDACTED);
    expect(nested.map.get('b')).toEqual({ deep: REDACTED });
    expect(Buffer.from(root.bytes as Buffer).toString()).toBe(TOKEN); // bytes are not text: left as they are
    expect(shared.header).toBe(AUTHORIZATION); // another request's, maybe: left alone
    expect(frozen.header).toBe(AUTHORIZATION); // not writable
  });
});

describe('the small parts', () => {
  it('find, scrub, hide and clear header objects', () => {
    expect(SECRETS).toEqual([AUTHORIZATION, TOKEN]);
    expect(containsSecret(`a ${TOKEN} b`, SECRETS)).toBe(true);
    expect(containsSecret('nothing here', SECRETS)).toBe(false);
    expect(scrubSecrets(`${AUTHORIZATION} and ${TOKEN}`, SECRETS)).toBe(`${REDACTED} and ${REDACTED}`);
    const headers = { authorization: AUTHORIZATION, accept: 'application/json', count: 1 };
    scrubHeaderObject(headers, SECRETS);
    expect(headers).toEqual({ authorization: REDACTED, accept: 'application/json', count: 1 });
    scrubHeaderObject(undefined, SECRETS);
    const target = { visible: 1 };
    Object.defineProperty(target, 'fixed', { value: 2, enumerable: true, configurable: false });
    hideProperty(target, 'visible');
    hideProperty(target, 'fixed');
    hideProperty(null, 'visible');
    expect(Object.keys(target)).toEqual(['fixed']);
    expect((target as { visible: number }).visible).toBe(1);
  });
});
