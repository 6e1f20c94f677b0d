// MaskinportenTokenGuard and its decorators in real Nest apps (Express platform) listening on
// 127.0.0.1: global and per-controller use, requirements of controllers and handlers adding up,
// the claims as a parameter, RFC 6750 answers with problem bodies, and the module's configuration.
// The Fastify platform is tested in fastify.test.ts.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import type { MaskinportenVerifier } from '@portvakt/verify';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { MaskinportenExceptionFilter } from '@portvakt/nestjs';
import {
  InjectMaskinportenVerifier,
  MASKINPORTEN_VERIFIER,
  MaskinportenToken,
  MaskinportenTokenGuard,
  MaskinportenVerifierModule,
  RequireMaskinportenScope,
  RequireMaskinportenToken,
} from '@portvakt/nestjs/verify';
import type { MaskinportenVerifierOptionsFactory } from '@portvakt/nestjs/verify';
import { call, CasesController, CUSTOMER, factory, fixedKeys, OpenController } from './support.js';

@Injectable()
class VerifierUser {
  readonly verifier: MaskinportenVerifier;
  constructor(@InjectMaskinportenVerifier() verifier: MaskinportenVerifier) {
    this.verifier = verifier;
  }
}

async function start(module: unknown): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module as never] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('MaskinportenTokenGuard as a global guard', () => {
  let app: INestApplication;
  beforeAll(async () => {
    @Module({
      imports: [MaskinportenVerifierModule.forRoot({ environment: fixedKeys })],
      controllers: [CasesController, OpenController],
      providers: [
        { provide: APP_GUARD, useClass: MaskinportenTokenGuard },
        // Portvakt's filter for token failures on outgoing calls must not swallow the guard's answers.
        { provide: APP_FILTER, useClass: MaskinportenExceptionFilter },
        VerifierUser,
      ],
    })
    class AppModule {}
    app = await start(AppModule);
  });
  afterAll(() => app.close());

  it('lets a valid token through and hands its claims to the handler', async () => {
    const answer = await call(app, '/cases', { token: await factory.mint({ scope: 'nav:read', consumerOrgno: CUSTOMER }) });
    expect(answer).toMatchObject({ status: 200, body: { scopes: ['nav:read'], consumer: CUSTOMER } });
  });

  it('answers no token with 401, a bare Bearer challenge and a problem body', async () => {
    const answer = await call(app, '/cases');
    expect(answer.status).toBe(401);
    expect(answer.wwwAuthenticate).toBe('Bearer');
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: expect.any(String), code: 'token_missing' });
  });

  it.each([
    ['expired', () => factory.mint({ scope: 'nav:read' }, { now: Date.now() - 600_000 })],
    ['alg none', () => factory.forge({ scope: 'nav:read' }, { header: { alg: 'none' }, signature: 'none' })],
    ['signed by another key', () => factory.forge({ scope: 'nav:read' }, { signature: 'other-key' })],
    ['from another issuer', () => factory.mint({ scope: 'nav:read', iss: 'https://maskinporten.no/' })],
  ])('answers an %s token with 401 invalid_token', async (_name, make) => {
    const token = await make();
    const answer = await call(app, '/cases', { token });
    expect(answer).toMatchObject({ status: 401, body: { code: 'invalid_token', status: 401 } });
    expect(answer.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="/);
    expect(JSON.stringify(answer.body)).not.toContain(token.slice(0, 30));
  });

  it("adds the handler's scope to the controller's: 403 naming both", async () => {
    const readOnly = await factory.mint({ scope: 'nav:read' });
    const refused = await call(app, '/cases', { token: readOnly, method: 'POST' });
    expect(refused).toMatchObject({ status: 403, body: { code: 'insufficient_scope', title: 'Forbidden' } });
    expect(refused.wwwAuthenticate).toBe('Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="nav:read nav:write"');
    const writeOnly = await factory.mint({ scope: 'nav:write' });
    expect((await call(app, '/cases', { token: writeOnly, method: 'POST' })).status).toBe(403); // the controller's nav:read too
    const both = await factory.mint({ scope: 'nav:write nav:read' });
    expect(await call(app, '/cases', { token: both, method: 'POST' })).toMatchObject({ status: 201, body: { created: true, scopes: ['nav:write', 'nav:read'] } });
  });

  it('checks the consumers of @RequireMaskinportenToken', async () => {
    expect(await call(app, '/cases/customers', { token: await factory.mint({ scope: 'nav:read', consumerOrgno: '974761076' }) })).toMatchObject({ status: 403, body: { code: 'organization_not_allowed' } });
    expect(await call(app, '/cases/customers', { token: await factory.mint({ scope: 'nav:read', consumerOrgno: CUSTOMER }) })).toMatchObject({ status: 200, body: { consumer: CUSTOMER } });
  });

  it('lets @SkipMaskinportenToken routes through, except a handler that asks for a token', async () => {
    expect(await call(app, '/cases/health')).toMatchObject({ status: 200, body: { ok: true, token: null } });
    expect(await call(app, '/open')).toMatchObject({ status: 200, body: { open: true } });
    expect(await call(app, '/open/guarded')).toMatchObject({ status: 401 });
    expect(await call(app, '/open/guarded', { token: await factory.mint({ clientId: 'c-9' }) })).toMatchObject({ status: 200, body: { clientId: 'c-9' } });
  });

  it('provides the verifier for injection', () => {
    expect(app.get(VerifierUser).verifier).toBe(app.get(MASKINPORTEN_VERIFIER));
  });

  it('refuses contexts other than HTTP unless skipped', async () => {
    const guard = app.get(MaskinportenTokenGuard);
    const rpc = new ExecutionContextHost([{}, {}], CasesController, CasesController.prototype.list);
    rpc.setType('rpc');
    await expect(guard.canActivate(rpc)).resolves.toBe(false);
    const skipped = new ExecutionContextHost([{}, {}], CasesController, CasesController.prototype.health);
    skipped.setType('rpc');
    await expect(guard.canActivate(skipped)).resolves.toBe(true);
  });
});

describe('MaskinportenTokenGuard per controller, configured with forRootAsync from @nestjs/config', () => {
  const key = generateClientKey({ kid: 'nest-verify' });
  let sim: MaskinportenSimulator;
  let app: INestApplication;
  let token: string;

  @Controller('guarded')
  @UseGuards(MaskinportenTokenGuard)
  class GuardedController {
    @Get()
    get(@MaskinportenToken('consumerOrg') consumer: string) {
      return { consumer };
    }
  }

  @Controller('public')
  class PublicController {
    @Get()
    get() {
      return { public: true };
    }
  }

  @Controller('twice')
  @UseGuards(MaskinportenTokenGuard)
  @RequireMaskinportenScope('nav:admin')
  class TwiceController {
    @Get()
    get() {
      return { twice: true };
    }
  }

  beforeAll(async () => {
    sim = await startMaskinportenSimulator({ clients: [{ clientId: 'caller', orgno: CUSTOMER, scopes: ['nav:read'], jwks: [key.publicJwk] }] });
    const grant = await import('@portvakt/core').then(({ createMaskinportenClient }) => createMaskinportenClient({ clientId: 'caller', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:read' }));
    token = (await grant.getToken()).accessToken;
    await grant.close();
    @Module({
      imports: [
        ConfigModule.forRoot({ load: [() => ({ MASKINPORTEN_WELL_KNOWN_URL: sim.metadataUrl })], ignoreEnvFile: true }),
        MaskinportenVerifierModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ environment: { metadataUrl: config.getOrThrow<string>('MASKINPORTEN_WELL_KNOWN_URL') }, scope: 'nav:read' }),
        }),
      ],
      controllers: [GuardedController, PublicController, TwiceController],
      providers: [{ provide: APP_GUARD, useExisting: MaskinportenTokenGuard }],
    })
    class AppModule {}
    app = await start(AppModule);
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
  });

  it('verifies a token the simulator issued against its published keys', async () => {
    expect(await call(app, '/guarded', { token })).toMatchObject({ status: 200, body: { consumer: CUSTOMER } });
    expect(await call(app, '/guarded')).toMatchObject({ status: 401 });
  });

  it('a global guard and a controller guard both apply; the second checks only its requirements', async () => {
    expect(await call(app, '/public', { token })).toMatchObject({ status: 200 });
    expect(await call(app, '/public')).toMatchObject({ status: 401 }); // the global one
    expect(await call(app, '/twice', { token })).toMatchObject({ status: 403, wwwAuthenticate: expect.stringContaining('scope="nav:read nav:admin"') });
  });

  it('answers 503 when the key set cannot be fetched', async () => {
    @Module({
      imports: [MaskinportenVerifierModule.forRoot({ environment: { issuer: sim.issuer, jwksUri: `${sim.url}/no-such-jwk` } })],
      controllers: [GuardedController],
    })
    class BrokenModule {}
    const broken = await start(BrokenModule);
    try {
      expect(await call(broken, '/guarded', { token })).toMatchObject({ status: 503, wwwAuthenticate: null, body: { code: 'key_set_unavailable' } });
    } finally {
      await broken.close();
    }
  });
});

describe('configuration', () => {
  it('forRootAsync with useClass', async () => {
    @Injectable()
    class Options implements MaskinportenVerifierOptionsFactory {
      createMaskinportenVerifierOptions() {
        return { environment: fixedKeys, scope: 'nav:read' };
      }
    }
    @Module({ imports: [MaskinportenVerifierModule.forRootAsync({ useClass: Options, isGlobal: true })], controllers: [CasesController], providers: [{ provide: APP_GUARD, useClass: MaskinportenTokenGuard }] })
    class AppModule {}
    const app = await start(AppModule);
    try {
      expect(await call(app, '/cases', { token: await factory.mint({ scope: 'nav:other' }) })).toMatchObject({ status: 403 });
      expect(await call(app, '/cases', { token: await factory.mint({ scope: 'nav:read' }) })).toMatchObject({ status: 200 });
    } finally {
      await app.close();
    }
  });

  it('a bad option stops the app at boot, naming the field', async () => {
    @Module({ imports: [MaskinportenVerifierModule.forRoot({ environment: 'production' as 'prod' })] })
    class AppModule {}
    await expect(Test.createTestingModule({ imports: [AppModule] }).compile()).rejects.toMatchObject({ field: 'environment' });
  });

  it('decorators refuse bad requirements when the class is defined', () => {
    expect(() => RequireMaskinportenScope('nav:"read')).toThrow(ConfigurationError);
    expect(() => RequireMaskinportenScope()).toThrow(ConfigurationError);
    expect(() => RequireMaskinportenToken({ consumers: ['123'] })).toThrow(ConfigurationError);
    expect(() => RequireMaskinportenToken({ scopes: 'x' } as never)).toThrow(/scopes/);
  });

  it('the guard rethrows what is not a refusal', async () => {
    const failing = { verify: () => Promise.reject(new Error('a bug')), recall: () => undefined, checkRequirements: () => undefined } as unknown as MaskinportenVerifier;
    const { Reflector } = await import('@nestjs/core');
    const guard = new MaskinportenTokenGuard(failing, new Reflector());
    const context = new ExecutionContextHost([{ headers: { authorization: `Bearer ${await factory.mint()}` } }, {}], CasesController, CasesController.prototype.list);
    context.setType('http');
    await expect(guard.canActivate(context)).rejects.toThrow('a bug');
  });
});
