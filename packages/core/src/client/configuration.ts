// What a client is made of: its options read once, validated and normalised. The client is built
// from this and from nothing else, and a declared client compares it with the configuration of the
// client its name already has (fingerprint.ts). So what is compared is what the client uses,
// whatever object the options came in: a class instance, getters, a Proxy.
import type { CachePolicy } from '../cache/index.js';
import { planClientEnvironment } from '../environments/index.js';
import type { ClientEnvironmentPlan } from '../environments/index.js';
import { normalizeTokenClaims, normalizeTokenRequest, validateGrantLifetime } from '../grant/index.js';
import { checkKeyFileSource, followSettingsOf, keyInputForm, loadSigner, tryReadKeyFile } from '../keys/index.js';
import type { FollowSettings, LoadedSigner } from '../keys/index.js';
import { validateTransportOptions } from '../transport/index.js';
import type { ResolvedTransportOptions } from '../transport/index.js';
import type { Clock, GrantAlgorithm, KeyFileSource, KeyInput, TokenRequest, TokenStore } from '../types.js';
import { validateClientFields } from './options.js';
import type { MaskinportenClientOptions } from './options.js';

/** A key file to follow: the client's own copy of the source, and the digest of the key in use. */
export interface FollowPlan {
  readonly source: KeyFileSource;
  readonly settings: FollowSettings;
  readonly digest: string;
}

/** The `key` option (or a setKey() argument), loaded. */
export interface OpenedKey {
  readonly signer: LoadedSigner;
  /** The key option's form: `jwk`, `pem`, `pkcs12`, `certificateChainPem`, `signer` or `file`. */
  readonly form: string;
  /** For a `{ file }` key: the client's own copy of where the key is read from. */
  readonly source?: KeyFileSource | undefined;
  /** For a `{ file }` key that is followed: how, and the digest of the key read. */
  readonly plan?: FollowPlan | undefined;
}

/** A client's options, validated and normalised: everything `createMaskinportenClient` builds from. */
export interface ClientConfiguration {
  readonly clientId: string;
  readonly environment: ClientEnvironmentPlan;
  readonly key: OpenedKey;
  readonly algorithm: GrantAlgorithm | undefined;
  readonly grantLifetime: number;
  /** The default request: the normalised scope and claims, frozen, the client's own. */
  readonly defaults: Readonly<TokenRequest>;
  /** Whether the `defaults` option was given (getToken's scope memo is off then). */
  readonly hasDefaults: boolean;
  readonly cache: CachePolicy;
  readonly store: TokenStore | undefined;
  readonly transport: ResolvedTransportOptions;
  readonly clock: Clock;
  readonly certificateExpiryWarningDays: number;
}

/**
 * Reads and validates a client's options: each top-level option is read once, every rule of
 * `createMaskinportenClient` is applied (a `ConfigurationError` names the field), the key is loaded
 * and the scope and claims are normalised. Nothing is started: no timer, no watcher, no request.
 *
 * @example
 * ```ts
 * const configuration = resolveClientConfiguration({ clientId, environment: 'test', key: { jwk }, scope: 'nav:a' });
 * configuration.defaults.scope; // 'nav:a'
 * ```
 */
export function resolveClientConfiguration(options: MaskinportenClientOptions): ClientConfiguration {
  const { options: o, cache, store, clock, warningDays } = validateClientFields(options);
  const transport = validateTransportOptions(o.transport, 'transport');
  const environment = planClientEnvironment(o.environment, 'environment');
  const key = openKey(o.key, o.algorithm);
  const grantLifetime = validateGrantLifetime(o.grantLifetime);
  const scope = o.scope === undefined ? undefined : normalizeTokenRequest({ scope: o.scope }, undefined).scope;
  const claims = normalizeTokenClaims(o.defaults, 'defaults.');
  return Object.freeze({
    clientId: o.clientId,
    environment,
    key,
    algorithm: o.algorithm,
    grantLifetime,
    defaults: Object.freeze({ ...claims, scope }),
    hasDefaults: o.defaults !== undefined,
    cache,
    store,
    transport,
    clock,
    certificateExpiryWarningDays: warningDays,
  });
}

/**
 * Loads the `key` option (or a setKey() argument); for a `{ file }` key, also where it is read
 * from and, when it is followed, the plan to follow it.
 *
 * @example
 * ```ts
 * const { signer, form } = openKey({ jwk }, undefined); // form: 'jwk'
 * ```
 */
export function openKey(key: KeyInput, alg: GrantAlgorithm | undefined): OpenedKey {
  if (typeof key !== 'object' || key === null || !('file' in key)) return { signer: loadSigner(key, { alg, field: 'key' }), form: keyInputForm(key) ?? 'unknown' };
  const given = key as KeyFileSource & { follow?: unknown };
  checkKeyFileSource(given, 'key');
  const settings = followSettingsOf(given.follow, 'key.follow');
  // The client's own copy: a caller that changes its object later changes nothing here.
  const source: KeyFileSource = Object.freeze({ file: given.file, kid: given.kid, passphrase: given.passphrase, certificateFile: given.certificateFile });
  const read = tryReadKeyFile(source, 'key');
  if (!read.ok) throw read.failure.error;
  const signer = loadSigner(read.contents.key, { alg, field: 'key' });
  return { signer, form: 'file', source, plan: settings === undefined ? undefined : { source, settings, digest: read.contents.digest } };
}
