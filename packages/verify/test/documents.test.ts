// Key sets and metadata documents that are wrong in one way each, served by a real HTTP server on
// 127.0.0.1: none of them is used, and the failure is a 503 naming what was wrong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier } from '@portvakt/verify';
import { sendJson, startServer } from '../../core/test/transport/http-server.js';
import type { TestServer } from '../../core/test/transport/http-server.js';
import { rejectionOf } from './support.js';

const factory = createTokenFactory({ issuer: 'https://idp.example/' });
const rsa = factory.jwks.keys[0] as Record<string, unknown>;
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

async function failureWith(serve: Parameters<typeof sendJson>[2], status = 200, headers: Record<string, string> = {}) {
  server.handler = (_req, res) => sendJson(res, status, serve, headers);
  const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwksUri: server.url('/jwk') } });
  return rejectionOf(verifier.verify(await factory.mint()));
}

describe('key sets that are not used', () => {
  it.each([
    ['a redirect', {}, 302, { location: 'https://evil.example/jwk' }, /redirect/],
    ['a 404', { error: 'not found' }, 404, {}, /HTTP 404/],
    ['an array', [rsa], 200, {}, /not a JSON object/],
    ['no keys array', { key: rsa }, 200, {}, /no "keys" array/],
    ['only an EC key', { keys: [{ kty: 'EC', crv: 'P-256', kid: 'ec', x: 'x', y: 'y' }] }, 200, {}, /no usable RSA signing key/],
    ['only a 1024-bit RSA key', { keys: [{ ...rsa, n: String(rsa.n).slice(0, 171) }] }, 200, {}, /no usable/],
    ['only an encryption key', { keys: [{ ...rsa, use: 'enc' }] }, 200, {}, /no usable/],
    ['only a PS256 key', { keys: [{ ...rsa, alg: 'PS256' }] }, 200, {}, /no usable/],
    ['only a key without kid', { keys: [{ ...rsa, kid: undefined }] }, 200, {}, /no usable/],
    ['only a private key', { keys: [{ ...rsa, d: 'secret' }] }, 200, {}, /no usable/],
    ['a body over 128 KiB', { keys: [rsa], padding: 'x'.repeat(140 * 1024) }, 200, {}, /larger than/],
  ] as const)('%s', async (_name, body, status, headers, message) => {
    const error = await failureWith(body, status, headers);
    expect(error).toMatchObject({ code: 'ERR_PORTVAKT_KEY_SET_UNAVAILABLE', status: 503 });
    expect(String((error.cause as Error).message)).toMatch(message);
  });

  it('skips unusable keys beside a usable one, and keeps the first of two keys with one kid', async () => {
    const impostor = createTokenFactory({ issuer: factory.issuer });
    server.handler = (_req, res) => sendJson(res, 200, { keys: [null, { kty: 'EC', kid: 'ec' }, rsa, { ...impostor.jwks.keys[0], kid: rsa.kid }] });
    const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwksUri: server.url('/jwk') } });
    await expect(verifier.verify(await factory.mint())).resolves.toBeTruthy();
    await expect(verifier.verify(await impostor.forge({}, { header: { kid: factory.kid } }))).rejects.toMatchObject({ reason: 'bad_signature' });
  });

  it('a key set that is too slow times out', async () => {
    server.handler = () => undefined; // never answers
    const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwksUri: server.url('/jwk') }, keySet: { timeout: 100 } });
    const error = await rejectionOf(verifier.verify(await factory.mint()));
    expect(error.cause).toMatchObject({ code: 'ERR_PORTVAKT_TIMEOUT', timeoutMs: 100 });
  });

  it('a server that is not there', async () => {
    const gone = await startServer();
    const url = gone.url('/jwk');
    await gone.close();
    const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwksUri: url } });
    expect((await rejectionOf(verifier.verify(await factory.mint()))).cause).toMatchObject({ code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' });
  });
});

describe('metadata documents that are not used', () => {
  it.each([
    ['no jwks_uri', { issuer: 'https://idp.example/' }, /"jwks_uri"/],
    ['a plain-http jwks_uri off loopback', { issuer: 'https://idp.example/', jwks_uri: 'http://idp.example/jwk' }, /"jwks_uri".*https/],
    ['no issuer', { jwks_uri: 'https://idp.example/jwk' }, /"issuer"/],
  ])('%s', async (_name, metadata, message) => {
    server.handler = (_req, res) => sendJson(res, 200, metadata);
    const verifier = createMaskinportenVerifier({ environment: { metadataUrl: server.url('/.well-known/oauth-authorization-server') } });
    const error = await rejectionOf(verifier.verify(await factory.mint()));
    expect(error).toMatchObject({ status: 503 });
    expect(String((error.cause as Error).message)).toMatch(message);
  });
});
