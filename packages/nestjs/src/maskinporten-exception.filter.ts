import { STATUS_CODES } from 'node:http';
import { Catch, Inject } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { httpStatusOfTokenFailure, httpStatusOfVerificationFailure, isVerificationError, PortvaktError } from '@portvakt/core';

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
    if (isVerificationError(error)) {
      // A token that came in and was refused (an API provider's guard): 401/403/503 with the challenge.
      const answer = httpStatusOfVerificationFailure(error);
      if (answer.wwwAuthenticate !== undefined) httpAdapter.setHeader(response, 'www-authenticate', answer.wwwAuthenticate);
      httpAdapter.setHeader(response, 'content-type', 'application/problem+json');
      httpAdapter.reply(response, JSON.stringify({ type: 'about:blank', title: STATUS_CODES[answer.status] ?? 'Error', status: answer.status, detail: answer.detail, code: answer.code }), answer.status);
      return;
    }
    const { status, code, mpCode } = httpStatusOfTokenFailure(error);
    httpAdapter.setHeader(response, 'content-type', 'application/problem+json');
    const problem = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail: 'A Maskinporten token could not be had.', code, ...(mpCode === undefined ? {} : { mpCode }) };
    // As a string, so no platform replaces the problem+json content type with its JSON default.
    httpAdapter.reply(response, JSON.stringify(problem), status);
  }
}
