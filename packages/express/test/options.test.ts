// Every options object refuses keys it does not know, at construction, naming the field and the fix.
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { maskinporten, maskinportenProxy } from '@portvakt/express';
import { startMaskinporten, startRecordingServer } from './support.js';
import type { Maskinporten, RecordingServer } from './support.js';

let mp: Maskinporten;
let client: MaskinportenClient;
let upstream: RecordingServer;

beforeAll(async () => {
  mp = await startMaskinporten();
  client = mp.newClient();
  upstream = await startRecordingServer();
});
afterAll(async () => {
  await upstream.close();
  await mp.close();
});

const target = 'https://api.example.no';

function refusal(create: () => unknown): ConfigurationError {
  try {
    create();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('unknown option keys are refused at construction', () => {
  it.each([
    ['maskinporten: scopes', () => maskinporten({ client, scopes: 'api:read' } as never), 'scopes', 'did you mean "scope"?'],
    ['maskinporten: origin', () => maskinporten({ client, origin: [target] } as never), 'origin', 'did you mean "origins"?'],
    ['maskinporten: onerror', () => maskinporten({ client, onerror: () => undefined } as never), 'onerror', 'did you mean "onError"?'],
    ['maskinporten: request.consumer_org', () => maskinporten({ client, request: { consumer_org: '910753614' } } as never), 'request.consumer_org', 'did you mean "consumerOrg"?'],
    ['maskinporten: request.systemUser.orgNr', () => maskinporten({ client, request: { systemUser: { orgNr: '910753614' } } } as never), 'request.systemUser.orgNr', 'did you mean "orgno"?'],
    ['maskinporten: something unlike any option', () => maskinporten({ client, verbose: true } as never), 'verbose', 'the options here are client, scope'],
    ['proxy: scopes', () => maskinportenProxy({ target, client, scopes: ['api:read'] } as never), 'scopes', 'did you mean "scope"?'],
    ['proxy: targets', () => maskinportenProxy({ target, client, targets: target } as never), 'targets', 'did you mean "target"?'],
    ['proxy: request.resources', () => maskinportenProxy({ target, client, request: { resources: 'x' } } as never), 'request.resources', 'did you mean "resource"?'],
    ['proxy: proxy.pathRewrites', () => maskinportenProxy({ target, client, proxy: { pathRewrites: { '^/': '/' } } } as never), 'proxy.pathRewrites', 'did you mean "pathRewrite"?'],
    ['proxy: proxy.timeOut', () => maskinportenProxy({ target, client, proxy: { timeOut: 1000 } } as never), 'proxy.timeOut', 'did you mean "timeout"?'],
    ['proxy: proxy.on.proxyReqq', () => maskinportenProxy({ target, client, proxy: { on: { proxyReqq: () => undefined } } } as never), 'proxy.on.proxyReqq', 'did you mean "proxyReq"?'],
    ['proxy: proxy.target', () => maskinportenProxy({ target, client, proxy: { target: 'https://other.example.no' } } as never), 'proxy.target', 'top-level `target`'],
    ['proxy: onError not a function', () => maskinportenProxy({ target, client, onError: 'log' } as never), 'onError', 'must be a function'],
  ])('%s', (_name, create, field, fix) => {
    const error = refusal(create);
    expect(error.field).toBe(field);
    expect(error.message).toContain(fix);
  });

  it('accepts every documented option', () => {
    expect(() => maskinporten({ client, scope: 'api:read', request: { consumerOrg: '910753614' }, claims: () => ({}), origins: [target], onError: () => undefined })).not.toThrow();
    expect(() =>
      maskinportenProxy({
        target,
        client,
        scope: 'api:read',
        request: { systemUser: { orgno: '910753614', externalRef: 'x' } },
        claims: () => ({}),
        onError: () => undefined,
        proxy: { pathRewrite: { '^/': '/api/' }, timeout: 30_000, proxyTimeout: 30_000, headers: { 'x-a': '1' }, xfwd: true, on: { proxyRes: () => undefined } },
      }),
    ).not.toThrow();
  });
});

describe('unknown claims from a resolver are refused per request', () => {
  it('answers 400 invalid_claims and tells onError which claim was unknown', async () => {
    const received: ConfigurationError[] = [];
    const app = express();
    const onError = (error: Error) => void received.push(error as ConfigurationError);
    app.use('/p/:orgno', maskinportenProxy({ target: upstream.origin, client, claims: (req) => ({ systemuser: { orgno: req.params.orgno } }) as never, onError }));
    const res = await request(app).get('/p/910753614/x').expect(400);
    expect(res.body.code).toBe('invalid_claims');
    expect(received.map((e) => [e.field, e.message.includes('did you mean "systemUser"?')])).toEqual([['claims.systemuser', true]]);
    expect(upstream.seen).toEqual([]);
  });
});
