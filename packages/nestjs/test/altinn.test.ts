import 'reflect-metadata';
import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAltinnTokenSource } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator, startRecordingApi } from '@portvakt/testing';
import type { MaskinportenSimulator, RecordingApi } from '@portvakt/testing';
import { getMaskinportenClientToken, MaskinportenHttpModule, MaskinportenModule } from '@portvakt/nestjs';

const key = generateClientKey({ kid: 'nest-altinn' });
let sim: MaskinportenSimulator;
let api: RecordingApi;
beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'nest', orgno: '991825827', scopes: ['altinn:read'], jwks: [key.publicJwk] }] });
  api = await startRecordingApi();
});
afterAll(async () => {
  await Promise.all([sim.close(), api.close()]);
});

@Injectable()
class AltinnCaller {
  readonly http: HttpService;
  constructor(@Inject(HttpService) http: HttpService) {
    this.http = http;
  }
}

describe('an Altinn token source in Nest, with the modules unchanged', () => {
  it('registered under a client name, MaskinportenHttpModule sends Altinn tokens; a 401 costs one exchange', async () => {
    // The Altinn source is a provider under a client name, built on the Maskinporten client.
    @Global()
    @Module({
      providers: [{
        provide: getMaskinportenClientToken('altinn'),
        useFactory: (maskinporten: MaskinportenClient) => createAltinnTokenSource({ maskinporten, environment: { exchangeUrl: sim.altinnExchangeUrl } }),
        inject: [getMaskinportenClientToken()],
      }],
      exports: [getMaskinportenClientToken('altinn')],
    })
    class AltinnModule {}
    @Module({
      imports: [
        MaskinportenModule.forRoot({ isGlobal: true, clientId: 'nest', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'altinn:read' }),
        AltinnModule,
        MaskinportenHttpModule.register({ client: 'altinn', baseURL: api.origin }),
      ],
      providers: [AltinnCaller],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
    try {
      const caller = moduleRef.get(AltinnCaller);
      await firstValueFrom(caller.http.get('/ok'));
      const sent = api.seen[0]?.authorization?.split(' ')[1] ?? '';
      expect(JSON.parse(Buffer.from(sent.split('.')[1]!, 'base64url').toString())['urn:altinn:authenticatemethod']).toBe('maskinporten');
      api.revoked.add(sent);
      const before = sim.altinnExchangeCount();
      await firstValueFrom(caller.http.get('/ok'));
      expect(sim.altinnExchangeCount() - before).toBe(1);
    } finally {
      await moduleRef.close();
    }
  });
});
