/**
 * The `environment` option of the client and of the verifier, read by one set of rules: the
 * presets, the string hints, unknown keys, the https rule, the issuer rule, `metadataTtl`. The two
 * differ only in the endpoint they need: the client the token endpoint, the verifier the key set
 * (as `jwksUri`, or as a fixed `jwks`). Everything is checked synchronously, before any network
 * call, and the result is a plan the caller turns into its source.
 */
import { ConfigurationError } from '../errors.js';
import { describeValue } from '../redact.js';
import { refuseUnknownOptions } from '../shared/index.js';
import { ENVIRONMENTS, isPresetName, kindOfIssuer, presetOf } from './presets.js';
import type { EnvironmentKind, PresetName } from './presets.js';
import { requireEndpointUrl, requireIssuer } from './urls.js';

/** Digdir: cache the metadata document for about 24 hours (docs/maskinporten-rules.md §7). */
export const DEFAULT_METADATA_TTL_SECONDS = 86_400;
export const MAX_METADATA_TTL_SECONDS = 366 * 86_400;

/** RFC 8414 discovery: the metadata URL and how long a document is served from memory. */
export interface DiscoveryPlan {
  readonly form: 'discovered';
  readonly metadataUrl: string;
  readonly ttlMs: number;
}

/**
 * What the client's `environment` option says.
 * @example
 * ```ts
 * const plan: ClientEnvironmentPlan = planClientEnvironment('test');
 * if (plan.form === 'fixed') console.log(plan.tokenEndpoint); // 'https://test.maskinporten.no/token'
 * ```
 */
export type ClientEnvironmentPlan =
  | { readonly form: 'fixed'; readonly issuer: string; readonly kind: EnvironmentKind; readonly tokenEndpoint: string }
  | DiscoveryPlan;

/**
 * What the verifier's `environment` option says: a key set URL, a fixed key set, or discovery.
 * @example
 * ```ts
 * import { planVerifierEnvironment } from '@portvakt/core/internal';
 * const plan = planVerifierEnvironment('prod');
 * if (plan.form === 'fixed') console.log(plan.jwksUri); // 'https://maskinporten.no/jwk'
 * ```
 */
export type VerifierEnvironmentPlan =
  | { readonly form: 'fixed'; readonly issuer: string; readonly kind: EnvironmentKind; readonly jwksUri: string }
  | { readonly form: 'keys'; readonly issuer: string; readonly kind: EnvironmentKind; readonly jwks: Readonly<Record<string, unknown>> }
  | DiscoveryPlan;

/** What differs between the two readers of the option: the forms, the keys and the wording. */
interface Role {
  readonly forms: string;
  readonly keys: readonly string[];
  /** The explicit form, for the hint on a bare URL. */
  readonly explicit: string;
  /** Why `metadataUrl` cannot go with the explicit keys. */
  readonly notBoth: string;
  /** What a Maskinporten issuer with a path or without its slash would cause. */
  readonly wrongIssuer: (issuer: string) => string;
}

const CLIENT: Role = {
  forms: `'test', 'prod', 'skyporten-test', 'skyporten-prod', { issuer, tokenEndpoint } or { metadataUrl }`,
  keys: ['issuer', 'tokenEndpoint', 'metadataUrl', 'metadataTtl'],
  explicit: '{ issuer, tokenEndpoint }',
  notBoth: 'give either metadataUrl (discovery) or issuer and tokenEndpoint (explicit), not both: the metadata document decides the issuer and token endpoint.',
  wrongIssuer: (issuer) => `${describeValue(issuer)} would be rejected with MP-110.`,
};

const VERIFIER: Role = {
  forms: `'test', 'prod', 'skyporten-test', 'skyporten-prod', { metadataUrl }, { issuer, jwksUri } or { issuer, jwks }`,
  // tokenEndpoint is accepted (and checked), so one object can configure a client and a verifier.
  keys: ['issuer', 'jwksUri', 'jwks', 'tokenEndpoint', 'metadataUrl', 'metadataTtl'],
  explicit: '{ issuer, jwksUri }',
  notBoth: 'give either metadataUrl (discovery) or issuer with jwksUri or jwks, not both: the metadata document names the issuer and the key set.',
  wrongIssuer: (issuer) => `tokens never carry ${describeValue(issuer)}.`,
};

const EXAMPLES = {
  tokenEndpoint: `the token endpoint, for example "${ENVIRONMENTS.test.tokenEndpoint}"`,
  jwksUri: `the key set URL, for example "${ENVIRONMENTS.test.jwksUri}"`,
  metadataUrl: `the metadata URL, for example "${ENVIRONMENTS.test.metadataUrl}"`,
};

/** Why a string is not an environment, phrased as the fix. */
function stringHint(value: string, role: Role): string {
  const lower = value.trim().toLowerCase();
  if (lower === 'test' || lower === 'prod') return `must be '${lower}' in lower case.`;
  if (lower === 'production' || lower === 'prd' || lower === 'produksjon') return `use 'prod' for production.`;
  if (lower === 'ver2' || lower === 'ver1' || lower === 'yt2') return `the ${lower} environment is retired: use 'test'.`;
  if (lower === 'skyporten-test' || lower === 'skyporten-prod') return `must be '${lower}' in lower case.`;
  if (lower === 'skyporten' || lower === 'sky' || lower === 'sky-test' || lower === 'sky-prod') return `Skyporten's presets are 'skyporten-test' and 'skyporten-prod'.`;
  if (URL.canParse(value)) return `a URL needs a form: { metadataUrl: ${describeValue(value)} } for a metadata document, or ${role.explicit}.`;
  return `${describeValue(value)} is not an environment: use ${role.forms}.`;
}

/**
 * The checks both readers make before their own: a preset name is returned as it is, anything
 * else that is not an object is refused, unknown keys are refused, and `metadataUrl` becomes a
 * discovery plan. What is returned otherwise is the record of an explicit form, not yet checked.
 */
function readCommon(option: unknown, role: Role, field: string): DiscoveryPlan | { form: 'preset'; name: PresetName } | { form: 'explicit'; record: Record<string, unknown> } {
  if (isPresetName(option)) return { form: 'preset', name: option };
  if (typeof option === 'string') throw new ConfigurationError(field, stringHint(option, role));
  if (typeof option !== 'object' || option === null || Array.isArray(option)) throw new ConfigurationError(field, `is required and must be ${role.forms}.`);
  refuseUnknownOptions(option, role.keys, `${field}.`);
  const record = option as Record<string, unknown>;
  if (record.metadataUrl !== undefined) {
    if (role.keys.some((key) => key !== 'metadataUrl' && key !== 'metadataTtl' && record[key] !== undefined)) throw new ConfigurationError(field, role.notBoth);
    const metadataUrl = requireEndpointUrl(record.metadataUrl, `${field}.metadataUrl`, EXAMPLES.metadataUrl);
    return { form: 'discovered', metadataUrl, ttlMs: metadataTtlSeconds(record.metadataTtl, `${field}.metadataTtl`) * 1000 };
  }
  if (record.metadataTtl !== undefined) throw new ConfigurationError(`${field}.metadataTtl`, 'applies only with metadataUrl: remove it, or use { metadataUrl, metadataTtl }.');
  if (role.keys.every((key) => record[key] === undefined)) throw new ConfigurationError(field, `is empty: use ${role.forms}.`);
  return { form: 'explicit', record };
}

function metadataTtlSeconds(value: unknown, field: string): number {
  if (value === undefined) return DEFAULT_METADATA_TTL_SECONDS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_METADATA_TTL_SECONDS) {
    throw new ConfigurationError(field, `must be a number of seconds above 0 and at most ${MAX_METADATA_TTL_SECONDS}; the default is ${DEFAULT_METADATA_TTL_SECONDS} (one day).`);
  }
  return value;
}

/**
 * Reads the client's `environment` option: `'test'`, `'prod'`, `{ issuer, tokenEndpoint }` or
 * `{ metadataUrl, metadataTtl? }`. Throws a `ConfigurationError` naming the field (`environment`,
 * `environment.issuer`, ...) for anything else.
 *
 * @example
 * ```ts
 * planClientEnvironment({ issuer: 'https://test.maskinporten.no', tokenEndpoint: 'https://test.maskinporten.no/token' });
 * // ConfigurationError environment.issuer: Maskinporten's issuer is exactly "https://test.maskinporten.no/" ...
 * ```
 */
export function planClientEnvironment(option: unknown, field = 'environment'): ClientEnvironmentPlan {
  const common = readCommon(option, CLIENT, field);
  if (common.form === 'discovered') return common;
  if (common.form === 'preset') {
    const { endpoints, kind } = presetOf(common.name);
    return { form: 'fixed', issuer: endpoints.issuer, kind, tokenEndpoint: endpoints.tokenEndpoint };
  }
  const read = common.record;
  const issuer = requireIssuer(read.issuer, `${field}.issuer`, CLIENT.wrongIssuer);
  const tokenEndpoint = requireEndpointUrl(read.tokenEndpoint, `${field}.tokenEndpoint`, EXAMPLES.tokenEndpoint);
  return { form: 'fixed', issuer, kind: kindOfIssuer(issuer), tokenEndpoint };
}

/**
 * Reads the verifier's `environment` option: `'test'`, `'prod'`, `{ metadataUrl, metadataTtl? }`,
 * `{ issuer, jwksUri, tokenEndpoint? }` or `{ issuer, jwks }`. Throws a `ConfigurationError` naming
 * the field for anything else. A fixed key set is copied, so later changes to it are not seen.
 *
 * @example
 * ```ts
 * import { planVerifierEnvironment } from '@portvakt/core/internal';
 * const plan = planVerifierEnvironment({ issuer: sim.issuer, jwksUri: sim.jwksUri });
 * ```
 */
export function planVerifierEnvironment(option: unknown, field = 'environment'): VerifierEnvironmentPlan {
  const common = readCommon(option, VERIFIER, field);
  if (common.form === 'discovered') return common;
  if (common.form === 'preset') {
    const { endpoints, kind } = presetOf(common.name);
    return { form: 'fixed', issuer: endpoints.issuer, kind, jwksUri: endpoints.jwksUri };
  }
  const read = common.record;
  const issuer = requireIssuer(read.issuer, `${field}.issuer`, VERIFIER.wrongIssuer);
  const kind = kindOfIssuer(issuer);
  if (read.tokenEndpoint !== undefined) requireEndpointUrl(read.tokenEndpoint, `${field}.tokenEndpoint`, EXAMPLES.tokenEndpoint);
  if (read.jwks !== undefined) {
    if (read.jwksUri !== undefined) throw new ConfigurationError(field, 'give either jwksUri (fetched and refreshed) or jwks (fixed), not both.');
    const jwks = read.jwks as { keys?: unknown } | null;
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) throw new ConfigurationError(`${field}.jwks`, 'must be a JWK Set: { keys: [...] }.');
    return { form: 'keys', issuer, kind, jwks: structuredClone(jwks) as Record<string, unknown> };
  }
  if (read.jwksUri === undefined) {
    throw new ConfigurationError(
      `${field}.jwksUri`,
      `is required to verify tokens: Maskinporten publishes its keys at ${ENVIRONMENTS.test.jwksUri} (test) and ${ENVIRONMENTS.prod.jwksUri} (prod); or use { metadataUrl }.`,
    );
  }
  return { form: 'fixed', issuer, kind, jwksUri: requireEndpointUrl(read.jwksUri, `${field}.jwksUri`, EXAMPLES.jwksUri) };
}
