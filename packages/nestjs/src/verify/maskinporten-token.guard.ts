import { HttpException, Inject, Injectable, Optional } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { httpStatusOfVerificationFailure, isVerificationError, readBearerToken } from '@portvakt/core';
import type { MaskinportenTokenClaims, MaskinportenVerifier, TokenRequirements, VerificationError } from '@portvakt/core';
import { MASKINPORTEN_VERIFIER, REQUIRED_SCOPES_METADATA, REQUIREMENTS_METADATA, SKIP_TOKEN_METADATA } from './maskinporten-verifier.constants.js';

// Which verifier set a request's claims, so a second pass of the guard (a global guard, then one
// on the controller) checks its requirements without verifying again. The symbol is the guard's
// own, so nothing else can pass for verified.
const VERIFIED_BY = Symbol('portvakt.verifiedBy');

interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  maskinportenToken?: MaskinportenTokenClaims;
  [VERIFIED_BY]?: MaskinportenVerifier;
}

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
    const { status, title, detail, code, wwwAuthenticate } = httpStatusOfVerificationFailure(error);
    super({ type: 'about:blank', title, status, detail, code }, status, { cause: error });
    this.wwwAuthenticate = wwwAuthenticate;
  }
}

/**
 * Lets a request through only with a valid Maskinporten access token in `Authorization: Bearer`,
 * meeting the verifier's requirements and those of `@RequireMaskinportenScope` and
 * `@RequireMaskinportenToken` on the controller and the handler (all of them apply). Puts the
 * claims on the request for `@MaskinportenToken()`. Refusals are `MaskinportenTokenException`s: 401
 * (`token_missing`, `invalid_token`), 403 (`insufficient_scope`, `organization_not_allowed`), 503
 * (`key_set_unavailable`), with `WWW-Authenticate` set on the response.
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
    const requirements = this.reflector.getAll<(TokenRequirements | undefined)[]>(REQUIREMENTS_METADATA, targets).filter((r): r is TokenRequirements => r !== undefined);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    try {
      let claims = request.maskinportenToken;
      if (claims === undefined || request[VERIFIED_BY] !== this.verifier) {
        claims = await this.verifier.verify(readBearerToken(request.headers.authorization), scopes.length > 0 ? { scope: scopes } : undefined);
      } else if (scopes.length > 0) {
        this.verifier.checkRequirements(claims, { scope: scopes });
      }
      for (const more of requirements) this.verifier.checkRequirements(claims, more);
      request.maskinportenToken = claims;
      request[VERIFIED_BY] = this.verifier;
      return true;
    } catch (error) {
      if (!isVerificationError(error)) throw error;
      throw this.refusal(error, context);
    }
  }

  private refusal(error: VerificationError, context: ExecutionContext): MaskinportenTokenException {
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
