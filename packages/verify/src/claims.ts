/**
 * The claims of a Maskinporten access token (docs/maskinporten-rules.md §3.3, delegation 5.1, audience 5.2,
 * system user 5.3, consent 5.4, pid 5.5), type-checked and given names in Maskinporten's words.
 * Claims Maskinporten always sets are required; the others are checked when present.
 */
import { describeValue } from '@portvakt/core/internal';
import { InvalidTokenError } from './errors.js';
import { parseRfc3339 } from './rfc3339.js';

/**
 * An organisation as Maskinporten writes it: `{ authority: 'iso6523-actorid-upis', ID: '0192:<orgno>' }`
 * for Norwegian organisations, other authorities for European eSeals (docs/maskinporten-rules.md §5.6).
 * @example
 * ```ts
 * const consumer: OrganizationIdentifier = { authority: 'iso6523-actorid-upis', ID: '0192:910753614' };
 * ```
 */
export interface OrganizationIdentifier {
  readonly authority: string;
  readonly ID: string;
}

/**
 * The Altinn system user of a token (`authorization_details` of type `urn:altinn:systemuser`).
 * The customer is `orgno`; the token's `consumer` is the vendor that owns the system.
 * @example
 * ```ts
 * const su: SystemUserClaims | undefined = claims.systemUser;
 * if (su) await altinnPdp.check(su.id, su.orgno);
 * ```
 */
export interface SystemUserClaims {
  /** `systemuser_id[0]`: the system user's UUID. */
  readonly id: string;
  /** `systemuser_id` as Maskinporten sends it (an array). */
  readonly ids: readonly string[];
  /** `systemuser_org`: the customer that created the system user. */
  readonly org: OrganizationIdentifier;
  /** The customer's 9-digit organisation number, when `org` is an ISO 6523 `0192` identifier. */
  readonly orgno: string | undefined;
  /** `system_id`: the system in Altinn's system register. */
  readonly systemId: string;
  /** `externalRef`, when the token carries one. */
  readonly externalRef: string | undefined;
}

/**
 * One right in a consent (`consentRights`).
 * @example
 * ```ts
 * const right: ConsentRight = { action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'enkelt-samtykke' }], metadata: undefined };
 * ```
 */
export interface ConsentRight {
  readonly action: readonly string[];
  readonly resource: readonly { readonly type: string; readonly value: string }[];
  /**
   * The right's metadata. Altinn's pages spell the member both `metadata` and `metaData`; either
   * is read (a right with both is refused as ambiguous).
   */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The Altinn consent of a token (`authorization_details` of type `urn:altinn:consent`).
 * @example
 * ```ts
 * const consent: ConsentClaims | undefined = claims.consent;
 * if (consent?.fromPid !== req.params.pid) throw new ForbiddenException();
 * ```
 */
export interface ConsentClaims {
  /** The consent request's UUID. */
  readonly id: string;
  /** URN of who consented: `urn:altinn:person:identifier-no:<pid>` or `urn:altinn:organization:identifier-no:<orgno>`. */
  readonly from: string;
  /** The person in `from`, when it is a person. */
  readonly fromPid: string | undefined;
  /** The organisation number in `from`, when it is an organisation. */
  readonly fromOrg: string | undefined;
  /** Who the consent was given to. */
  readonly to: OrganizationIdentifier | undefined;
  readonly toOrg: string | undefined;
  /** When consent was given (an RFC 3339 date-time, as sent). */
  readonly consented: string | undefined;
  /** Until when the consent holds (an RFC 3339 date-time, as sent); a token with a past `validTo` is refused. */
  readonly validTo: string | undefined;
  readonly rights: readonly ConsentRight[];
}

/**
 * What `verify()` returns: the verified claims of a Maskinporten access token. `payload` is the
 * whole claim set for anything not named here. The claims and everything in them are frozen: a remembered
 * token hands the same object to every request that presents it.
 *
 * @example
 * ```ts
 * const claims: MaskinportenTokenClaims = await verifier.verify(token);
 * claims.consumerOrg; // '910753614'
 * claims.scopes;      // ['nav:aareg']
 * ```
 */
export interface MaskinportenTokenClaims {
  /** `iss`: the environment's issuer. */
  readonly issuer: string;
  /** `client_id`: the integration that got the token. Not for access decisions (use `consumer`). */
  readonly clientId: string;
  /** `client_amr`: how the client authenticated (`private_key_jwt`, `virksomhetssertifikat`, ...). */
  readonly clientAmr: string;
  /** `scope`, split on spaces. */
  readonly scopes: readonly string[];
  /** `consumer`: the organisation the token acts for (for delegated tokens, the customer). */
  readonly consumer: OrganizationIdentifier;
  /** The consumer's 9-digit organisation number, when `consumer` is an ISO 6523 `0192` identifier. */
  readonly consumerOrg: string | undefined;
  /** `supplier`: the organisation acting for the consumer, in delegated tokens. */
  readonly supplier: OrganizationIdentifier | undefined;
  readonly supplierOrg: string | undefined;
  /** `delegation_source`, in delegated tokens (e.g. `https://tt02.altinn.no/`). */
  readonly delegationSource: string | undefined;
  /**
   * `aud` as a list: empty when the token has none, and when it says `"unspecified"`, which is how
   * Digdir documents a token asked for without `resource` (docs/maskinporten-rules.md §9, Q13).
   */
  readonly audience: readonly string[];
  /** `pid`: the person an end-user-restricted token is for. */
  readonly pid: string | undefined;
  readonly systemUser: SystemUserClaims | undefined;
  readonly consent: ConsentClaims | undefined;
  /** `iat`, epoch milliseconds. */
  readonly issuedAt: number;
  /** `exp`, epoch milliseconds. */
  readonly expiresAt: number;
  /** `jti`. */
  readonly tokenId: string;
  /** The whole verified claim set. */
  readonly payload: Readonly<Record<string, unknown>>;
}

const ICD_0192 = /^0192:(\d{9})(?::|$)/;
const PERSON_URN = 'urn:altinn:person:identifier-no:';
const ORGANIZATION_URN = 'urn:altinn:organization:identifier-no:';

function invalid(claim: string, rule: string): InvalidTokenError {
  return new InvalidTokenError('invalid_claim', `The token's "${claim}" claim ${rule}.`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(payload: Record<string, unknown>, claim: string): string {
  const value = payload[claim];
  if (value === undefined) throw new InvalidTokenError('missing_claim', `The token has no "${claim}" claim; Maskinporten always sets it.`);
  if (typeof value !== 'string') throw invalid(claim, `must be a string, not ${describeValue(value)}`);
  return value;
}

function optionalString(record: Record<string, unknown>, claim: string, path = claim): string | undefined {
  const value = record[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(path, `must be a string, not ${describeValue(value)}`);
  return value;
}

function requiredNumber(payload: Record<string, unknown>, claim: string): number {
  const value = payload[claim];
  if (value === undefined) throw new InvalidTokenError('missing_claim', `The token has no "${claim}" claim; Maskinporten always sets it.`);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(claim, `must be a NumericDate (seconds), not ${describeValue(value)}`);
  return value;
}

function organization(value: unknown, path: string): OrganizationIdentifier {
  if (!isRecord(value) || typeof value.authority !== 'string' || typeof value.ID !== 'string') {
    throw invalid(path, 'must be an organisation identifier { authority, ID } with string members');
  }
  return Object.freeze({ authority: value.authority, ID: value.ID });
}

/** The 9-digit organisation number of an ISO 6523 identifier with ICD 0192 (sub-unit suffixes allowed). */
function orgnoOf(org: OrganizationIdentifier | undefined): string | undefined {
  if (org?.authority !== 'iso6523-actorid-upis') return undefined;
  return ICD_0192.exec(org.ID)?.[1];
}

function stringArray(value: unknown, path: string, nonEmpty: boolean): readonly string[] {
  if (!Array.isArray(value) || (nonEmpty && value.length === 0) || !value.every((item) => typeof item === 'string')) {
    throw invalid(path, `must be ${nonEmpty ? 'a non-empty' : 'an'} array of strings`);
  }
  return Object.freeze([...(value as string[])]);
}

/** What Digdir's token page says `aud` is "currently" for a token asked for without `resource`. */
const NO_AUDIENCE = 'unspecified';
const EMPTY: readonly string[] = Object.freeze([]);

function audienceOf(value: unknown): readonly string[] {
  if (value === undefined || value === NO_AUDIENCE) return EMPTY;
  if (typeof value === 'string') return Object.freeze([value]);
  const list = stringArray(value, 'aud', true);
  return list.includes(NO_AUDIENCE) ? Object.freeze(list.filter((aud) => aud !== NO_AUDIENCE)) : list;
}

function systemUserOf(entry: Record<string, unknown>): SystemUserClaims {
  const path = 'authorization_details[urn:altinn:systemuser]';
  const ids = stringArray(entry.systemuser_id, `${path}.systemuser_id`, true);
  const org = organization(entry.systemuser_org, `${path}.systemuser_org`);
  const systemId = optionalString(entry, 'system_id', `${path}.system_id`);
  if (systemId === undefined) throw invalid(`${path}.system_id`, 'is required');
  return Object.freeze({
    id: ids[0] as string,
    ids,
    org,
    orgno: orgnoOf(org),
    systemId,
    externalRef: optionalString(entry, 'externalRef', `${path}.externalRef`),
  });
}

function consentRightOf(value: unknown, path: string): ConsentRight {
  if (!isRecord(value)) throw invalid(path, 'must be an object');
  const resource = value.resource;
  if (!Array.isArray(resource) || !resource.every((r) => isRecord(r) && typeof r.type === 'string' && typeof r.value === 'string')) {
    throw invalid(`${path}.resource`, 'must be an array of { type, value } strings');
  }
  // docs/maskinporten-rules.md §11.3: Altinn's pages write the member `metadata` and `metaData`.
  // Both are read; a right with both would leave the API choosing, so it is refused.
  if (value.metadata !== undefined && value.metaData !== undefined) throw invalid(`${path}`, 'has both "metadata" and "metaData"');
  const metadata = value.metadata ?? value.metaData;
  if (metadata !== undefined && !isRecord(metadata)) throw invalid(`${path}.${value.metadata === undefined ? 'metaData' : 'metadata'}`, 'must be an object');
  return Object.freeze({
    action: stringArray(value.action, `${path}.action`, false),
    resource: Object.freeze(resource.map((r: Record<string, string>) => Object.freeze({ type: r.type as string, value: r.value as string }))),
    metadata: metadata === undefined ? undefined : Object.freeze({ ...metadata }),
  });
}

/** A member that must be an RFC 3339 date-time (docs/maskinporten-rules.md §5.4), as sent and as an instant. */
function dateTime(entry: Record<string, unknown>, claim: string, path: string): { text: string | undefined; at: number | undefined } {
  const text = optionalString(entry, claim, `${path}.${claim}`);
  if (text === undefined) return { text, at: undefined };
  const at = parseRfc3339(text);
  if (at === undefined) throw invalid(`${path}.${claim}`, 'must be an RFC 3339 date-time such as "2028-01-01T14:30:00+00:00"');
  return { text, at };
}

function consentOf(entry: Record<string, unknown>): ConsentClaims {
  const path = 'authorization_details[urn:altinn:consent]';
  const id = optionalString(entry, 'id', `${path}.id`);
  const from = optionalString(entry, 'from', `${path}.from`);
  if (id === undefined) throw invalid(`${path}.id`, 'is required');
  if (from === undefined) throw invalid(`${path}.from`, 'is required');
  const to = entry.to === undefined ? undefined : organization(entry.to, `${path}.to`);
  const rights = entry.consentRights === undefined ? [] : entry.consentRights;
  if (!Array.isArray(rights)) throw invalid(`${path}.consentRights`, 'must be an array');
  const validTo = dateTime(entry, 'validTo', path);
  const consent: ConsentClaims = Object.freeze({
    id,
    from,
    fromPid: from.startsWith(PERSON_URN) ? from.slice(PERSON_URN.length) : undefined,
    fromOrg: from.startsWith(ORGANIZATION_URN) ? from.slice(ORGANIZATION_URN.length) : undefined,
    to,
    toOrg: orgnoOf(to),
    consented: dateTime(entry, 'consented', path).text,
    validTo: validTo.text,
    rights: Object.freeze(rights.map((right: unknown, i: number) => consentRightOf(right, `${path}.consentRights[${i}]`))),
  });
  if (validTo.at !== undefined) validUntil.set(consent, validTo.at);
  return consent;
}

// `validTo` as an instant, read once with the claims: the consent objects are made (and frozen)
// here, so they are safe keys, and the public shape stays the token's own strings.
const validUntil = new WeakMap<ConsentClaims, number>();

/**
 * The instant (epoch milliseconds) of a consent's `validTo`, or undefined when it has none.
 * @example
 * ```ts
 * import { consentValidUntil } from './claims.js'; // internal
 * if ((consentValidUntil(claims.consent) ?? 0) < Date.now()) refuse();
 * ```
 */
export function consentValidUntil(consent: ConsentClaims | undefined): number | undefined {
  return consent === undefined ? undefined : validUntil.get(consent);
}

function authorizationDetailsOf(value: unknown): { systemUser: SystemUserClaims | undefined; consent: ConsentClaims | undefined } {
  let systemUser: SystemUserClaims | undefined;
  let consent: ConsentClaims | undefined;
  if (value === undefined) return { systemUser, consent };
  if (!Array.isArray(value)) throw invalid('authorization_details', 'must be an array');
  for (const entry of value as unknown[]) {
    if (!isRecord(entry) || typeof entry.type !== 'string') throw invalid('authorization_details', 'must hold objects with a string "type"');
    // Maskinporten issues one system user or one consent per token (docs/maskinporten-rules.md §5.3, §5.4):
    // two of a kind would leave the API guessing which one the token is for. Unknown types are
    // left in `payload`.
    if (entry.type === 'urn:altinn:systemuser') {
      if (systemUser !== undefined) throw invalid('authorization_details', 'has two system users');
      systemUser = systemUserOf(entry);
    } else if (entry.type === 'urn:altinn:consent') {
      if (consent !== undefined) throw invalid('authorization_details', 'has two consents');
      consent = consentOf(entry);
    }
  }
  return { systemUser, consent };
}

/**
 * Freezes a decoded payload and every object and array in it: the claims of a remembered token are
 * handed to every later request with that token, so no handler can change what the next one reads
 * (`payload.authorization_details[0].systemuser_org` included). A payload is JSON, so it has no
 * cycles; the depth is bounded all the same.
 */
function deepFreeze<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  for (const member of Object.values(value)) deepFreeze(member, depth + 1);
  return Object.freeze(value);
}

/**
 * Type-checks a decoded payload and names its claims. The claims Maskinporten sets in every token
 * (docs/maskinporten-rules.md §3.3: `iss`, `client_id`, `client_amr`, `consumer`, `scope`, `iat`,
 * `exp`, `jti`) must be there with their types; a token without one was not made by Maskinporten,
 * and navikt/maskinporten-validation requires them too (§11.3). Throws `InvalidTokenError`
 * (`missing_claim`, `invalid_claim`, `wrong_token_type`). Issuer, times and signature are checked
 * by the verifier.
 *
 * @example
 * ```ts
 * import { readClaims } from './claims.js'; // internal
 * const claims = readClaims(decoded.payload);
 * ```
 */
export function readClaims(payload: Record<string, unknown>): MaskinportenTokenClaims {
  const issuer = requiredString(payload, 'iss');
  const exp = requiredNumber(payload, 'exp');
  const iat = requiredNumber(payload, 'iat');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || !Number.isFinite(payload.nbf))) throw invalid('nbf', 'must be a NumericDate (seconds)');
  const scope = requiredString(payload, 'scope');
  const clientId = requiredString(payload, 'client_id');
  const clientAmr = requiredString(payload, 'client_amr');
  const tokenId = requiredString(payload, 'jti');
  if (payload.consumer === undefined) throw new InvalidTokenError('missing_claim', 'The token has no "consumer" claim; Maskinporten always sets it.');
  const consumer = organization(payload.consumer, 'consumer');
  const supplier = payload.supplier === undefined ? undefined : organization(payload.supplier, 'supplier');
  const tokenType = optionalString(payload, 'token_type');
  // A token bound to a key (DPoP's `cnf`, RFC 9449) is not a bearer token: accepting it as one
  // would drop the proof of possession its issuer asked for.
  if ((tokenType !== undefined && tokenType.toLowerCase() !== 'bearer') || payload.cnf !== undefined) {
    throw new InvalidTokenError('wrong_token_type', 'The token is sender-constrained (token_type or cnf), not a bearer token.');
  }
  const { systemUser, consent } = authorizationDetailsOf(payload.authorization_details);
  return Object.freeze({
    issuer,
    clientId,
    clientAmr,
    scopes: Object.freeze(scope.split(' ').filter((s) => s !== '')),
    consumer,
    consumerOrg: orgnoOf(consumer),
    supplier,
    supplierOrg: orgnoOf(supplier),
    delegationSource: optionalString(payload, 'delegation_source'),
    audience: audienceOf(payload.aud),
    pid: optionalString(payload, 'pid'),
    systemUser,
    consent,
    issuedAt: iat * 1000,
    expiresAt: exp * 1000,
    tokenId,
    payload: deepFreeze(payload),
  });
}
