import { Module } from '@nestjs/common';
import type { DynamicModule, FactoryProvider, ModuleMetadata } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import type { CreateAxiosDefaults } from 'axios';
import { ConfigurationError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';
import type { WithMaskinportenOptions } from '@portvakt/axios';
import { getMaskinportenClientToken } from './maskinporten.constants.js';

type TokenOptions = Omit<WithMaskinportenOptions, 'client'>;

/**
 * Options of `MaskinportenHttpModule.register`: which client, the token's claims, and the Axios
 * instance's settings (`baseURL` is the origin that receives tokens unless `origins` says more).
 *
 * @example
 * ```ts
 * const options: MaskinportenHttpModuleOptions = { baseURL: 'https://api.skatteetaten.no', scope: 'skatteetaten:testscope' };
 * ```
 */
export interface MaskinportenHttpModuleOptions extends CreateAxiosDefaults, TokenOptions {
  /** Name of the MaskinportenModule client; default the unnamed one. */
  client?: string | undefined;
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

function createHttpService(name: string | undefined, client: MaskinportenClient | undefined, options: Omit<MaskinportenHttpModuleOptions, 'client'>): HttpService {
  if (client === undefined) {
    // Nest's own message here would be "can't resolve dependencies of the HttpService (?)".
    throw new ConfigurationError(
      'client',
      `MaskinportenHttpModule found no Maskinporten client "${name ?? 'default'}": register MaskinportenModule.forRoot(...) or forRootAsync(...)` +
        `${name === undefined ? '' : ` with name: '${name}'`} with isGlobal: true in your root module, or import that MaskinportenModule in the module that imports MaskinportenHttpModule.`,
    );
  }
  const { scope, request, origins, overwriteAuthorization, retryOnUnauthorized, ...axiosConfig } = options;
  // Always a fresh instance: never the global default one.
  const instance = axios.create(axiosConfig);
  withMaskinporten(instance, { client, scope, request, origins, overwriteAuthorization, retryOnUnauthorized });
  return new HttpService(instance);
}

/** The client as an optional dependency, so a missing one reaches our message instead of Nest's. */
const clientDependency = (name: string | undefined) => ({ token: getMaskinportenClientToken(name), optional: true });

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
      providers: [{ provide: HttpService, useFactory: (c?: MaskinportenClient) => createHttpService(client, c, rest), inject: [clientDependency(client)] }],
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
          useFactory: (c: MaskinportenClient | undefined, o: Omit<MaskinportenHttpModuleOptions, 'client'>) => createHttpService(options.client, c, o),
          inject: [clientDependency(options.client), optionsToken],
        },
      ],
      exports: [HttpService],
    };
  }
}
