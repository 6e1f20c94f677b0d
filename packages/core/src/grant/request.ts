// Normalisation and validation of what a token is requested for (docs/maskinporten-rules.md §2.2, §5, §10).
// The normalised form is both what goes into the grant and what makes the cache key, so two
// requests that Maskinporten would treat the same ("a b" and "b a") share one token.
import { ConfigurationError } from '../errors.js';
import { refuseUnknownOptions } from '../shared/index.js';
import type { TokenRequest } from '../types.js';

/**
 * A validated token request: scopes sorted, de-duplicated and space-joined.
 * @example
 * ```ts
 * const r: NormalizedTokenRequest = normalizeTokenRequest({ scope: 'b a' }, undefined); // r.scope === 'a b'
 * ```
 */
export interface NormalizedTokenRequest {
  scope: string;
  /** Always an array: the grant page says "currently only array supported" (docs/maskinporten-rules.md §10). */
  resource?: string[];
  consumerOrg?: string;
  pid?: string;
  systemUser?: { orgno: string; externalRef?: string };
  consent?: { id: string; from: string };
  onBehalfOf?: string;
}

const ORGNO_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2];
const PID_WEIGHTS_1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const PID_WEIGHTS_2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

function mod11(digits: string, weights: number[]): number {
  const sum = weights.reduce((acc, w, i) => acc + w * Number(digits[i]), 0);
  const rest = 11 - (sum % 11);
  return rest === 11 ? 0 : rest;
}

/**
 * Whether `orgno` is a Norwegian organisation number: 9 digits with a valid mod-11 check digit.
 *
 * @example
 * ```ts
 * import { isValidOrganizationNumber } from '@portvakt/core';
 * isValidOrganizationNumber('991825827'); // true
 * isValidOrganizationNumber('991825828'); // false
 * ```
 */
export function isValidOrganizationNumber(orgno: string): boolean {
  if (!/^\d{9}$/.test(orgno)) return false;
  const check = mod11(orgno, ORGNO_WEIGHTS);
  return check !== 10 && check === Number(orgno[8]);
}

/**
 * Whether `pid` is an 11-digit fødselsnummer or d-number with valid check digits (synthetic test
 * persons from Tenor and NAV pass the same check). Token requests check only the 11 digits, as
 * Maskinporten does; this is for callers who want the stricter check on their own input.
 *
 * @example
 * ```ts
 * import { isValidPersonIdentifier } from '@portvakt/core';
 * isValidPersonIdentifier('01010199999'); // false: bad check digits
 * ```
 */
export function isValidPersonIdentifier(pid: string): boolean {
  if (!/^\d{11}$/.test(pid)) return false;
  const k1 = mod11(pid, PID_WEIGHTS_1);
  const k2 = mod11(pid, PID_WEIGHTS_2);
  return k1 !== 10 && k2 !== 10 && k1 === Number(pid[9]) && k2 === Number(pid[10]);
}

function splitScopes(value: unknown, field: string): string[] {
  const list = typeof value === 'string' ? value.split(/[\s]+/) : Array.isArray(value) ? value : undefined;
  if (!list) throw new ConfigurationError(field, 'must be a scope string (space-separated) or an array of scope strings.');
  const out: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string') throw new ConfigurationError(field, 'every scope must be a string.');
    for (const s of item.split(/\s+/)) if (s !== '') out.push(s);
  }
  return out;
}

const CLAIM_FIELDS: ReadonlySet<string> = new Set(['scope', 'resource', 'consumerOrg', 'pid', 'systemUser', 'consent', 'onBehalfOf']);
const CONSENT_FIELDS: ReadonlySet<string> = new Set(['id', 'from']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONSENT_PERSON = /^urn:altinn:person:identifier-no:(\d{11})$/;
const CONSENT_ORGANIZATION = /^urn:altinn:organization:identifier-no:(\d{9})$/;
const GET_TOKEN_FIELDS: ReadonlySet<string> = new Set([...CLAIM_FIELDS, 'minValidity', 'signal']);
const PID = /^\d{11}$/;

function checkFields(record: object, allowed: ReadonlySet<string>, fieldPrefix: string): void {
  for (const key in record) {
    if (!allowed.has(key)) refuseUnknownOptions(record, allowed, fieldPrefix);
  }
}

/**
 * Validates a token request (merged over the client's defaults) and normalises it. Errors are
 * {@link ConfigurationError}s naming the field (`scope`, `consumerOrg`, ...), prefixed by `fieldPrefix`.
 *
 * @example
 * ```ts
 * import { normalizeTokenRequest } from '@portvakt/core';
 * normalizeTokenRequest({ scope: 'b:x a:y a:y' }, undefined).scope; // 'a:y b:x'
 * ```
 */
export function normalizeTokenRequest(request: TokenRequest | undefined, defaults: TokenRequest | undefined, fieldPrefix = ''): NormalizedTokenRequest {
  if (request !== undefined) checkShape(request, CLAIM_FIELDS, fieldPrefix);
  const r = { ...defaults, ...stripUndefined(request) };
  const scopes = [...new Set(r.scope === undefined ? [] : splitScopes(r.scope, `${fieldPrefix}scope`))].sort();
  if (scopes.length === 0) {
    throw new ConfigurationError(`${fieldPrefix}scope`, 'at least one scope is required: set `scope` in the client options or pass it to getToken({ scope }).');
  }
  return { scope: scopes.join(' '), ...normalizeClaims(r, fieldPrefix) };
}

function checkShape(request: unknown, allowed: ReadonlySet<string>, fieldPrefix: string): void {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ConfigurationError(fieldPrefix === '' ? 'options' : fieldPrefix.slice(0, -1), 'must be an object such as { scope: "nav:aareg" }.');
  }
  checkFields(request, allowed, fieldPrefix);
}

/** Every claim but the scope, validated (docs/maskinporten-rules.md §5 and §10). */
function normalizeClaims(r: TokenRequest, fieldPrefix: string): Omit<NormalizedTokenRequest, 'scope'> {
  // Each claim is read once: what is checked is what goes into the grant, whatever the object is.
  const { resource, consumerOrg, pid, systemUser, consent: consentClaim, onBehalfOf } = r;
  const out: Omit<NormalizedTokenRequest, 'scope'> = {};
  if (resource !== undefined) {
    const field = `${fieldPrefix}resource`;
    if (typeof resource === 'string') {
      if (resource === '') throw new ConfigurationError(field, 'must not be empty; give the audience the API owner told you.');
      out.resource = [resource];
    } else if (Array.isArray(resource) && resource.length > 0 && resource.every((x) => typeof x === 'string' && x !== '')) {
      out.resource = [...(resource as string[])];
    } else {
      throw new ConfigurationError(field, 'must be a non-empty string or a non-empty array of non-empty strings.');
    }
  }
  if (consumerOrg !== undefined) {
    if (typeof consumerOrg !== 'string' || !isValidOrganizationNumber(consumerOrg)) {
      throw new ConfigurationError(`${fieldPrefix}consumerOrg`, 'must be the customer\'s 9-digit organisation number (no "0192:" prefix) with a valid check digit.');
    }
    out.consumerOrg = consumerOrg;
  }
  if (pid !== undefined) {
    // docs/maskinporten-rules.md §10: Maskinporten checks the pid's syntax only (11 digits), so do we; its
    // own documentation example (01010199999) has no valid check digits.
    if (typeof pid !== 'string' || !PID.test(pid)) {
      throw new ConfigurationError(`${fieldPrefix}pid`, 'must be an 11-digit fødselsnummer or d-number (digits only).');
    }
    out.pid = pid;
  }
  if (systemUser !== undefined) {
    const su = systemUser as { orgno?: unknown; externalRef?: unknown } | null;
    if (typeof su !== 'object' || su === null) throw new ConfigurationError(`${fieldPrefix}systemUser`, 'must be { orgno, externalRef? }.');
    checkFields(su, SYSTEM_USER_FIELDS, `${fieldPrefix}systemUser.`);
    const { orgno, externalRef } = su;
    if (typeof orgno !== 'string' || !isValidOrganizationNumber(orgno)) {
      throw new ConfigurationError(`${fieldPrefix}systemUser.orgno`, "must be the customer's 9-digit organisation number with a valid check digit.");
    }
    if (externalRef !== undefined && (typeof externalRef !== 'string' || externalRef === '' || externalRef.length > 255)) {
      throw new ConfigurationError(`${fieldPrefix}systemUser.externalRef`, 'must be a non-empty string of at most 255 characters, or left out.');
    }
    out.systemUser = externalRef === undefined ? { orgno } : { orgno, externalRef };
  }
  if (consentClaim !== undefined) {
    const consent = consentClaim as { id?: unknown; from?: unknown } | null;
    if (typeof consent !== 'object' || consent === null) throw new ConfigurationError(`${fieldPrefix}consent`, 'must be { id, from }: the consent request UUID and the URN of who consented.');
    checkFields(consent, CONSENT_FIELDS, `${fieldPrefix}consent.`);
    const { id, from: fromClaim } = consent;
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw new ConfigurationError(`${fieldPrefix}consent.id`, 'must be the consent request\'s UUID, such as "0a7d59f8-8c62-4312-9fb4-62456664c96f".');
    }
    const from = typeof fromClaim === 'string' ? fromClaim : '';
    const organisation = CONSENT_ORGANIZATION.exec(from)?.[1];
    if (!CONSENT_PERSON.test(from) && (organisation === undefined || !isValidOrganizationNumber(organisation))) {
      throw new ConfigurationError(`${fieldPrefix}consent.from`, 'must be "urn:altinn:person:identifier-no:<11-digit pid>" or "urn:altinn:organization:identifier-no:<9-digit organisation number>".');
    }
    // One authorization_details entry per request (docs/maskinporten-rules.md §5.3 and §5.4).
    if (out.systemUser !== undefined) throw new ConfigurationError(`${fieldPrefix}consent`, 'cannot be combined with systemUser: ask for a consent token and a system-user token separately.');
    out.consent = { id: id.toLowerCase(), from };
  }
  if (onBehalfOf !== undefined) {
    if (typeof onBehalfOf !== 'string' || onBehalfOf.trim() === '' || onBehalfOf.length > 255) {
      throw new ConfigurationError(`${fieldPrefix}onBehalfOf`, 'must be the onbehalfof value registered on your client (a non-empty string). It is deprecated: prefer consumerOrg.');
    }
    // docs/maskinporten-rules.md §2.2: iss_onbehalfof and consumer_org are mutually exclusive.
    if (out.consumerOrg !== undefined) throw new ConfigurationError(`${fieldPrefix}onBehalfOf`, 'cannot be combined with consumerOrg: the two are mutually exclusive (and iss_onbehalfof is deprecated).');
    out.onBehalfOf = onBehalfOf;
  }
  return out;
}

const SYSTEM_USER_FIELDS: ReadonlySet<string> = new Set(['orgno', 'externalRef']);

/**
 * The options of one `getToken()` call, checked: the claims (each field named on error), and
 * `minValidity` and `signal`. Unknown fields (`consumer_org`, `scopes`) are refused rather than
 * silently answered with the default token.
 *
 * @example
 * ```ts
 * import { readGetTokenOptions } from '../grant/index.js'; // internal
 * readGetTokenOptions({ scope: 'nav:aareg', minValidity: 30 }).minValidityMs; // 30000
 * ```
 */
export function readGetTokenOptions(options: unknown): { minValidityMs: number; signal: AbortSignal | undefined } {
  checkShape(options, GET_TOKEN_FIELDS, '');
  const { minValidity, signal } = options as { minValidity?: unknown; signal?: unknown };
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ConfigurationError('signal', 'must be an AbortSignal, e.g. AbortSignal.timeout(5000).');
  }
  let minValidityMs = 0;
  if (minValidity !== undefined) {
    if (typeof minValidity !== 'number' || !Number.isFinite(minValidity) || minValidity < 0) {
      throw new ConfigurationError('minValidity', 'must be a number of seconds of at least 0.');
    }
    minValidityMs = minValidity * 1000;
  }
  return { minValidityMs, signal };
}

/**
 * Validates the claims of a token request without requiring a scope (the client may supply a
 * default one). For adapters that take claims from incoming requests and want to refuse bad ones
 * (an invalid organisation number in a URL, say) before any token is fetched, and for a client's
 * `defaults`.
 *
 * @example
 * ```ts
 * import { validateTokenRequest } from '@portvakt/core';
 * validateTokenRequest({ systemUser: { orgno: req.params.orgno } }); // throws ConfigurationError (field systemUser.orgno)
 * ```
 */
export function validateTokenRequest(request: TokenRequest | undefined, fieldPrefix = ''): void {
  if (request === undefined) return;
  checkShape(request, CLAIM_FIELDS, fieldPrefix);
  if (request.scope !== undefined && splitScopes(request.scope, `${fieldPrefix}scope`).length === 0) {
    throw new ConfigurationError(`${fieldPrefix}scope`, 'is empty: give at least one scope, or leave it out for the client\'s default.');
  }
  normalizeClaims(request, fieldPrefix);
}

/**
 * A client's default claims (every claim but the scope), validated (fields named with
 * `fieldPrefix`) and normalised into frozen data of its own: the client keeps this, so a caller
 * that later changes the object it passed (`defaults.systemUser.orgno` for the next customer)
 * changes no token the client asks for.
 *
 * @example
 * ```ts
 * import { normalizeTokenClaims } from '../grant/index.js'; // internal
 * normalizeTokenClaims({ resource: 'https://api.example.no' }, 'defaults.'); // { resource: ['https://api.example.no'] }
 * ```
 */
export function normalizeTokenClaims(request: TokenRequest | undefined, fieldPrefix = ''): Readonly<Omit<NormalizedTokenRequest, 'scope'>> {
  if (request === undefined) return NO_CLAIMS;
  checkShape(request, CLAIM_FIELDS, fieldPrefix);
  const claims = normalizeClaims(request, fieldPrefix);
  for (const value of Object.values(claims)) if (typeof value === 'object') Object.freeze(value);
  return Object.freeze(claims);
}

/**
 * The token request an adapter sends for its `{ scope, request }` options: `request`'s claims with
 * `scope` winning over `request.scope`, validated (fields named as `scope`, `request.consumerOrg`,
 * ...). Every adapter takes its claims this way.
 *
 * @example
 * ```ts
 * import { resolveTokenRequest } from '@portvakt/core';
 * resolveTokenRequest({ scope: 'nav:aareg', request: { consumerOrg: '910753614' } });
 * // { consumerOrg: '910753614', scope: 'nav:aareg' }
 * ```
 */
export function resolveTokenRequest(options: { scope?: string | readonly string[] | undefined; request?: TokenRequest | undefined }): TokenRequest {
  if (options.request !== undefined && (typeof options.request !== 'object' || options.request === null || Array.isArray(options.request))) {
    throw new ConfigurationError('request', 'must be an object of claims: { resource?, consumerOrg?, pid?, systemUser? }.');
  }
  const request = copyTokenRequest(options.request, 'request.');
  if (options.scope === undefined) return request;
  const { scope } = copyTokenRequest({ scope: options.scope });
  return Object.freeze({ ...request, scope });
}

/**
 * An owned copy of a token request, made before anything keeps it: every nested object
 * (`systemUser`, `consent`) and array (`scope`, `resource`) is copied, the copy is validated (each
 * field named, prefixed by `fieldPrefix`) and frozen. A caller that reuses one options object and
 * changes `systemUser.orgno` from one customer to the next can then never change a request that
 * a cache slot, a background refresh or a 401 retry holds.
 *
 * @example
 * ```ts
 * import { copyTokenRequest } from '@portvakt/core';
 * const claims = { systemUser: { orgno: '910753614' } };
 * const owned = copyTokenRequest(claims);
 * claims.systemUser.orgno = '991825827'; // owned.systemUser.orgno is still '910753614'
 * ```
 */
export function copyTokenRequest(request: TokenRequest | undefined, fieldPrefix = ''): Readonly<TokenRequest> {
  if (request === undefined) return EMPTY_REQUEST;
  checkShape(request, CLAIM_FIELDS, fieldPrefix);
  const copy: Record<string, unknown> = {};
  // Each claim is read once, by its name (a getter or an inherited member counts, as the caller's
  // code would read it), so a getter cannot answer validation and the copy differently. Own
  // members of a nested object are copied too, so a misspelt one is still refused.
  for (const name of CLAIM_FIELDS) {
    const value = (request as Record<string, unknown>)[name];
    if (value === undefined) continue;
    copy[name] = Array.isArray(value) ? Object.freeze(Array.from(value as unknown[])) : typeof value === 'object' && value !== null ? Object.freeze(copyNested(value, name)) : value;
  }
  validateTokenRequest(copy as TokenRequest, fieldPrefix);
  return Object.freeze(copy) as Readonly<TokenRequest>;
}

/** A nested claim object's own members, then its known fields read by name. */
function copyNested(value: object, claim: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  const fields = claim === 'systemUser' ? SYSTEM_USER_FIELDS : claim === 'consent' ? CONSENT_FIELDS : undefined;
  if (fields !== undefined) {
    for (const field of fields) {
      const member = (value as Record<string, unknown>)[field];
      if (member !== undefined) copy[field] = member;
    }
  }
  return copy;
}

const EMPTY_REQUEST: Readonly<TokenRequest> = Object.freeze({});
const NO_CLAIMS: Readonly<Omit<NormalizedTokenRequest, 'scope'>> = Object.freeze({});

function stripUndefined(request: TokenRequest | undefined): TokenRequest {
  if (!request) return {};
  // Each claim read by its name, as the caller's code would read it: a getter, or a member the
  // object inherits, counts as much as an own one (a claim must never be dropped on the way to
  // the grant, or the token is another customer's).
  const out: Record<string, unknown> = {};
  for (const k of CLAIM_FIELDS) {
    const v = (request as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as TokenRequest;
}

/**
 * The cache key of a request: issuer, client id, signing key identity and every claim that
 * changes the token, in a fixed order (array resources sorted), as one string.
 *
 * @example
 * ```ts
 * import { cacheKeyOf, normalizeTokenRequest } from '../grant/index.js'; // internal
 * const key = cacheKeyOf({ issuer: 'https://test.maskinporten.no/', clientId: 'c', signerIdentity: 'kid:k1', request: normalizeTokenRequest({ scope: 'a' }, undefined) });
 * ```
 */
export function cacheKeyOf(parts: { issuer: string; clientId: string; signerIdentity: string; request: NormalizedTokenRequest }): string {
  return JSON.stringify([parts.issuer, parts.clientId, parts.signerIdentity, ...claimsOf(parts.request)]);
}

/**
 * The key of a request among the tokens of one issuer, client and signing key: `generation` (a
 * number the caller changes whenever the issuer or the key changes) and the claims of
 * {@link cacheKeyOf}, trailing absent claims left out. Shorter than the full key, so a cache with
 * thousands of customers keeps less per token.
 *
 * @example
 * ```ts
 * import { requestKeyOf, normalizeTokenRequest } from '../grant/index.js'; // internal
 * requestKeyOf(0, normalizeTokenRequest({ scope: 'a', consumerOrg: '910753614' }, undefined)); // '[0,"a",null,"910753614"]'
 * ```
 */
export function requestKeyOf(generation: number, request: NormalizedTokenRequest): string {
  const claims = claimsOf(request);
  let end = claims.length;
  while (end > 1 && claims[end - 1] === null) end -= 1;
  return JSON.stringify([generation, ...claims.slice(0, end)]);
}

/** Every claim that changes the token, in a fixed order (array resources sorted), null when absent. */
function claimsOf(r: NormalizedTokenRequest): unknown[] {
  return [
    r.scope,
    r.resource === undefined ? null : [...new Set(r.resource)].sort(),
    r.consumerOrg ?? null,
    r.pid ?? null,
    r.systemUser ? [r.systemUser.orgno, r.systemUser.externalRef ?? null] : null,
    r.consent ? [r.consent.id, r.consent.from] : null,
    r.onBehalfOf ?? null,
  ];
}
