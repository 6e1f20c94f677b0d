/**
 * What an API requires of a verified token: scopes, audience, consumers and suppliers. Requirements
 * given at different levels (the verifier, a router, a route) all apply: every required scope must
 * be granted, and each level's audience, consumer and supplier lists must each be met.
 */
import { ConfigurationError, isValidOrganizationNumber } from '@portvakt/core';
import { describeValue, refuseUnknownOptions } from '@portvakt/core/internal';
import type { MaskinportenTokenClaims } from './claims.js';
import { InsufficientScopeError, InvalidTokenError, OrganizationNotAllowedError } from './errors.js';

/**
 * Requirements on a token, for the verifier as a whole or for one `verify()` call (both apply).
 *
 * @example
 * ```ts
 * const requirements: TokenRequirements = { scope: 'nav:aareg/v1', consumers: ['910753614'] };
 * await verifier.verify(token, requirements);
 * ```
 */
export interface TokenRequirements {
  /** Scopes the token must have, every one of them (exact match per scope, never a prefix). */
  scope?: string | readonly string[] | undefined;
  /** Accepted `aud` values: the token's `aud` must contain at least one (RFC 8707 resource indicators). */
  audience?: string | readonly string[] | undefined;
  /** Organisation numbers (9 digits) allowed as `consumer`. */
  consumers?: string | readonly string[] | undefined;
  /**
   * Organisation numbers allowed as `supplier`: the token must be delegated
   * (docs/maskinporten-rules.md §5.1) by one of these. A token without `supplier` is refused.
   */
  suppliers?: string | readonly string[] | undefined;
}

/** Requirements after validation, ready to check. */
export interface CompiledRequirements {
  readonly scopes: readonly string[];
  readonly audiences: readonly ReadonlySet<string>[];
  readonly consumers: readonly ReadonlySet<string>[];
  readonly suppliers: readonly ReadonlySet<string>[];
}

export const REQUIREMENT_KEYS = ['scope', 'audience', 'consumers', 'suppliers'] as const;

export const NO_REQUIREMENTS: CompiledRequirements = Object.freeze({ scopes: [], audiences: [], consumers: [], suppliers: [] });

// RFC 6750 section 3: a scope in WWW-Authenticate is a scope-token (%x21 / %x23-5B / %x5D-7E),
// so no quote, backslash, space or control character.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const AUDIENCE = /^[\x21-\x7E]+$/;

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
  }
  return new Set(audiences);
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
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigurationError(prefix === '' ? 'requirements' : prefix.slice(0, -1), 'must be an object such as { scope: "nav:aareg" }.');
  }
  refuseUnknownOptions(input, REQUIREMENT_KEYS, prefix);
  const { scope, audience, consumers, suppliers } = input as TokenRequirements;
  return Object.freeze({
    scopes: scope === undefined ? [] : scopesOf(scope, `${prefix}scope`),
    audiences: audience === undefined ? [] : [audiencesOf(audience, `${prefix}audience`)],
    consumers: consumers === undefined ? [] : [organizationsOf(consumers, `${prefix}consumers`)],
    suppliers: suppliers === undefined ? [] : [organizationsOf(suppliers, `${prefix}suppliers`)],
  });
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
    scopes: [...new Set([...a.scopes, ...b.scopes])],
    audiences: [...a.audiences, ...b.audiences],
    consumers: [...a.consumers, ...b.consumers],
    suppliers: [...a.suppliers, ...b.suppliers],
  });
}

/**
 * Checks verified claims against requirements, in the order of the answers' weight: audience
 * (401: the token is not for this API), then scope, consumer and supplier (403).
 *
 * @example
 * ```ts
 * import { enforceRequirements } from './requirements.js'; // internal
 * enforceRequirements(claims, compileRequirements({ scope: 'nav:aareg' }, ''));
 * ```
 */
export function enforceRequirements(claims: MaskinportenTokenClaims, requirements: CompiledRequirements): void {
  for (const accepted of requirements.audiences) {
    if (!claims.audience.some((aud) => accepted.has(aud))) {
      const had = claims.audience.length === 0 ? 'has no aud' : `has aud ${claims.audience.map((a) => describeValue(a)).join(', ')}`;
      throw new InvalidTokenError('wrong_audience', `The token ${had}; this API accepts ${[...accepted].join(', ')}.`);
    }
  }
  if (requirements.scopes.length > 0) {
    // Exact match per scope: 'nav:test' is not granted by 'nav:testing' or 'nav:test2'.
    const missing = requirements.scopes.filter((scope) => !claims.scopes.includes(scope));
    if (missing.length > 0) throw new InsufficientScopeError(requirements.scopes, missing);
  }
  for (const allowed of requirements.consumers) {
    if (claims.consumerOrg === undefined || !allowed.has(claims.consumerOrg)) {
      throw new OrganizationNotAllowedError('consumer', `The token's consumer ${describeValue(claims.consumer.ID)} is not one of the organisations allowed here.`);
    }
  }
  for (const allowed of requirements.suppliers) {
    if (claims.supplierOrg === undefined || !allowed.has(claims.supplierOrg)) {
      const who = claims.supplier === undefined ? 'is not delegated (no supplier)' : `has supplier ${describeValue(claims.supplier.ID)}, not one of the suppliers allowed here`;
      throw new OrganizationNotAllowedError('supplier', `The token ${who}.`);
    }
  }
}
