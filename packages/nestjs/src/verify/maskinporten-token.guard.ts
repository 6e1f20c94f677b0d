import { HttpException, Inject, Injectable, Optional } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { problemBody } from '@portvakt/core';
import { isVerificationError, verifyRequest } from '@portvakt/verify';
import type { MaskinportenVerifier, RequestRequirements, VerifiableRequest, VerificationError } from '@portvakt/verify';
import { MASKINPORTEN_VERIFIER, REQUIRED_SCOPES_METADATA, REQUIREMENTS_METADATA, SKIP_TOKEN_METADATA } from './maskinporten-verifier.constants.js';

/**
 * What the guard throws when it refuses a request: an `HttpException` whose response is the RFC
 * 9457 problem (`type`, `title`, `status`, `detail`, `code`), sent by Nest as JSON, and whose
 * `cause` is core's verification error. `wwwAuthenticate` is the challenge, already set on the
 * response.
 *
 * @example
 * ```ts
 * @Catch(MaskinportenTokenException)
 * class AuthLogFilter extends BaseExceptionFilter {
 *   override catch(exception: MaskinportenTokenException, host: ArgumentsHost) {
 *     logger.warn({ code: exception.getResponse() }, 'token refused');
 *     super.catch(exception, host);
 *   }
 * }
 * ```
 */
export class MaskinportenTokenException extends HttpException {
  readonly wwwAuthenticate: string | undefined;
  constructor(error: VerificationError) {
    const problem = error.toProblem();
    super(problemBody(problem), problem.status, { cause: error });
    this.wwwAuthenticate = problem.headers['www-authenticate'];
  }
}

/**
 * Lets a request through only with a valid Maskinporten access token in `Authorization: Bearer`,
 * meeting the verifier's requirements and those of `@RequireMaskinportenScope` and
 * `@RequireMaskinportenToken` on the controller and the handler (all of them apply, several of one
 * kind on one target included). Puts the claims on the request for `@MaskinportenToken()`.
 * Refusals are `MaskinportenTokenException`s: 401 (`token_missing`, `invalid_token`), 403
 * (`insufficient_scope`, `organization_not_allowed`, `person_not_allowed`, `consent_missing`,
 * `system_user_not_allowed`), 503 (`key_set_unavailable`, `introspection_unavailable`), with
 * `WWW-Authenticate` set on the response. An organisation policy that throws is not a refusal: its
 * error goes to Nest's exception layer (500).
 *
 * Use it globally (`{ provide: APP_GUARD, useClass: MaskinportenTokenGuard }`, with
 * `@SkipMaskinportenToken()` for open routes) or per controller or handler (`@UseGuards`). It reads
 * HTTP requests only: in any other context (RPC, WebSockets, GraphQL) it refuses unless skipped.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [MaskinportenVerifierModule.forRoot({ environment: 'prod' })],
 *   providers: [{ provide: APP_GUARD, useClass: MaskinportenTokenGuard }],
 * })
 * export class AppModule {}
 * ```
 */
@Injectable()
export class MaskinportenTokenGuard implements CanActivate {
  private readonly verifier: MaskinportenVerifier;
  private readonly reflector: Reflector;
  private readonly adapterHost: HttpAdapterHost | undefined;

  constructor(@Inject(MASKINPORTEN_VERIFIER) verifier: MaskinportenVerifier, @Inject(Reflector) reflector: Reflector, @Optional() @Inject(HttpAdapterHost) adapterHost?: HttpAdapterHost) {
    this.verifier = verifier;
    this.reflector = reflector;
    this.adapterHost = adapterHost;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const handler = context.getHandler();
    const controller = context.getClass();
    // The controller's requirements first, then the handler's: all of them apply.
    const targets = [controller, handler];
    const handlerDeclares = this.reflector.get<unknown>(REQUIRED_SCOPES_METADATA, handler) !== undefined || this.reflector.get<unknown>(REQUIREMENTS_METADATA, handler) !== undefined;
    const skip = this.reflector.get<boolean | undefined>(SKIP_TOKEN_METADATA, handler) ?? (!handlerDeclares && this.reflector.get<boolean | undefined>(SKIP_TOKEN_METADATA, controller));
    if (skip === true) return true;
    if (context.getType() !== 'http') return false;

    const scopes = this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES_METADATA, targets);
    // Each target holds a list: every @RequireMaskinportenToken on it, each one met on its own.
    const requirements = this.reflector.getAll<(readonly RequestRequirements<VerifiableRequest>[] | undefined)[]>(REQUIREMENTS_METADATA, targets).flatMap((list) => list ?? []);
    const request = context.switchToHttp().getRequest<VerifiableRequest>();
    try {
      // The scopes of @RequireMaskinportenScope first (checked with the signature), then each
      // @RequireMaskinportenToken: the verification package's flow, shared with Express.
      await verifyRequest(this.verifier, request, scopes.length > 0 ? [{ scope: scopes }, ...requirements] : requirements);
      return true;
    } catch (error) {
      if (!isVerificationError(error)) throw error;
      throw this.refuse(error, context);
    }
  }

  /**
   * The exception for a refused request, with `WWW-Authenticate` and `Cache-Control: no-store` set
   * on the response. Override it to log or to answer differently (call `super.refuse()` to keep
   * the standard answer).
   */
  protected refuse(error: VerificationError, context: ExecutionContext): MaskinportenTokenException {
    const exception = new MaskinportenTokenException(error);
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter !== undefined) {
      const response: unknown = context.switchToHttp().getResponse();
      if (exception.wwwAuthenticate !== undefined) adapter.setHeader(response, 'WWW-Authenticate', exception.wwwAuthenticate);
      adapter.setHeader(response, 'Cache-Control', 'no-store');
      // The content type is left to Nest's exception layer (JSON): Nest 11 replaces any other
      // type on an error body, with a warning in the log for every refused request.
    }
    return exception;
  }
}
