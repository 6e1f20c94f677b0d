// What a declared client compares: the configuration a client is built from (configuration.ts), as
// a map from each option's path to a digest of what the client uses there. Two declarations of one
// client name must agree; the paths where they do not are named in the error (the values never
// are, and a key is there only as the thumbprint of its public half).
import { createHash } from 'node:crypto';
import { publicKeyThumbprint } from '../keys/index.js';
import { usesGlobalFetch } from '../transport/index.js';
import type { ClientConfiguration, OpenedKey } from './configuration.js';

/** Path (`clientId`, `key.jwk`, `defaults.systemUser`) to a digest of what the client uses there. */
export type OptionsFingerprint = ReadonlyMap<string, string>;

const CLAIMS = ['resource', 'consumerOrg', 'pid', 'systemUser', 'consent', 'onBehalfOf'] as const;

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value ?? null)).digest('base64url');

/**
 * Which key a client signs with, as data: the identity the grant names (kid or certificate
 * thumbprint), the public key's thumbprint and the certificate chain it sends. A followed key file
 * is named by where it is and how it is followed, not by the key read: a rotation written there
 * reaches the running client, and a declaration that reads the file after it is the same client.
 */
function keyIdentity(key: OpenedKey): unknown {
  const { signer, source, plan } = key;
  const where = source === undefined ? null : [source.file, source.certificateFile ?? null, source.kid ?? null];
  if (plan !== undefined) return [where, plan.settings.pollInterval, plan.settings.watch];
  return [where, signer.identity, publicKeyThumbprint(signer) ?? null, signer.x5c ?? null];
}

/**
 * The fingerprint of a client's configuration. Data (the client id, environment, key identity,
 * scope, claims and numbers) is compared by value, after validation and normalisation: `'a b'`
 * and `['b', 'a']` are one scope, a JWK and its JSON one key. Functions and objects the caller
 * brings (a clock, a `fetch`, a token store, a `Signer`'s `sign`) are compared by whether they
 * are given: each copy of a module makes its own, so their identity differs between Next.js'
 * layers of one app. The map holds digests only, never the caller's objects.
 *
 * @example
 * ```ts
 * fingerprintConfiguration(resolveClientConfiguration(options)).get('clientId'); // 'kQ3v...'
 * ```
 */
export function fingerprintConfiguration(configuration: ClientConfiguration): OptionsFingerprint {
  const { key, defaults, transport } = configuration;
  const out = new Map<string, string>();
  const put = (path: string, value: unknown) => out.set(path, digest(value));
  put('clientId', configuration.clientId);
  put('environment', configuration.environment);
  put(`key.${key.form}`, keyIdentity(key));
  put('algorithm', key.signer.alg);
  put('grantLifetime', configuration.grantLifetime);
  put('scope', defaults.scope);
  for (const claim of CLAIMS) put(`defaults.${claim}`, defaults[claim]);
  for (const [name, value] of Object.entries(configuration.cache)) put(`cache.${name}`, value);
  put('cache.store', configuration.store === undefined ? 'none' : 'given');
  for (const [name, value] of Object.entries(transport)) if (name !== 'fetch') put(`transport.${name}`, value);
  put('transport.fetch', usesGlobalFetch(transport) ? 'global' : 'given');
  put('clock.now', configuration.clock === Date ? 'Date' : 'given');
  put('certificateExpiryWarningDays', configuration.certificateExpiryWarningDays);
  return out;
}

/**
 * The option paths where two fingerprints differ, sorted, at most `limit` of them.
 *
 * @example
 * ```ts
 * differingOptions(fingerprintConfiguration(a), fingerprintConfiguration(b)); // ['clientId', 'key.jwk']
 * ```
 */
export function differingOptions(a: OptionsFingerprint, b: OptionsFingerprint, limit = 5): string[] {
  const differing = new Set<string>();
  for (const path of new Set([...a.keys(), ...b.keys()])) if (a.get(path) !== b.get(path)) differing.add(path);
  return [...differing].sort().slice(0, limit);
}
