import { Catch, Inject } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PortvaktError, problemBody } from '@portvakt/core';

/**
 * Answers a Portvakt error that reaches Nest (a token that could not be had while handling a
 * request) as an RFC 9457 problem, with the same status and `code` the Express adapter gives:
 * 503 `maskinporten_unavailable`, 504 `maskinporten_timeout`, 502 `maskinporten_rejected`, ...
 * Nothing secret is in the answer; the MP code is, for the caller's support ticket. Works on the
 * Express and Fastify platforms.
 *
 * @example
 * ```ts
 * import { APP_FILTER } from '@nestjs/core';
 * import { MaskinportenExceptionFilter } from '@portvakt/nestjs';
 *
 * @Module({ providers: [{ provide: APP_FILTER, useClass: MaskinportenExceptionFilter }] })
 * export class AppModule {}
 * ```
 */
@Catch(PortvaktError)
export class MaskinportenExceptionFilter implements ExceptionFilter {
  private readonly adapterHost: HttpAdapterHost;

  constructor(@Inject(HttpAdapterHost) adapterHost: HttpAdapterHost) {
    this.adapterHost = adapterHost;
  }

  catch(error: PortvaktError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    // The error's own answer: a token that could not be had (502, 503, 504), or an incoming token
    // refused by a guard (401, 403, 503, with its challenge in the headers).
    const problem = error.toProblem();
    const { status, headers } = problem;
    for (const [name, value] of Object.entries(headers)) httpAdapter.setHeader(response, name, value);
    httpAdapter.setHeader(response, 'content-type', 'application/problem+json');
    httpAdapter.setHeader(response, 'cache-control', 'no-store');
    // As a string, so no platform replaces the problem+json content type with its JSON default.
    httpAdapter.reply(response, JSON.stringify(problemBody(problem)), status);
  }
}
