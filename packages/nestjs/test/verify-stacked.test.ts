// Requirement decorators stacked on one target: two @RequireMaskinportenScope or two
// @RequireMaskinportenToken on one handler, on one controller, on a controller and its handler, and
// on a controller that extends another. Every one applies, as two Express middlewares do; with
// Nest's SetMetadata the top one replaced the others. Real apps on both of Nest's HTTP platforms,
// on Nest 12 and Nest 11.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaskinportenTokenGuard, MaskinportenVerifierModule, RequireMaskinportenScope, RequireMaskinportenToken } from '@portvakt/nestjs/verify';
import { call, factory, fixedKeys } from './support.js';

const A = '974760673';
const B = '991825827';
const C = '910753614';

@Controller('handler')
class HandlerController {
  @Get('scopes')
  @RequireMaskinportenScope('nav:read')
  @RequireMaskinportenScope('nav:admin')
  scopes() {
    return { ok: true };
  }

  @Get('tokens')
  @RequireMaskinportenToken({ scope: 'nav:read' })
  @RequireMaskinportenToken({ consumers: [B] })
  tokens() {
    return { ok: true };
  }
}

@Controller('both')
@RequireMaskinportenScope('nav:base')
@RequireMaskinportenToken({ consumers: [A, B] })
class ControllerAndHandlerController {
  @Get('scopes')
  @RequireMaskinportenScope('nav:read')
  scopes() {
    return { ok: true };
  }

  @Get('tokens')
  @RequireMaskinportenToken({ consumers: [B, C] })
  tokens() {
    return { ok: true };
  }
}

@Controller('class')
@RequireMaskinportenScope('nav:read')
@RequireMaskinportenScope('nav:admin')
@RequireMaskinportenToken({ consumers: [A, B] })
@RequireMaskinportenToken({ consumers: [B, C] })
class TwiceOnTheClassController {
  @Get()
  get() {
    return { ok: true };
  }
}

@RequireMaskinportenScope('nav:read')
@RequireMaskinportenToken({ consumers: [A, B] })
class BaseController {
  @Get()
  get() {
    return { ok: true };
  }
}

@Controller('extended')
@RequireMaskinportenScope('nav:admin')
@RequireMaskinportenToken({ consumers: [B, C] })
class ExtendedController extends BaseController {}

@Module({
  imports: [MaskinportenVerifierModule.forRoot({ environment: fixedKeys })],
  controllers: [HandlerController, ControllerAndHandlerController, TwiceOnTheClassController, ExtendedController],
  providers: [{ provide: APP_GUARD, useClass: MaskinportenTokenGuard }],
})
class StackedModule {}

describe.each([
  ['the Express platform', () => undefined],
  ['the Fastify platform', () => new FastifyAdapter()],
])('stacked requirements on %s: every one applies', (_platform, adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [StackedModule] }).compile();
    const http = adapter();
    app = http === undefined ? moduleRef.createNestApplication({ logger: false }) : moduleRef.createNestApplication(http, { logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app.close());

  const status = async (path: string, scope: string, consumerOrgno?: string) => (await call(app, path, { token: await factory.mint(consumerOrgno === undefined ? { scope } : { scope, consumerOrgno }) })).status;

  it('two @RequireMaskinportenScope on one handler: both scopes are needed', async () => {
    const refused = await call(app, '/handler/scopes', { token: await factory.mint({ scope: 'nav:read' }) });
    expect(refused).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    expect(refused.wwwAuthenticate).toContain('scope="nav:read nav:admin"');
    expect(await status('/handler/scopes', 'nav:admin')).toBe(403);
    expect(await status('/handler/scopes', 'nav:read nav:admin')).toBe(200);
  });

  it('two @RequireMaskinportenToken on one handler: each is met on its own', async () => {
    expect(await status('/handler/tokens', 'nav:read', A)).toBe(403); // the review's case: consumer A with the scope
    expect((await call(app, '/handler/tokens', { token: await factory.mint({ scope: 'nav:read', consumerOrgno: A }) })).body).toMatchObject({ code: 'organization_not_allowed' });
    expect(await status('/handler/tokens', 'nav:other', B)).toBe(403);
    expect(await status('/handler/tokens', 'nav:read', B)).toBe(200);
  });

  it("a controller's and a handler's of each kind: both apply", async () => {
    expect(await status('/both/scopes', 'nav:read')).toBe(403);
    expect(await status('/both/scopes', 'nav:base')).toBe(403);
    expect(await status('/both/scopes', 'nav:base nav:read', A)).toBe(200);
    expect(await status('/both/tokens', 'nav:base', A)).toBe(403); // the controller lets A in, the handler does not
    expect(await status('/both/tokens', 'nav:base', C)).toBe(403); // the handler lets C in, the controller does not
    expect(await status('/both/tokens', 'nav:base', B)).toBe(200);
  });

  it('two of each kind on one controller: all apply to its handlers', async () => {
    expect(await status('/class', 'nav:read', B)).toBe(403);
    expect(await status('/class', 'nav:admin', B)).toBe(403);
    expect(await status('/class', 'nav:read nav:admin', A)).toBe(403);
    expect(await status('/class', 'nav:read nav:admin', C)).toBe(403);
    expect(await status('/class', 'nav:read nav:admin', B)).toBe(200);
  });

  it('a controller that extends another adds to what it inherits', async () => {
    expect(await status('/extended', 'nav:admin', B)).toBe(403);
    expect(await status('/extended', 'nav:read nav:admin', C)).toBe(403);
    expect(await status('/extended', 'nav:read nav:admin', A)).toBe(403);
    expect(await status('/extended', 'nav:read nav:admin', B)).toBe(200);
  });
});
