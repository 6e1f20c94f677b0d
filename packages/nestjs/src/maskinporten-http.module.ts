import { Module } from '@nestjs/common';
import type { DynamicModule, FactoryProvider, ModuleMetadata } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import type { CreateAxiosDefaults } from 'axios';
import type { MaskinportenClient, TokenRequest } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';
import { getMaskinportenClientToken } from './maskinporten.constants.js';

/**
 * Options of `MaskinportenHttpModule.register`: which client, the token's claims, and the Axios
 * instance's settings (`baseURL` is the origin that receives tokens unless `origins` says more).
 *
 * @example
 * ```ts
 * const options: MaskinportenHttpModuleOptions = { baseURL: 'https://api.skatteetaten.no', scope: 'skatteetaten:testscope' };
 * ```
 */
export interface MaskinportenHttpModuleOptions extends CreateAxiosDefaults {
  /** Name of the MaskinportenModule client; default the unnamed one. */
  client?: string | undefined;
  scope?: string | readonly string[] | undefined;
  request?: TokenRequest | undefined;
  origins?: readonly (string | URL)[] | undefined;
}

/**
 * Options of `MaskinportenHttpModule.registerAsync`.
 * @example
 * ```ts
 * MaskinportenHttpModule.registerAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c: ConfigService) => ({ baseURL: c.getOrThrow('API_URL'), scope: 'nav:aareg' }) });
 * ```
 */
export interface MaskinportenHttpModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  client?: string | undefined;
  useFactory: (...args: never[]) => Omit<MaskinportenHttpModuleOptions, 'client'> | Promise<Omit<MaskinportenHttpModuleOptions, 'client'>>;
  inject?: FactoryProvider['inject'];
}

function createHttpService(client: MaskinportenClient, options: Omit<MaskinportenHttpModuleOptions, 'client'>): HttpService {
  const { scope, request, origins, ...axiosConfig } = options;
  // Always a fresh instance: never the global default one.
  const instance = axios.create(axiosConfig);
  withMaskinporten(instance, { client, scope, request, origins });
  return new HttpService(instance);
}

/**
 * An `@nestjs/axios` `HttpService` on its own Axios instance that carries Maskinporten tokens to
 * its `baseURL` (or `origins`) only. Register it in each feature module that calls an API.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [MaskinportenHttpModule.register({ baseURL: 'https://api.skatteetaten.no', scope: 'skatteetaten:testscope' })],
 *   providers: [SkattService],
 * })
 * export class SkattModule {}
 *
 * @Injectable()
 * export class SkattService {
 *   constructor(@Inject(HttpService) private readonly http: HttpService) {}
 *   status() { return firstValueFrom(this.http.get('/status')); }
 * }
 * ```
 */
@Module({})
export class MaskinportenHttpModule {
  static register(options: MaskinportenHttpModuleOptions): DynamicModule {
    const { client, ...rest } = options;
    return {
      module: MaskinportenHttpModule,
      providers: [{ provide: HttpService, useFactory: (c: MaskinportenClient) => createHttpService(c, rest), inject: [getMaskinportenClientToken(client)] }],
      exports: [HttpService],
    };
  }

  static registerAsync(options: MaskinportenHttpModuleAsyncOptions): DynamicModule {
    const optionsToken = Symbol('portvakt:maskinporten-http:options');
    return {
      module: MaskinportenHttpModule,
      imports: options.imports ?? [],
      providers: [
        { provide: optionsToken, useFactory: options.useFactory, inject: options.inject ?? [] },
        {
          provide: HttpService,
          useFactory: (c: MaskinportenClient, o: Omit<MaskinportenHttpModuleOptions, 'client'>) => createHttpService(c, o),
          inject: [getMaskinportenClientToken(options.client), optionsToken],
        },
      ],
      exports: [HttpService],
    };
  }
}
