// The Texas token source in a real Nest app, with the modules unchanged: a provider under the
// client token (from tokenSourceFromEnv(), as a NAIS app writes it) that MaskinportenHttpModule and
// the health indicator use, against the simulator's Texas and a real API.
import 'reflect-metadata';
import http from 'node:http';
import { Controller, Get, Global, Inject, Injectable, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tokenSourceFromEnv } from '@portvakt/core';
import type { EnvTokenSource } from '@portvakt/core';
import { startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi, SimulatorTexas } from '@portvakt/testing';
import { MaskinportenExceptionFilter, MaskinportenHttpModule, getMaskinportenClientToken } from '@portvakt/nestjs';
import { MaskinportenHealthIndicator } from '@portvakt/nestjs/health';
import { APP_FILTER } from '@nestjs/core';

const CUSTOMER = '910753614';
let sim: MaskinportenSimulator;
let texas: SimulatorTexas;
let api: RecordingApi;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ texas: { client: { clientId: 'nais-app', orgno: '889640782', scopes: ['api:read'] } } });
  texas = sim.texas!;
  api = await startRecordingApi();
});
afterAll(async () => {
  agent.destroy();
  await Promise.all([sim.close(), api.close()]);
});
afterEach(() => {
  sim.reset();
  api.seen.length = 0;
  api.revoked.clear();
});

@Injectable()
class Caller {
  readonly http: HttpService;
  constructor(@Inject(HttpService) httpService: HttpService) {
    this.http = httpService;
  }
  get(path: string, config: Record<string, unknown> = {}) {
    return firstValueFrom(this.http.get(path, config));
  }
}

@Controller()
class AppController {
  private readonly caller: Caller;
  private readonly health: HealthCheckService;
  private readonly maskinporten: MaskinportenHealthIndicator;
  constructor(@Inject(Caller) caller: Caller, @Inject(HealthCheckService) health: HealthCheckService, @Inject(MaskinportenHealthIndicator) maskinporten: MaskinportenHealthIndicator) {
    this.caller = caller;
    this.health = health;
    this.maskinporten = maskinporten;
  }
  @Get('call')
  async call() {
    return { status: (await this.caller.get('/ok')).status };
  }
  @Get('customer')
  async customer() {
    return { status: (await this.caller.get('/ok', { maskinporten: { consumerOrg: CUSTOMER } })).status };
  }
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.maskinporten.isHealthy('maskinporten')]);
  }
}

/** A Nest app whose default Maskinporten token source is picked from NAIS' variables. */
async function startApp(): Promise<{ app: INestApplication; source: EnvTokenSource; caller: Caller }> {
  const env = { ...texas.env(), MASKINPORTEN_SCOPES: 'api:read' };
  @Global()
  @Module({
    providers: [{ provide: getMaskinportenClientToken(), useFactory: () => tokenSourceFromEnv({ env, texas: { transport: { backoffBase: 1, backoffMax: 5 } } }) }],
    exports: [getMaskinportenClientToken()],
  })
  class TokenSourceModule {}
  @Module({
    imports: [TokenSourceModule, TerminusModule, MaskinportenHttpModule.register({ baseURL: api.origin, httpAgent: agent })],
    controllers: [AppController],
    providers: [Caller, MaskinportenHealthIndicator, { provide: APP_FILTER, useClass: MaskinportenExceptionFilter }],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, source: moduleRef.get(getMaskinportenClientToken()), caller: moduleRef.get(Caller) };
}

describe('the Texas token source in Nest', () => {
  it('is the source tokenSourceFromEnv() picks from NAIS_TOKEN_ENDPOINT; 10,000 concurrent callers and 200 HTTP calls make 1 Texas request', async () => {
    const { app, source, caller } = await startApp();
    try {
      expect('endpoint' in source && source.endpoint).toBe(texas.tokenEndpoint);
      const tokens = await Promise.all(Array.from({ length: 10_000 }, () => source.getToken()));
      expect(new Set(tokens).size).toBe(1);
      const results = await Promise.all(Array.from({ length: 200 }, () => caller.get('/ok')));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(new Set(api.seen.map((s) => s.authorization))).toEqual(new Set([tokens[0]!.authorization]));
      expect(texas.tokenRequestCount()).toBe(1);
      await request(app.getHttpServer()).get('/health').expect(200);
    } finally {
      await app.close();
      await source.close();
    }
  });

  it('a 401 from the API: exactly 1 skip_cache request to Texas and 1 resend', async () => {
    const { app, source } = await startApp();
    try {
      await request(app.getHttpServer()).get('/call').expect(200);
      const stale = api.seen[0]?.authorization as string;
      api.revoked.add(stale.split(' ')[1] as string);
      await request(app.getHttpServer()).get('/call').expect(200, { status: 200 });
      expect(api.seen.map((s) => s.authorization === stale)).toEqual([true, true, false]);
      expect(texas.skipCacheCount()).toBe(1);
      expect(texas.tokenRequestCount()).toBe(2);
    } finally {
      await app.close();
      await source.close();
    }
  });

  it('Texas refusing, failing for ever, and consumerOrg: problem answers, and the health check says why', async () => {
    const { app, source } = await startApp();
    const server = app.getHttpServer();
    try {
      await request(server).get('/customer').expect(502);
      expect(texas.tokenRequestCount()).toBe(0);
      texas.setMaskinportenEnabled(false);
      const down = await request(server).get('/health').expect(503);
      expect(down.body.error.maskinporten).toEqual({ status: 'down', reason: 'ERR_PORTVAKT_TOKEN_REJECTED' });
      expect(texas.tokenRequestCount()).toBe(1);
      texas.setMaskinportenEnabled(true);
      sim.inject({ kind: 'status', status: 500, body: { error: 'server_error', error_description: 'Upstream request failed' } }, { path: '/api/v1/token', times: Infinity });
      const unavailable = await request(server).get('/call').expect(503);
      expect(unavailable.body).toMatchObject({ code: 'maskinporten_unavailable' });
      expect(texas.tokenRequestCount()).toBe(3);
      expect(api.seen).toHaveLength(0);
    } finally {
      texas.setMaskinportenEnabled(true);
      await app.close();
      await source.close();
    }
  });

  it('Texas down with a valid token: no failed call', async () => {
    const { app, source } = await startApp();
    try {
      await request(app.getHttpServer()).get('/call').expect(200);
      sim.inject({ kind: 'drop' }, { path: '/api/v1/token', times: Infinity });
      for (let i = 0; i < 10; i++) await request(app.getHttpServer()).get('/call').expect(200);
      await request(app.getHttpServer()).get('/health').expect(200);
    } finally {
      await app.close();
      await source.close();
    }
  });
});
