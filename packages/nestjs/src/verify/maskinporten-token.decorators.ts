import { createParamDecorator, Inject, SetMetadata } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { validateTokenRequirements } from '@portvakt/verify';
import type { MaskinportenTokenClaims, TokenRequirements } from '@portvakt/verify';
import { MASKINPORTEN_VERIFIER, REQUIRED_SCOPES_METADATA, REQUIREMENTS_METADATA, SKIP_TOKEN_METADATA } from './maskinporten-verifier.constants.js';

/**
 * Scopes a controller or a handler requires of the Maskinporten token, checked by
 * `MaskinportenTokenGuard`. Requirements add up: a handler needs the scopes on its controller and
 * its own, so a handler can narrow its controller's access but never widen it. Every scope listed
 * must be granted (exact match).
 *
 * @example
 * ```ts
 * @Controller('cases')
 * @UseGuards(MaskinportenTokenGuard)
 * @RequireMaskinportenScope('nav:cases/read')
 * export class CasesController {
 *   @Post()
 *   @RequireMaskinportenScope('nav:cases/write') // needs read and write
 *   create(@MaskinportenToken() token: MaskinportenTokenClaims) {}
 * }
 * ```
 */
export function RequireMaskinportenScope(...scopes: string[]): ClassDecorator & MethodDecorator {
  validateTokenRequirements({ scope: scopes }, '@RequireMaskinportenScope ');
  return SetMetadata(REQUIRED_SCOPES_METADATA, scopes);
}

/**
 * Requires a Maskinporten token on a controller or handler, with further requirements (scope,
 * audience, consumers, suppliers). Like the scopes, the controller's and the handler's
 * requirements both apply. Without arguments it only marks the route as guarded, which matters
 * inside a controller marked `@SkipMaskinportenToken()`.
 *
 * @example
 * ```ts
 * @Get(':orgno/report')
 * @RequireMaskinportenToken({ scope: 'skatteetaten:report', consumers: ['910753614', '991825827'] })
 * report(@MaskinportenToken('consumerOrg') consumer: string) {}
 * ```
 */
export function RequireMaskinportenToken(requirements: TokenRequirements = {}): ClassDecorator & MethodDecorator {
  validateTokenRequirements(requirements, '@RequireMaskinportenToken ');
  return SetMetadata(REQUIREMENTS_METADATA, requirements);
}

/**
 * Lets requests through `MaskinportenTokenGuard` without a token: for a health check under a
 * global guard, say. On a controller it applies to every handler that does not declare its own
 * `@RequireMaskinportenScope` or `@RequireMaskinportenToken`.
 *
 * @example
 * ```ts
 * @Get('health')
 * @SkipMaskinportenToken()
 * health() { return { ok: true }; }
 * ```
 */
export function SkipMaskinportenToken(): ClassDecorator & MethodDecorator {
  return SetMetadata(SKIP_TOKEN_METADATA, true);
}

/**
 * The verified claims of the request's Maskinporten token (set by `MaskinportenTokenGuard`), or
 * one of them by name. Undefined on a route the guard did not check.
 *
 * @example
 * ```ts
 * @Get()
 * list(@MaskinportenToken() token: MaskinportenTokenClaims, @MaskinportenToken('consumerOrg') consumer: string | undefined) {}
 * ```
 */
export const MaskinportenToken: (claim?: keyof MaskinportenTokenClaims) => ParameterDecorator = createParamDecorator(
  (claim: keyof MaskinportenTokenClaims | undefined, context: ExecutionContext) => {
    const claims = context.switchToHttp().getRequest<{ maskinportenToken?: MaskinportenTokenClaims }>().maskinportenToken;
    return claim === undefined ? claims : claims?.[claim];
  },
);

/**
 * Injects the verifier of `MaskinportenVerifierModule`, to verify tokens outside a guard.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class WebhookService {
 *   constructor(@InjectMaskinportenVerifier() private readonly verifier: MaskinportenVerifier) {}
 * }
 * ```
 */
export function InjectMaskinportenVerifier(): PropertyDecorator & ParameterDecorator {
  return Inject(MASKINPORTEN_VERIFIER);
}
