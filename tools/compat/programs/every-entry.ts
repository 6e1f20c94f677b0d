// Typechecked only (tsc --noEmit): every @portvakt entry point, some of their types, and the two
// module augmentations (Axios request config, Express Request).
import { createMaskinportenClient, PortvaktError } from '@portvakt/core';
import type { AccessToken, MaskinportenClient, MaskinportenClientOptions, TokenStore } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';
import type { WithMaskinportenOptions } from '@portvakt/axios';
import { maskinporten, maskinportenProxy } from '@portvakt/express';
import type { MaskinportenProxyOptions } from '@portvakt/express';
import { InjectMaskinportenClient, MaskinportenHttpModule, MaskinportenModule } from '@portvakt/nestjs';
import type { MaskinportenModuleOptions } from '@portvakt/nestjs';
import { MaskinportenHealthIndicator } from '@portvakt/nestjs/health';
import type { MaskinportenHealthOptions } from '@portvakt/nestjs/health';
import { createRedisTokenStore } from '@portvakt/redis';
import type { RedisTokenStoreOptions } from '@portvakt/redis';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createMaskinportenVerifier, verifyRequest } from '@portvakt/verify';
import type { HttpProblem } from '@portvakt/core';
import type { MaskinportenTokenClaims } from '@portvakt/verify';
import { requireMaskinportenToken } from '@portvakt/express/verify';
import { MaskinportenTokenGuard, MaskinportenVerifierModule } from '@portvakt/nestjs/verify';
import type { DynamicModule } from '@nestjs/common';
import axios from 'axios';
import express from 'express';
import { Redis } from 'ioredis';

export async function main(): Promise<string> {
  const key = generateClientKey({ kid: 'compat-key' });
  const sim: MaskinportenSimulator = await startMaskinportenSimulator({
    clients: [{ clientId: 'compat', orgno: '991825827', scopes: ['compat:read'], jwks: [key.publicJwk] }],
  });
  const redisOptions: RedisTokenStoreOptions = { redis: new Redis({ lazyConnect: true }), keyPrefix: 'compat:' };
  const store: TokenStore = createRedisTokenStore(redisOptions);
  const options: MaskinportenClientOptions = {
    clientId: 'compat',
    environment: sim.environment(),
    key: { jwk: key.privateJwk },
    scope: 'compat:read',
    cache: { store },
  };
  const client: MaskinportenClient = createMaskinportenClient(options);
  const token: AccessToken = await client.getToken();

  const api = axios.create({ baseURL: 'https://api.example.no' });
  const axiosOptions: WithMaskinportenOptions = { client, scope: 'compat:read' };
  withMaskinporten(api, axiosOptions);
  await api.get('/status', { maskinporten: { consumerOrg: '910753614' } });
  await api.get('/public', { maskinporten: { skip: true } });

  const app = express();
  const proxy: MaskinportenProxyOptions = { target: 'https://api.example.no', client, scope: 'compat:read' };
  app.use('/api', maskinportenProxy(proxy));
  app.get('/report', maskinporten({ client, scope: 'compat:read', origins: ['https://api.example.no'] }), async (req, res, next) => {
    try {
      const perRequest = await req.maskinporten!.getToken();
      const upstream: Response = await req.maskinporten!.fetch('https://api.example.no/status');
      res.json({ type: perRequest.tokenType, status: upstream.status });
    } catch (error) {
      next(error);
    }
  });

  const nestOptions: MaskinportenModuleOptions = options;
  const modules: DynamicModule[] = [
    MaskinportenModule.forRoot({ ...nestOptions, isGlobal: true }),
    MaskinportenModule.forRoot({ ...nestOptions, name: 'other' }),
    MaskinportenHttpModule.register({ client: 'other', baseURL: 'https://api.example.no', scope: 'compat:read' }),
  ];
  const decorate: ParameterDecorator = InjectMaskinportenClient('other');
  const health: MaskinportenHealthOptions = { client: 'other', certificateWarningDays: 7 };
  const isHealthy: MaskinportenHealthIndicator['isHealthy'] = async (name = 'maskinporten') => ({ [name]: { status: 'up' } });
  await isHealthy('maskinporten', health);

  try {
    await client.getToken({ scope: 'compat:other' });
  } catch (error) {
    if (error instanceof PortvaktError) return error.code;
  } finally {
    await client.close();
    await sim.close();
  }
  return `${token.authorization} ${modules.length} ${typeof decorate}`;
}

// The API-provider side, from its own package and the adapters' /verify entry points.
export const verifier = createMaskinportenVerifier({ environment: 'test', scope: 'nav:aareg' });
export const guardMiddleware: express.RequestHandler = requireMaskinportenToken({ verifier });
export const verifierModule: DynamicModule = MaskinportenVerifierModule.forRoot({ environment: 'prod' });
export const guardClass: typeof MaskinportenTokenGuard = MaskinportenTokenGuard;
export async function claimsOf(req: express.Request): Promise<MaskinportenTokenClaims | undefined> {
  try {
    return await verifyRequest(verifier, req);
  } catch (error) {
    const problem: HttpProblem = (error as PortvaktError).toProblem();
    return problem.status === 401 ? undefined : req.maskinportenToken;
  }
}
