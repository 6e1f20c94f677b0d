import { createParamDecorator, Inject, SetMetadata } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { validateRequestRequirements, validateTokenRequirements } from '@portvakt/verify';
import type { MaskinportenTokenClaims, RequestRequirements } from '@portvakt/verify';
import { MASKINPORTEN_VERIFIER, REQUIRED_SCOPES_METADATA, REQUIREMENTS_METADATA, SKIP_TOKEN_METADATA } from './maskinporten-verifier.constants.js';

/** Reflect's metadata API, as reflect-metadata (which Nest loads, and `SetMetadata` uses) adds it. */
const metadata = Reflect as unknown as {
  getMetadata(key: string, target: object): unknown;
  defineMetadata(key: string, value: unknown, target: object): void;
};

/**
 * A decorator that adds `entries` to the list under `key` on a controller or handler, where
 * `SetMetadata` would replace it: two requirement decorators on one handler (or one controller)
 * both apply, as two middlewares do in Express, and a controller that extends another adds to
 * what it inherits.
 */
function addMetadata(key: string, entries: readonly unknown[]): ClassDecorator & MethodDecorator {
  const decorator = (target: object, _property?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = descriptor === undefined ? target : (descriptor.value as object);
    const present = metadata.getMetadata(key, holder);
    // Decorators run from the bottom up: putting each in front keeps the order they are written in.
    metadata.defineMetadata(key, Object.freeze([...entries, ...(Array.isArray(present) ? present : [])]), holder);
    return descriptor ?? target;
  };
  return Object.assign(decorator, { KEY: key }) as ClassDecorator & MethodDecorator;
}

/**
 * Scopes a controller or a handler requires of the Maskinporten token, checked by
 * `MaskinportenTokenGuard`. Requirements add up: a handler needs the scopes on its controller and
 * its own, and the scopes of every `@RequireMaskinportenScope` on one target, so a handler can
 * narrow its controller's access but never widen it. Every scope listed must be granted (exact
 * match).
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
  return addMetadata(REQUIRED_SCOPES_METADATA, [...scopes]);
}

/**
 * What the functions of `@RequireMaskinportenToken()` are given by default: the request as both
 * of Nest's HTTP platforms (Express and Fastify) have it. Name your platform's request type as the
 * decorator's type argument for more.
 *
 * @example
 * ```ts
 * const pidOf = (req: MaskinportenNestRequest) => req.params.pid;
 * ```
 */
export interface MaskinportenNestRequest {
  params: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, unknown>>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Requires a Maskinporten token on a controller or handler, with further requirements: `scope`,
 * `audience`, `consumers`, `suppliers`, `pid` (`true`, a person, or a function of the request such
 * as `(req) => req.params.pid`), `consent`, `systemUser`, and `organizationPolicy(claims, req)`
 * (may be async). Like the scopes, the controller's and the handler's requirements all apply, and
 * so does each of several `@RequireMaskinportenToken`s on one target: every one must be met on its
 * own (`{ scope: 'nav:read' }` above `{ consumers: [B] }` needs both). Without arguments it only
 * marks the route as guarded, which matters inside a controller marked `@SkipMaskinportenToken()`.
 *
 * @example
 * ```ts
 * @Get(':orgno/report')
 * @RequireMaskinportenToken({ scope: 'skatteetaten:report', consumers: ['910753614', '991825827'] })
 * report(@MaskinportenToken('consumerOrg') consumer: string) {}
 *
 * @Get('persons/:pid')
 * @RequireMaskinportenToken({ pid: (req) => req.params.pid })
 * person(@Param('pid') pid: string) {}
 * ```
 */
export function RequireMaskinportenToken<Request = MaskinportenNestRequest>(requirements: RequestRequirements<Request> = {}): ClassDecorator & MethodDecorator {
  // A frozen copy: the caller's objects may change afterwards, and a frozen one is compiled once.
  return addMetadata(REQUIREMENTS_METADATA, [validateRequestRequirements<Request>(requirements, '@RequireMaskinportenToken ')]);
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
