// MaskinportenTokenGuard against the shared table of answers (the same the Express middleware and
// the Fastify plugin give), on both of Nest's HTTP platforms, in real apps on 127.0.0.1: every
// requirement declared with @RequireMaskinportenToken, functions of the request included, and
// nothing refused remembered. The same file runs on Nest 12 and Nest 11.
import 'reflect-metadata';
import { inspect } from 'node:util';
import { Controller, Get, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaskinportenTokenClaims, MaskinportenVerifier } from '@portvakt/verify';
import { MASKINPORTEN_VERIFIER, MaskinportenToken, MaskinportenTokenGuard, MaskinportenVerifierModule, RequireMaskinportenToken } from '@portvakt/nestjs/verify';
import { CASES, environment, expectedAnswer, okBody, REMEMBERED_AFTER_CASES, ROUTES, send } from '../../verify/test/http-cases.js';

@Controller()
class TableController {
  @Get('plain')
  @RequireMaskinportenToken(ROUTES['/plain'])
  plain(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('scope')
  @RequireMaskinportenToken(ROUTES['/scope'])
  scope(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('consumers')
  @RequireMaskinportenToken(ROUTES['/consumers'])
  consumers(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('audience')
  @RequireMaskinportenToken(ROUTES['/audience'])
  audience(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('pid')
  @RequireMaskinportenToken(ROUTES['/pid'])
  pid(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('persons/:pid')
  @RequireMaskinportenToken(ROUTES['/persons/:pid'])
  person(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('consent')
  @RequireMaskinportenToken(ROUTES['/consent'])
  consent(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('system-user')
  @RequireMaskinportenToken(ROUTES['/system-user'])
  systemUser(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }

  @Get('policy/:orgno')
  @RequireMaskinportenToken(ROUTES['/policy/:orgno'])
  policy(@MaskinportenToken() token: MaskinportenTokenClaims) {
    return okBody(token);
  }
}

@Module({
  imports: [MaskinportenVerifierModule.forRoot({ environment })],
  controllers: [TableController],
  providers: [{ provide: APP_GUARD, useClass: MaskinportenTokenGuard }],
})
class TableModule {}

describe.each([
  ['the Express platform', () => undefined],
  ['the Fastify platform', () => new FastifyAdapter()],
])('on %s', (_platform, adapter) => {
  let app: INestApplication;
  let origin: string;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [TableModule] }).compile();
    const http = adapter();
    app = http === undefined ? moduleRef.createNestApplication({ logger: false }) : moduleRef.createNestApplication(http, { logger: false });
    await app.listen(0, '127.0.0.1');
    origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app.close());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await send(origin, c)).toEqual(expectedAnswer(c));
  });

  it('remembers only the accepted tokens', async () => {
    const verifier = app.get<MaskinportenVerifier>(MASKINPORTEN_VERIFIER);
    const before = Number(/remembered tokens: (\d+)/.exec(inspect(verifier))?.[1]);
    for (const c of CASES) await send(origin, c);
    expect(Number(/remembered tokens: (\d+)/.exec(inspect(verifier))?.[1])).toBe(before + REMEMBERED_AFTER_CASES);
  });
});

describe('@RequireMaskinportenToken() options', () => {
  it('refuses bad requirements when the class is defined, and copies what it is given', () => {
    expect(() => RequireMaskinportenToken({ pid: 'someone' })).toThrow(expect.objectContaining({ field: '@RequireMaskinportenToken pid' }));
    expect(() => RequireMaskinportenToken({ organizationPolicy: 'yes' as never })).toThrow(expect.objectContaining({ field: '@RequireMaskinportenToken organizationPolicy' }));
    expect(() => RequireMaskinportenToken({ consent: { resource: 'x', metadata: { year: 1 } } as never })).toThrow(expect.objectContaining({ field: '@RequireMaskinportenToken consent.metadata' }));
    expect(() => RequireMaskinportenToken({ pid: (req) => req.params.pid })).not.toThrow();
  });
});
