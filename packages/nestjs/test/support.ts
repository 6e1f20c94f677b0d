// What several of the Nest test files share: the controllers the token guard is tested with, a
// call helper that reads the answer's status, challenge, content type and body, and an injectable
// that holds MaskinportenHttpModule's HttpService.
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
import type { MaskinportenTokenClaims } from '@portvakt/verify';
import { createTokenFactory } from '@portvakt/testing';
import { MaskinportenToken, RequireMaskinportenScope, RequireMaskinportenToken, SkipMaskinportenToken } from '@portvakt/nestjs/verify';

export const factory = createTokenFactory();
export const CUSTOMER = '910753614';
export const fixedKeys = { issuer: factory.issuer, jwks: factory.jwks };

@Controller('cases')
@RequireMaskinportenScope('nav:read')
export class CasesController {
  @Get()
  list(@MaskinportenToken() token: MaskinportenTokenClaims, @MaskinportenToken('consumerOrg') consumer: string | undefined) {
    return { scopes: token.scopes, consumer };
  }

  @Post()
  @RequireMaskinportenScope('nav:write')
  create(@MaskinportenToken('scopes') scopes: readonly string[]) {
    return { created: true, scopes };
  }

  @Get('customers')
  @RequireMaskinportenToken({ consumers: [CUSTOMER] })
  customers(@MaskinportenToken('consumerOrg') consumer: string) {
    return { consumer };
  }

  @Get('health')
  @SkipMaskinportenToken()
  health(@MaskinportenToken() token: MaskinportenTokenClaims | undefined) {
    return { ok: true, token: token ?? null };
  }
}

@Controller('open')
@SkipMaskinportenToken()
export class OpenController {
  @Get()
  open() {
    return { open: true };
  }

  @Get('guarded')
  @RequireMaskinportenToken()
  guarded(@MaskinportenToken('clientId') clientId: string) {
    return { clientId };
  }
}

export interface Answer {
  status: number;
  wwwAuthenticate: string | null;
  contentType: string | null;
  body: Record<string, unknown>;
}

export async function call(app: INestApplication, path: string, options: { token?: string; authorization?: string; method?: string } = {}): Promise<Answer> {
  const authorization = options.authorization ?? (options.token === undefined ? undefined : `Bearer ${options.token}`);
  const res = await fetch(`${await app.getUrl()}${path}`, { method: options.method ?? 'GET', headers: authorization === undefined ? {} : { authorization } });
  const text = await res.text();
  return { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), contentType: res.headers.get('content-type'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Holds the HttpService of MaskinportenHttpModule, as an app's own service would. */
@Injectable()
export class Caller {
  readonly http: HttpService;
  constructor(@Inject(HttpService) http: HttpService) {
    this.http = http;
  }
  get(path: string) {
    return firstValueFrom(this.http.get(path));
  }
}

/** GET /call makes one outgoing call through Caller (MaskinportenHttpModule) and returns its body. */
@Controller('call')
@SkipMaskinportenToken()
export class CallController {
  private readonly caller: Caller;
  constructor(@Inject(Caller) caller: Caller) {
    this.caller = caller;
  }
  @Get()
  async call() {
    return (await this.caller.get('/ok')).data as unknown;
  }
}
