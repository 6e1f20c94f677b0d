/**
 * What an API requires of a verified token: scopes, audience, consumers and suppliers, a person,
 * a consent, a system user, and an organisation policy of its own. Requirements given at different
 * levels (the verifier, a router, a route) all apply: every required scope must be granted, and
 * each level's audience, organisation, person, consent and system-user requirements must each be
 * met. The checks themselves are in `enforce.ts`.
 */
import { ConfigurationError, isValidOrganizationNumber } from '@portvakt/core';
import { describeValue, refuseUnknownOptions } from '@portvakt/core/internal';
import type { MaskinportenTokenClaims } from './claims.js';
import { OrganizationNotAllowedError } from './errors.js';

/**
 * A consent the token must carry (docs/maskinporten-rules.md §5.4): the Altinn resource it names
 * in `consentRights[].resource[]` (`value`, with type `urn:altinn:resource`), optionally metadata
 * values that same right must have, and who must have consented.
 *
 * @example
 * ```ts
 * const consent: ConsentRequirement = { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } };
 * ```
 */
export interface ConsentRequirement {
  /** The Altinn resource id, such as `enkelt-samtykke`. */
  resource: string;
  /** Metadata values the right must carry, compared as strings. */
  metadata?: Readonly<Record<string, string>> | undefined;
  /**
   * Who must have consented (the consent's `from`): the person's 11-digit pid or the organisation's
   * 9-digit number. In a guard it may be a function of the request (see `RequestRequirements`).
   */
  from?: string | undefined;
}

/**
 * The Altinn system user a token must carry (docs/maskinporten-rules.md §5.3). In a system-user
 * token the `consumer` is the vendor that owns the system, and the customer is `systemuser_org`:
 * `customers` lists the customers, and the verifier's `consumers` the vendors.
 *
 * @example
 * ```ts
 * const systemUser: SystemUserRequirement = { systemId: '991825827_payroll', customers: ['910753614'] };
 * ```
 */
export interface SystemUserRequirement {
  /** Accepted `system_id`s: the systems in Altinn's system register. */
  systemId?: string | readonly string[] | undefined;
  /** Accepted customers: the 9-digit organisation number of `systemuser_org`. */
  customers?: string | readonly string[] | undefined;
}

/**
 * A decision of the API's own on whether the token's organisation may have what it asks for, the
 * way navikt/maskinporten-validation's organisation validator decides it: the consumer, or for a
 * delegated token the supplier too, against the API's own records. Anything but `true` refuses the
 * token with 403 `organization_not_allowed`; a throw or a rejection is an error of the API (500).
 *
 * @example
 * ```ts
 * const policy: OrganizationPolicy = async (claims) => agreements.has(claims.consumerOrg ?? '');
 * ```
 */
export type OrganizationPolicy = (claims: MaskinportenTokenClaims) => boolean | Promise<boolean>;

/**
 * Requirements on a token, for the verifier as a whole or for one `verify()` call (both apply).
 * The guards (`requireMaskinportenToken()`, `MaskinportenTokenGuard`, the Fastify plugin) also take
 * a `pid` and an `organizationPolicy` that are functions of the request: see `RequestRequirements`.
 *
 * @example
 * ```ts
 * const requirements: TokenRequirements = { scope: 'nav:aareg/v1', consumers: ['910753614'], pid: true };
 * await verifier.verify(token, requirements);
 * ```
 */
export interface TokenRequirements {
  /** Scopes the token must have, every one of them (exact match per scope, never a prefix). */
  scope?: string | readonly string[] | undefined;
  /**
   * Accepted `aud` values: the token's `aud` must contain at least one (RFC 8707 resource
   * indicators). `"unspecified"` is never an audience (docs/maskinporten-rules.md §9, Q13).
   */
  audience?: string | readonly string[] | undefined;
  /** Organisation numbers (9 digits) allowed as `consumer`. */
  consumers?: string | readonly string[] | undefined;
  /**
   * Organisation numbers allowed as `supplier`: the token must be delegated
   * (docs/maskinporten-rules.md §5.1) by one of these. A token without `supplier` is refused.
   */
  suppliers?: string | readonly string[] | undefined;
  /**
   * A pid-restricted API (docs/maskinporten-rules.md §5.5): `true` requires a `pid`; a string
   * requires that very person (11 digits). Refusal: 403 `person_not_allowed`.
   */
  pid?: true | string | undefined;
  /**
   * A consent the token must carry: the Altinn resource, or `{ resource, metadata }`. Only a
   * consent given to the token's consumer whose `validTo` has not passed counts. Refusal: 403
   * `consent_missing`.
   */
  consent?: string | ConsentRequirement | undefined;
  /** `true`: the token must have an Altinn system user; or the systems and customers allowed. Refusal: 403 `system_user_not_allowed`. */
  systemUser?: true | SystemUserRequirement | undefined;
  /** The API's own decision on the token's organisation; may be async. Refusal: 403 `organization_not_allowed`. */
  organizationPolicy?: OrganizationPolicy | undefined;
}

/** A consent requirement after validation. */
export interface CompiledConsent {
  readonly resource: string;
  readonly metadata: readonly (readonly [string, string])[];
  /** The pid or organisation number that must have consented, when one must. */
  readonly from: string | undefined;
}

/** A system-user requirement after validation; an empty set accepts any. */
export interface CompiledSystemUser {
  readonly systemIds: ReadonlySet<string> | undefined;
  readonly customers: ReadonlySet<string> | undefined;
}

/** A check that needs the claims and may wait: an organisation policy, or a guard's per-request check. */
export type ClaimsCheck = (claims: MaskinportenTokenClaims) => void | Promise<void>;

/** Requirements after validation, ready to check. */
export interface CompiledRequirements {
  readonly scopes: readonly string[];
  readonly audiences: readonly ReadonlySet<string>[];
  readonly consumers: readonly ReadonlySet<string>[];
  readonly suppliers: readonly ReadonlySet<string>[];
  /** `true` when a `pid` is required; each string a person it must be. */
  readonly pids: readonly (true | string)[];
  readonly consents: readonly CompiledConsent[];
  readonly systemUsers: readonly CompiledSystemUser[];
  /** Run after every other check, in order; a token is remembered only once they have passed. */
  readonly checks: readonly ClaimsCheck[];
}

export const REQUIREMENT_KEYS = ['scope', 'audience', 'consumers', 'suppliers', 'pid', 'consent', 'systemUser', 'organizationPolicy'] as const;

/**
 * The key of a per-request check that a guard adds to a call's requirements (`verifyRequest()`
 * puts a function of the request here). A symbol of this module: nothing outside the package can
 * set it, and option checks (which read string keys) never see it.
 */
export const REQUEST_CHECK: unique symbol = Symbol('portvakt.requestCheck');

export const NO_REQUIREMENTS: CompiledRequirements = Object.freeze({ scopes: [], audiences: [], consumers: [], suppliers: [], pids: [], consents: [], systemUsers: [], checks: [] });

// RFC 6750 section 3: a scope in WWW-Authenticate is a scope-token (%x21 / %x23-5B / %x5D-7E),
// so no quote, backslash, space or control character.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const AUDIENCE = /^[\x21-\x7E]+$/;
// docs/maskinporten-rules.md §10: a pid is 11 digits; Maskinporten checks its form only.
const PID = /^\d{11}$/;

function listOf(value: unknown, field: string, what: string): string[] {
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : undefined;
  if (items === undefined || items.length === 0 || !items.every((item) => typeof item === 'string')) {
    throw new ConfigurationError(field, `must be ${what} as a string or a non-empty array of strings, or left out.`);
  }
  return items as string[];
}

function scopesOf(value: unknown, field: string): string[] {
  const scopes = listOf(value, field, 'the required scope(s)').flatMap((item) => item.split(' ')).filter((s) => s !== '');
  if (scopes.length === 0) throw new ConfigurationError(field, 'has no scope: give one such as "nav:aareg".');
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw new ConfigurationError(field, `${describeValue(scope)} is not a scope (printable characters, no quote or backslash).`);
  }
  return [...new Set(scopes)];
}

function organizationsOf(value: unknown, field: string): ReadonlySet<string> {
  const orgnos = listOf(value, field, 'organisation numbers');
  for (const orgno of orgnos) {
    if (!isValidOrganizationNumber(orgno)) {
      const hint = /^0192:\d{9}$/.test(orgno) ? ` without the "0192:" prefix: "${orgno.slice(5)}"` : '';
      throw new ConfigurationError(field, `${describeValue(orgno)} is not a valid 9-digit organisation number; give it${hint || ' as 9 digits'}.`);
    }
  }
  return new Set(orgnos);
}

function audiencesOf(value: unknown, field: string): ReadonlySet<string> {
  const audiences = listOf(value, field, 'the accepted audience(s)');
  for (const audience of audiences) {
    if (!AUDIENCE.test(audience)) throw new ConfigurationError(field, `${describeValue(audience)} is not an audience (a URI without spaces).`);
    if (audience === 'unspecified') throw new ConfigurationError(field, '"unspecified" is how Digdir writes "no audience", so no token can be for it: give the resource the API tells its clients to ask for.');
  }
  return new Set(audiences);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pidOf(value: unknown, field: string): true | string {
  if (value === true) return true;
  if (typeof value === 'function') throw new ConfigurationError(field, 'is a function of the request: give it to a guard (requireMaskinportenToken(), @RequireMaskinportenToken(), the Fastify plugin) or verifyRequest(), which have the request.');
  if (typeof value !== 'string') throw new ConfigurationError(field, 'must be true (a pid is required) or the 11-digit pid the token must be for.');
  if (!PID.test(value)) throw new ConfigurationError(field, 'must be an 11-digit pid (fødselsnummer or d-nummer).');
  return value;
}

function consentOf(value: unknown, field: string): CompiledConsent {
  const input = typeof value === 'string' ? { resource: value } : value;
  if (!isRecord(input)) throw new ConfigurationError(field, 'must be the Altinn resource id (a string) or { resource, metadata? }.');
  refuseUnknownOptions(input, ['resource', 'metadata', 'from'], `${field}.`);
  if (typeof input.resource !== 'string' || input.resource.trim() === '') throw new ConfigurationError(`${field}.resource`, 'must be the Altinn resource id the consent is for, such as "enkelt-samtykke".');
  const metadata = input.metadata ?? {};
  if (!isRecord(metadata) || !Object.values(metadata).every((v) => typeof v === 'string')) {
    throw new ConfigurationError(`${field}.metadata`, 'must be an object of string values, such as { inntektsaar: "2025" }.');
  }
  const from = input.from;
  if (typeof from === 'function') throw new ConfigurationError(`${field}.from`, 'is a function of the request: give it to a guard or verifyRequest(), which have the request.');
  if (from !== undefined && (typeof from !== 'string' || !/^(\d{9}|\d{11})$/.test(from))) {
    throw new ConfigurationError(`${field}.from`, 'must be the pid (11 digits) or organisation number (9 digits) that must have consented, or left out.');
  }
  return Object.freeze({ resource: input.resource, metadata: Object.freeze(Object.entries(metadata as Record<string, string>).map(([k, v]) => Object.freeze([k, v] as const))), from });
}

function systemUserOf(value: unknown, field: string): CompiledSystemUser {
  if (value === true) return Object.freeze({ systemIds: undefined, customers: undefined });
  if (!isRecord(value)) throw new ConfigurationError(field, 'must be true (any system user) or { systemId?, customers? }.');
  refuseUnknownOptions(value, ['systemId', 'customers'], `${field}.`);
  const systemIds = value.systemId === undefined ? undefined : new Set(listOf(value.systemId, `${field}.systemId`, 'the accepted system id(s)'));
  const customers = value.customers === undefined ? undefined : organizationsOf(value.customers, `${field}.customers`);
  return Object.freeze({ systemIds, customers });
}

/**
 * Whether `value`, and every array and object inside it, is a frozen plain object or array that
 * holds only data properties (no getter, nothing inherited from a class or another object): only
 * then can what it compiles to be kept and reused for the same object. A
 * requirements object frozen only at the top (`Object.freeze({ scope: list })`) can still change
 * through `list`, so it is compiled on each call instead.
 * @example
 * ```ts
 * isDeeplyFrozen(Object.freeze({ scope: Object.freeze(['nav:a']) })); // true
 * isDeeplyFrozen(Object.freeze({ scope: ['nav:a'] })); // false
 * ```
 */
export function isDeeplyFrozen(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > 16 || !Object.isFrozen(value)) return false;
  // Requirements are read by name, inherited members included: only a plain object or array
  // (whose prototype holds no requirement) can be judged by its own properties.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null) return false;
  const descriptors = Object.getOwnPropertyDescriptors(value);
  for (const key of Reflect.ownKeys(descriptors)) {
    const descriptor = descriptors[key as string] as PropertyDescriptor;
    if (!('value' in descriptor) || !isDeeplyFrozen(descriptor.value, depth + 1)) return false;
  }
  return true;
}

/**
 * Validates requirements (`prefix` names their fields in errors) and compiles them.
 * @example
 * ```ts
 * import { compileRequirements } from './requirements.js'; // internal
 * const compiled = compileRequirements({ scope: 'nav:aareg' }, '');
 * ```
 */
export function compileRequirements(input: unknown, prefix: string): CompiledRequirements {
  if (input === undefined) return NO_REQUIREMENTS;
  if (!isRecord(input)) throw new ConfigurationError(prefix === '' ? 'requirements' : prefix.slice(0, -1), 'must be an object such as { scope: "nav:aareg" }.');
  refuseUnknownOptions(input, REQUIREMENT_KEYS, prefix);
  const { scope, audience, consumers, suppliers, pid, consent, systemUser, organizationPolicy } = input as TokenRequirements;
  const requestCheck = (input as { [REQUEST_CHECK]?: unknown })[REQUEST_CHECK];
  if (organizationPolicy !== undefined && typeof organizationPolicy !== 'function') {
    throw new ConfigurationError(`${prefix}organizationPolicy`, 'must be a function (claims) => boolean | Promise<boolean>, or left out.');
  }
  const checks: ClaimsCheck[] = [];
  if (organizationPolicy !== undefined) checks.push(policyCheck(organizationPolicy));
  if (typeof requestCheck === 'function') checks.push(requestCheck as ClaimsCheck);
  return Object.freeze({
    scopes: scope === undefined ? [] : scopesOf(scope, `${prefix}scope`),
    audiences: audience === undefined ? [] : [audiencesOf(audience, `${prefix}audience`)],
    consumers: consumers === undefined ? [] : [organizationsOf(consumers, `${prefix}consumers`)],
    suppliers: suppliers === undefined ? [] : [organizationsOf(suppliers, `${prefix}suppliers`)],
    pids: pid === undefined ? [] : [pidOf(pid, `${prefix}pid`)],
    consents: consent === undefined ? [] : [consentOf(consent, `${prefix}consent`)],
    systemUsers: systemUser === undefined ? [] : [systemUserOf(systemUser, `${prefix}systemUser`)],
    checks,
  });
}

/**
 * A policy as a check: anything but `true` is a 403 for the party it was about (the supplier of a
 * delegated token, else the consumer). The policy's own throw or rejection passes through.
 * @example
 * ```ts
 * const check = policyCheck((claims) => claims.consumerOrg === '910753614');
 * ```
 */
export function policyCheck(policy: OrganizationPolicy): ClaimsCheck {
  const refuse = (claims: MaskinportenTokenClaims): never => {
    const role = claims.supplier === undefined ? 'consumer' : 'supplier';
    const who = role === 'consumer' ? claims.consumer.ID : (claims.supplier as { ID: string }).ID;
    throw new OrganizationNotAllowedError(role, `The organisation policy does not allow the token's ${role} ${describeValue(who)} here.`);
  };
  return (claims) => {
    const allowed: unknown = policy(claims);
    if (allowed === true) return;
    if (typeof (allowed as PromiseLike<unknown> | null)?.then === 'function') {
      return Promise.resolve(allowed).then((later) => {
        if (later !== true) refuse(claims);
      });
    }
    refuse(claims);
  };
}

/**
 * Checks requirements the way `verify()` will, so an adapter can refuse a wrong option when it is
 * set up rather than on the first request. Throws a `ConfigurationError` naming the field
 * (`fieldPrefix` + `scope`, ...).
 *
 * @example
 * ```ts
 * import { validateTokenRequirements } from '@portvakt/verify';
 * validateTokenRequirements({ scope: 'nav:aareg', consumers: ['910753614'] });
 * validateTokenRequirements({ scopes: 'nav:aareg' }); // ConfigurationError: Invalid option "scopes": ... did you mean "scope"?
 * ```
 */
export function validateTokenRequirements(requirements: unknown, fieldPrefix = ''): void {
  compileRequirements(requirements, fieldPrefix);
}

/**
 * Both sets of requirements at once.
 * @example
 * ```ts
 * const both = combineRequirements(verifierDefaults, routeRequirements);
 * ```
 */
export function combineRequirements(a: CompiledRequirements, b: CompiledRequirements): CompiledRequirements {
  if (b === NO_REQUIREMENTS) return a;
  if (a === NO_REQUIREMENTS) return b;
  return Object.freeze({
    scopes: a.scopes.length === 0 ? b.scopes : b.scopes.length === 0 ? a.scopes : [...new Set([...a.scopes, ...b.scopes])],
    audiences: [...a.audiences, ...b.audiences],
    consumers: [...a.consumers, ...b.consumers],
    suppliers: [...a.suppliers, ...b.suppliers],
    pids: [...a.pids, ...b.pids],
    consents: [...a.consents, ...b.consents],
    systemUsers: [...a.systemUsers, ...b.systemUsers],
    checks: [...a.checks, ...b.checks],
  });
}
