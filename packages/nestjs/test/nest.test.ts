import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { InjectMaskinportenClient, MaskinportenHttpModule, MaskinportenModule } from '@portvakt/nestjs';
import { MaskinportenHealthIndicator } from '@portvakt/nestjs/health';

const key = generateClientKey({ kid: 'nest-key' });
let sim: MaskinportenSimulator;
let api: http.Server;
let apiOrigin: string;
const seen: string[] = [];
const scopeOf = (auth: string) => JSON.parse(Buffer.from(auth.split(' ')[1]!.split('.')[1]!, 'base64url').toString()).scope as string;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'nest', orgno: '991825827', scopes: ['skatt:read', 'nav:read'], jwks: [key.publicJwk] }] });
  api = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiOrigin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sim.close();
  api.closeAllConnections();
  await new Promise((r) => api.close(r));
});
beforeEach(() => {
  seen.length = 0;
  sim.clearFaults();
});

const config = () => ({
  MP_CLIENT_ID: 'nest',
  MP_ISSUER: sim.issuer,
  MP_TOKEN_ENDPOINT: sim.tokenEndpoint,
  MP_JWK: JSON.stringify(key.privateJwk),
});

@Injectable()
class ApiCaller {
  private readonly http: HttpService;
  private readonly nav: MaskinportenClient;
  constructor(@Inject(HttpService) http: HttpService, @InjectMaskinportenClient('nav') nav: MaskinportenClient) {
    this.http = http;
    this.nav = nav;
  }
  async call() {
    const res = await firstValueFrom(this.http.get('/skatt/data'));
    const navToken = await this.nav.getToken();
    return { upstream: res.data, navScope: navToken.scope };
  }
}

@Controller('proxy')
class ProxyController {
  private readonly caller: ApiCaller;
  constructor(@Inject(ApiCaller) caller: ApiCaller) {
    this.caller = caller;
  }
  @Get()
  get() {
    return this.caller.call();
  }
}

@Controller('health')
class HealthController {
  private readonly health: HealthCheckService;
  private readonly maskinporten: MaskinportenHealthIndicator;
  constructor(@Inject(HealthCheckService) health: HealthCheckService, @Inject(MaskinportenHealthIndicator) maskinporten: MaskinportenHealthIndicator) {
    this.health = health;
    this.maskinporten = maskinporten;
  }
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.maskinporten.isHealthy('maskinporten', { client: 'skatt' })]);
  }
}

function appModule() {
  const clientFromConfig = (name: string, scope: string) =>
    MaskinportenModule.forRootAsync({
      name,
      isGlobal: true,
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (c: ConfigService) => ({
        clientId: c.getOrThrow<string>('MP_CLIENT_ID'),
        environment: { issuer: c.getOrThrow<string>('MP_ISSUER'), tokenEndpoint: c.getOrThrow<string>('MP_TOKEN_ENDPOINT') },
        key: { jwk: c.getOrThrow<string>('MP_JWK') },
        scope,
        transport: { maxAttempts: 1 },
      }),
    });
  @Module({
    imports: [
      ConfigModule.forRoot({ load: [config], ignoreEnvFile: true }),
      clientFromConfig('skatt', 'skatt:read'),
      clientFromConfig('nav', 'nav:read'),
      MaskinportenHttpModule.register({ client: 'skatt', baseURL: apiOrigin }),
      TerminusModule,
    ],
    controllers: [ProxyController, HealthController],
    providers: [ApiCaller, MaskinportenHealthIndicator],
  })
  class AppModule {}
  return AppModule;
}

async function start(): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [appModule()] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('MaskinportenModule in a real Nest app', () => {
  it('feeds forRootAsync from @nestjs/config, keeps two named clients apart, and calls the API through HttpService', async () => {
    const app = await start();
    try {
      const res = await request(app.getHttpServer()).get('/proxy').expect(200);
      expect(res.body.upstream).toEqual({ path: '/skatt/data' });
      expect(res.body.navScope).toBe('nav:read');
      expect(seen).toHaveLength(1);
      expect(scopeOf(seen[0]!)).toBe('skatt:read');
      expect(JSON.stringify(res.body)).not.toContain(seen[0]!.split(' ')[1]!);
    } finally {
      await app.close();
    }
  });

  it('reports health up, and down with a code when no token can be had', async () => {
    const app = await start();
    try {
      const up = await request(app.getHttpServer()).get('/health').expect(200);
      expect(up.body.info.maskinporten.status).toBe('up');
      const ref = app.get<MaskinportenClient>('portvakt:maskinporten:client:skatt');
      ref.invalidate(await ref.getToken());
      sim.inject({ kind: 'status', status: 400, body: { error: 'invalid_scope', error_description: 'MP-200 scope' } });
      const down = await request(app.getHttpServer()).get('/health').expect(503);
      expect(down.body.error.maskinporten).toMatchObject({ status: 'down', reason: 'ERR_PORTVAKT_TOKEN_REJECTED', mpCode: 'MP-200' });
    } finally {
      await app.close();
    }
  });

  it('fails boot with a message naming the bad field', async () => {
    @Module({ imports: [MaskinportenModule.forRoot({ clientId: 'nest', environment: 'staging' as never, key: { jwk: key.privateJwk } })] })
    class BadModule {}
    await expect(Test.createTestingModule({ imports: [BadModule] }).compile()).rejects.toThrow(/"environment"/);
    @Module({ imports: [MaskinportenModule.forRoot({ clientId: 'nest', environment: 'test', key: { jwk: key.privateJwk }, grantLifetime: 500 })] })
    class BadLifetime {}
    await expect(Test.createTestingModule({ imports: [BadLifetime] }).compile()).rejects.toThrow(/grantLifetime/);
  });

  it('fails boot with what to do when the health indicator is provided without TerminusModule', async () => {
    @Module({ providers: [MaskinportenHealthIndicator] })
    class NoTerminus {}
    const error = await Test.createTestingModule({ imports: [NoTerminus] }).compile().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('imports');
    expect((error as ConfigurationError).message).toContain('MaskinportenHealthIndicator needs TerminusModule from @nestjs/terminus');
  });

  it('closes its clients on app.close(), leaving no timer or server handle behind', async () => {
    const count = () => {
      const info = process.getActiveResourcesInfo();
      return { timers: info.filter((r) => r === 'Timeout').length, servers: info.filter((r) => r === 'TCPServerWrap').length };
    };
    const before = count();
    const app = await start();
    await request(app.getHttpServer()).get('/proxy').expect(200);
    const client = app.get<MaskinportenClient>('portvakt:maskinporten:client:skatt');
    await app.close();
    await new Promise((r) => setTimeout(r, 50));
    const after = count();
    expect(after.servers).toBeLessThanOrEqual(before.servers);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
    await expect(client.getToken()).rejects.toMatchObject({ code: 'ERR_PORTVAKT_CLIENT_CLOSED' });
  });

  it('never builds its HttpService on the global default Axios instance', async () => {
    const app = await start();
    try {
      const axios = (await import('axios')).default;
      const service = app.get(HttpService, { strict: false });
      expect(service.axiosRef).not.toBe(axios);
      expect(service.axiosRef.defaults).not.toBe(axios.defaults);
    } finally {
      await app.close();
    }
  });
});
