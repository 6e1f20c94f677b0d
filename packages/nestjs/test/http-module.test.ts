import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import request from 'supertest';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateClientKey, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { MaskinportenExceptionFilter, MaskinportenHttpModule, MaskinportenModule } from '@portvakt/nestjs';
import { CallController, Caller } from './support.js';

const key = generateClientKey({ kid: 'nest-http-key' });
let sim: MaskinportenSimulator;
let api: RecordingApi;
let foreign: RecordingApi;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'nest', orgno: '991825827', scopes: ['skatt:read'], jwks: [key.publicJwk] }] });
  [api, foreign] = await Promise.all([startRecordingApi(), startRecordingApi()]);
});
afterAll(async () => {
  await Promise.all([sim.close(), api.close(), foreign.close()]);
});
beforeEach(() => {
  api.seen.length = 0;
  foreign.seen.length = 0;
});

const clientModule = () => MaskinportenModule.forRoot({ isGlobal: true, clientId: 'nest', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'skatt:read' });

async function caller() {
  @Module({ imports: [clientModule(), MaskinportenHttpModule.register({ baseURL: api.origin })], providers: [Caller] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await moduleRef.init();
  return { caller: moduleRef.get(Caller), close: () => moduleRef.close() };
}

describe('MaskinportenHttpModule against an API that answers 401 for ever', () => {
  it('each call settles after 2 API calls and 1 new token', async () => {
    const { caller: c, close } = await caller();
    try {
      await c.get('/ok');
      for (let call = 1; call <= 5; call++) {
        const tokens = sim.tokenRequestCount();
        const seen = api.seen.length;
        await expect(c.get('/status/401')).rejects.toMatchObject({ response: { status: 401 } });
        expect(api.seen.length - seen).toBe(2);
        expect(sim.tokenRequestCount() - tokens).toBe(1);
      }
    } finally {
      await close();
    }
  });

  it('a redirect to a foreign origin that answers 401: no token there, no new token', async () => {
    const { caller: c, close } = await caller();
    try {
      await c.get('/ok');
      const tokens = sim.tokenRequestCount();
      const to = encodeURIComponent(`${foreign.origin}/status/401`);
      for (let call = 1; call <= 3; call++) await expect(c.get(`/redirect/302?to=${to}`)).rejects.toMatchObject({ response: { status: 401 } });
      expect(foreign.authorizations).toEqual([undefined, undefined, undefined]);
      expect(sim.tokenRequestCount()).toBe(tokens);
    } finally {
      await close();
    }
  });
});

describe('the Nest under test', () => {
  it('is the major this run is for (12 by default, 11 with vitest.nest11.config.ts)', async () => {
    const core = (await import('@nestjs/core/package.json', { with: { type: 'json' } })) as { default: { version: string } };
    const common = (await import('@nestjs/common/package.json', { with: { type: 'json' } })) as { default: { version: string } };
    expect(core.default.version.split('.')[0]).toBe(process.env.PORTVAKT_NEST_MAJOR);
    expect(common.default.version.split('.')[0]).toBe(process.env.PORTVAKT_NEST_MAJOR);
  });
});

describe('a missing client', () => {
  it('names isGlobal and the import instead of Nest\'s "can\'t resolve dependencies"', async () => {
    @Module({ imports: [MaskinportenHttpModule.register({ baseURL: 'https://api.example.no' })], providers: [Caller] })
    class Forgotten {}
    const error = await Test.createTestingModule({ imports: [Forgotten] }).compile().then(() => undefined, (e: unknown) => e);
    expect(String(error)).toMatch(/no Maskinporten client "default"/);
    expect(String(error)).toMatch(/isGlobal: true/);
    expect(String(error)).toMatch(/import that MaskinportenModule/);
  });

  it('names the client by its name when a named one is missing', async () => {
    @Module({ imports: [clientModule(), MaskinportenHttpModule.registerAsync({ client: 'skatt', useFactory: () => ({ baseURL: 'https://api.example.no' }) })], providers: [Caller] })
    class WrongName {}
    const error = await Test.createTestingModule({ imports: [WrongName] }).compile().then(() => undefined, (e: unknown) => e);
    expect(String(error)).toMatch(/no Maskinporten client "skatt".*name: 'skatt'/);
  });
});

describe('MaskinportenExceptionFilter', () => {
  it('answers a token failure as the Express adapter does: a problem with status, code and MP code, no secret', async () => {
    const module = (scope: string) => MaskinportenModule.forRoot({ isGlobal: true, clientId: 'nest', environment: sim.environment(), key: { jwk: key.privateJwk }, scope, transport: { maxAttempts: 1 } });
    @Module({
      imports: [module('skatt:read'), MaskinportenHttpModule.register({ baseURL: api.origin })],
      controllers: [CallController],
      providers: [Caller, { provide: APP_FILTER, useClass: MaskinportenExceptionFilter }],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      sim.inject({ kind: 'status', status: 503 });
      const down = await request(app.getHttpServer()).get('/call').expect(503);
      expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(down.body).toMatchObject({ status: 503, code: 'maskinporten_unavailable' });
      sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_scope', error_description: 'MP-200 scope not allowed' } });
      const rejected = await request(app.getHttpServer()).get('/call').expect(502);
      expect(rejected.body).toMatchObject({ status: 502, code: 'maskinporten_rejected', mpCode: 'MP-200' });
      await request(app.getHttpServer()).get('/call').expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('MaskinportenExceptionFilter and verification errors', () => {
  it('answers a refused incoming token with its own status and challenge, not as a token failure', async () => {
    const { InsufficientScopeError } = await import('@portvakt/verify');
    @Controller('guarded')
    class GuardedController {
      @Get()
      guarded() {
        throw new InsufficientScopeError(['nav:aareg'], ['nav:aareg']);
      }
    }
    @Module({ controllers: [GuardedController], providers: [{ provide: APP_FILTER, useClass: MaskinportenExceptionFilter }] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const res = await request(app.getHttpServer()).get('/guarded').expect(403);
      expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
      expect(res.body).toMatchObject({ status: 403, code: 'insufficient_scope' });
    } finally {
      await app.close();
    }
  });
});
