// MaskinportenTokenGuard with NAIS Texas' introspection verifier (MaskinportenVerifierModule.forRoot
// and forRootAsync with { verifier }), in real Nest apps on both platforms against the simulator's
// Texas on 127.0.0.1: a valid token 200, an inactive one 401 invalid_token, a wrong scope 403
// insufficient_scope, and 1,000 concurrent requests with one token making 1 introspection.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskinportenVerifier } from '@portvakt/verify';
import type { MaskinportenTokenClaims, MaskinportenVerifier } from '@portvakt/verify';
import { MASKINPORTEN_VERIFIER, MaskinportenToken, MaskinportenTokenGuard, MaskinportenVerifierModule, RequireMaskinportenScope } from '@portvakt/nestjs/verify';
import { getWith, INACTIVE, startTexasWorld, TEXAS_CUSTOMER, WRONG_SCOPE } from '../../verify/test/texas-support.js';
import type { TexasWorld } from '../../verify/test/texas-support.js';

let world: TexasWorld;
beforeAll(async () => {
  world = await startTexasWorld();
});
afterAll(() => world.close());

@Controller()
class CasesController {
  @Get('read')
  read(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return { consumer: token.consumerOrg };
  }

  @Get('write')
  @RequireMaskinportenScope('nav:write')
  write(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return { consumer: token.consumerOrg };
  }
}

async function start(verifierModule: unknown, fastify: boolean): Promise<{ app: INestApplication; origin: string }> {
  @Module({ imports: [verifierModule as never], controllers: [CasesController], providers: [{ provide: APP_GUARD, useClass: MaskinportenTokenGuard }] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = fastify ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, origin: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe.each([
  ['forRoot({ verifier }), Express platform', false, () => MaskinportenVerifierModule.forRoot({ verifier: world.verifier })],
  ['forRootAsync({ useFactory: () => ({ verifier }) }), Fastify platform', true, () => MaskinportenVerifierModule.forRootAsync({ useFactory: () => ({ verifier: world.verifier }) })],
])('%s', (_name, fastify, verifierModule) => {
  let app: INestApplication;
  let origin: string;
  beforeAll(async () => {
    ({ app, origin } = await start(verifierModule(), fastify));
  });
  afterAll(() => app.close());

  it('provides the verifier it was given', () => {
    expect(app.get<MaskinportenVerifier>(MASKINPORTEN_VERIFIER)).toBe(world.verifier);
  });

  it('a valid token: 200 with its claims', async () => {
    const res = await fetch(`${origin}/read`, { headers: { authorization: `Bearer ${await world.token()}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ consumer: TEXAS_CUSTOMER });
  });

  it('an inactive token: 401 invalid_token', async () => {
    expect(await getWith(`${origin}/read`, await world.foreignToken())).toEqual(INACTIVE);
  });

  it('a wrong scope: 403 insufficient_scope', async () => {
    expect(await getWith(`${origin}/write`, await world.token('nav:read'))).toEqual(WRONG_SCOPE);
  });

  // Once per run (the Express platform): 1,000 connections take seconds.
  it.skipIf(fastify)('1,000 concurrent requests with one token: 1 introspection', async () => {
    const token = await world.token();
    const before = world.introspections();
    const statuses = await Promise.all(Array.from({ length: 1000 }, async () => (await fetch(`${origin}/read`, { headers: { authorization: `Bearer ${token}` } })).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(world.introspections()).toBe(before + 1);
  });
});

describe('MaskinportenVerifierModule.forRoot({ verifier })', () => {
  it('refuses something that is not a verifier, and verifier options beside a verifier, at boot', async () => {
    const boot = async (options: unknown) => {
      const moduleRef = await Test.createTestingModule({ imports: [MaskinportenVerifierModule.forRoot(options as never)] }).compile().catch((error: unknown) => error);
      return moduleRef as Error & { field?: string };
    };
    expect(await boot({ verifier: {} })).toMatchObject({ field: 'verifier' });
    expect(await boot({ verifier: createMaskinportenVerifier({ environment: 'test' }), scope: 'nav:read' })).toMatchObject({ field: 'scope' });
  });
});
