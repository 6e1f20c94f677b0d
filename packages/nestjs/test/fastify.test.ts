// @portvakt/nestjs on Nest's Fastify platform (@nestjs/platform-fastify), in real apps listening on
// 127.0.0.1: the token guard with its challenges and problem bodies, the claims as a parameter,
// MaskinportenExceptionFilter's answers (token failures and refused incoming tokens), and an
// outgoing call through MaskinportenHttpModule. The same file runs on Nest 12 and Nest 11.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import {
  getMaskinportenClientToken,
  MaskinportenExceptionFilter,
  MaskinportenHttpModule,
  MaskinportenModule,
} from '@portvakt/nestjs';
import { MaskinportenTokenGuard, MaskinportenVerifierModule } from '@portvakt/nestjs/verify';
import { call, CallController, Caller, CasesController, CUSTOMER, factory, fixedKeys } from './support.js';

const key = generateClientKey({ kid: 'nest-fastify-key' });
let sim: MaskinportenSimulator;
let api: RecordingApi;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'nest', orgno: '991825827', scopes: ['skatt:read'], jwks: [key.publicJwk] }] });
  api = await startRecordingApi();
});
afterAll(async () => {
  await Promise.all([sim.close(), api.close()]);
});
beforeEach(() => {
  api.seen.length = 0;
});

describe('on the Fastify platform', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    @Module({
      imports: [
        MaskinportenVerifierModule.forRoot({ environment: fixedKeys }),
        MaskinportenModule.forRoot({ isGlobal: true, clientId: 'nest', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'skatt:read', transport: { maxAttempts: 1 } }),
        MaskinportenHttpModule.register({ baseURL: api.origin }),
      ],
      controllers: [CasesController, CallController],
      providers: [
        Caller,
        { provide: APP_GUARD, useClass: MaskinportenTokenGuard },
        { provide: APP_FILTER, useClass: MaskinportenExceptionFilter },
      ],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app.close());

  it('runs on Fastify, with the platform package of the Nest major under test', async () => {
    expect(app.getHttpAdapter().getType()).toBe('fastify');
    const platform = (await import('@nestjs/platform-fastify/package.json', { with: { type: 'json' } })) as { default: { version: string } };
    expect(platform.default.version.split('.')[0]).toBe(process.env.PORTVAKT_NEST_MAJOR);
  });

  it('the guard lets a valid token through and hands its claims to the handler', async () => {
    const answer = await call(app, '/cases', { token: await factory.mint({ scope: 'nav:read', consumerOrgno: CUSTOMER }) });
    expect(answer).toMatchObject({ status: 200, body: { scopes: ['nav:read'], consumer: CUSTOMER } });
  });

  it('the guard answers no token with 401, a bare Bearer challenge and a problem body', async () => {
    const answer = await call(app, '/cases');
    expect(answer.status).toBe(401);
    expect(answer.wwwAuthenticate).toBe('Bearer');
    expect(answer.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: expect.any(String), code: 'token_missing' });
  });

  it('the guard answers a forged token with 401 invalid_token, without echoing it', async () => {
    const token = await factory.forge({ scope: 'nav:read' }, { signature: 'other-key' });
    const answer = await call(app, '/cases', { token });
    expect(answer).toMatchObject({ status: 401, body: { code: 'invalid_token' } });
    expect(answer.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="/);
    expect(JSON.stringify(answer)).not.toContain(token.slice(0, 30));
  });

  it('the guard answers a missing scope with 403 naming every required scope', async () => {
    const answer = await call(app, '/cases', { token: await factory.mint({ scope: 'nav:read' }), method: 'POST' });
    expect(answer).toMatchObject({ status: 403, body: { code: 'insufficient_scope', title: 'Forbidden' } });
    expect(answer.wwwAuthenticate).toBe('Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="nav:read nav:write"');
  });

  it('an outgoing call through MaskinportenHttpModule carries the token to the API', async () => {
    const answer = await call(app, '/call');
    expect(answer.status).toBe(200);
    expect(api.authorizations).toEqual([expect.stringMatching(/^Bearer ey/)]);
  });

  it('MaskinportenExceptionFilter answers token failures as problems with their own content type', async () => {
    // Drop the cached token, so the next call has to fetch one.
    const client = app.get<MaskinportenClient>(getMaskinportenClientToken());
    client.invalidate(await client.getToken());
    sim.inject({ kind: 'status', status: 503 });
    const down = await call(app, '/call');
    expect(down).toMatchObject({ status: 503, body: { status: 503, code: 'maskinporten_unavailable' } });
    expect(down.contentType).toMatch(/^application\/problem\+json/);
    sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_scope', error_description: 'MP-200 scope not allowed' } });
    const rejected = await call(app, '/call');
    expect(rejected).toMatchObject({ status: 502, body: { code: 'maskinporten_rejected', mpCode: 'MP-200' } });
    expect((await call(app, '/call')).status).toBe(200);
  });
});
