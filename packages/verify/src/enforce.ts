/**
 * Checking verified claims against compiled requirements, in the order of the answers' weight:
 * audience (401: the token is not for this API), then scope, organisations, person, system user
 * and consent (403), then the checks that may wait (organisation policies, a guard's per-request
 * check).
 */
import { describeValue } from '@portvakt/core/internal';
import { consentValidUntil } from './claims.js';
import type { MaskinportenTokenClaims } from './claims.js';
import { InsufficientScopeError, InvalidTokenError, OrganizationNotAllowedError, RequirementNotMetError } from './errors.js';
import type { CompiledConsent, CompiledRequirements, CompiledSystemUser } from './requirements.js';

const ALTINN_RESOURCE = 'urn:altinn:resource';

/**
 * Whether the consent in `claims` is one the API may rely on (docs/maskinporten-rules.md §6.10,
 * §11.3): given to the token's consumer, still valid at `at` (with the tolerance), for the
 * resource, with the metadata asked for. A consent to another organisation, or without `validTo`,
 * counts for nothing.
 */
function consentHolds(claims: MaskinportenTokenClaims, required: CompiledConsent, at: number, toleranceMs: number): boolean {
  const consent = claims.consent;
  const validUntil = consentValidUntil(consent);
  if (consent?.to === undefined || validUntil === undefined || validUntil <= at - toleranceMs) return false;
  const toConsumer = consent.toOrg !== undefined ? consent.toOrg === claims.consumerOrg : consent.to.authority === claims.consumer.authority && consent.to.ID === claims.consumer.ID;
  if (!toConsumer) return false;
  if (required.from !== undefined && consent.fromPid !== required.from && consent.fromOrg !== required.from) return false;
  return consent.rights.some(
    (right) =>
      right.resource.some((r) => r.type === ALTINN_RESOURCE && r.value === required.resource) &&
      required.metadata.every(([name, value]) => right.metadata !== undefined && Object.hasOwn(right.metadata, name) && right.metadata[name] === value),
  );
}

function systemUserAllowed(claims: MaskinportenTokenClaims, required: CompiledSystemUser): string | undefined {
  const systemUser = claims.systemUser;
  if (systemUser === undefined) return 'The token has no Altinn system user; this API is for system users.';
  if (required.systemIds !== undefined && !required.systemIds.has(systemUser.systemId)) return `The token's system ${describeValue(systemUser.systemId)} is not one allowed here.`;
  if (required.customers !== undefined && (systemUser.orgno === undefined || !required.customers.has(systemUser.orgno))) {
    return `The token's system user belongs to the customer ${describeValue(systemUser.org.ID)}, not one allowed here.`;
  }
  return undefined;
}

/**
 * Checks the requirements that need no waiting; throws the refusal. `at` is the clock's time, for
 * a consent's `validTo`.
 *
 * @example
 * ```ts
 * import { enforceRequirements } from './enforce.js'; // internal
 * enforceRequirements(claims, compileRequirements({ scope: 'nav:aareg' }, ''), Date.now(), 5000);
 * ```
 */
export function enforceRequirements(claims: MaskinportenTokenClaims, requirements: CompiledRequirements, at: number, toleranceMs: number): void {
  for (const accepted of requirements.audiences) {
    if (!claims.audience.some((aud) => accepted.has(aud))) {
      const had = claims.audience.length === 0 ? 'has no aud' : `has aud ${claims.audience.map((a) => describeValue(a)).join(', ')}`;
      throw new InvalidTokenError('wrong_audience', `The token ${had}; this API accepts ${[...accepted].join(', ')}.`);
    }
  }
  // Exact match per scope: 'nav:test' is not granted by 'nav:testing' or 'nav:test2'.
  const { scopes } = requirements;
  for (let i = 0; i < scopes.length; i++) {
    if (!claims.scopes.includes(scopes[i] as string)) throw new InsufficientScopeError(scopes, scopes.filter((scope) => !claims.scopes.includes(scope)));
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
  // docs/maskinporten-rules.md §6.8: a token without pid, or with another person's, is refused.
  // The pid itself never goes into the message: it is a national identity number.
  if (requirements.pids.length > 0 || requirements.systemUsers.length > 0 || requirements.consents.length > 0) enforceAltinnRequirements(claims, requirements, at, toleranceMs);
}

/** The person, system-user and consent requirements (apart, so the common path stays short). */
function enforceAltinnRequirements(claims: MaskinportenTokenClaims, requirements: CompiledRequirements, at: number, toleranceMs: number): void {
  for (const pid of requirements.pids) {
    if (claims.pid === undefined) throw new RequirementNotMetError('pid', 'The token has no pid; this API serves one person per request and needs a pid-restricted token.');
    if (pid !== true && claims.pid !== pid) throw new RequirementNotMetError('pid', 'The token is for another person than the one this request is about.');
  }
  for (const required of requirements.systemUsers) {
    const problem = systemUserAllowed(claims, required);
    if (problem !== undefined) throw new RequirementNotMetError('systemUser', problem);
  }
  for (const required of requirements.consents) {
    if (!consentHolds(claims, required, at, toleranceMs)) {
      throw new RequirementNotMetError('consent', `The token carries no consent to its consumer, still valid, for the resource ${describeValue(required.resource)}${required.metadata.length > 0 ? ' with the metadata required' : ''}.`);
    }
  }
}

/**
 * Runs the checks that may wait (organisation policies, a guard's per-request check), one after
 * the other; returns a promise only when one of them does.
 *
 * @example
 * ```ts
 * import { runChecks } from './enforce.js'; // internal
 * await runChecks(claims, compiled);
 * ```
 */
export function runChecks(claims: MaskinportenTokenClaims, requirements: CompiledRequirements, from = 0): void | Promise<void> {
  const { checks } = requirements;
  for (let i = from; i < checks.length; i++) {
    const pending = (checks[i] as (claims: MaskinportenTokenClaims) => void | Promise<void>)(claims);
    if (pending !== undefined) return pending.then(() => runChecks(claims, requirements, i + 1));
  }
  return undefined;
}
