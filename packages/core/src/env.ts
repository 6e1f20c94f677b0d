/**
 * Client options from environment variables: the ones NAIS injects for a Maskinporten client, plus
 * Portvakt's own for PEM keys, PKCS#12 bundles and certificate chains. The full list, with
 * precedence, is in docs/configuration.md.
 */
import type { JsonWebKey } from 'node:crypto';
import { createEnvironmentSource } from './environments/index.js';
import type { EnvironmentOption } from './environments/index.js';
import { ENVIRONMENTS, isPresetName } from './environments/presets.js';
import { GRANT_ALGORITHMS, kidContradicts, readKeyFileBytes, tryReadKeyFile } from './keys/index.js';
import { ConfigurationError } from './errors.js';
import { describeValue } from './redact.js';
import type { GrantAlgorithm, KeyInput } from './types.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The client options `fromEnv()` produces: give them to `createMaskinportenClient`, spreading in
 * anything else you need.
 *
 * @example
 * ```ts
 * const options: EnvClientOptions = fromEnv();
 * const client = createMaskinportenClient({ ...options, cache: { maxEntries: 100 } });
 * ```
 */
export interface EnvClientOptions {
  clientId: string;
  environment: EnvironmentOption;
  key: KeyInput;
  /** From MASKINPORTEN_SCOPES; absent when the variable is not set. */
  scope?: string[];
  /** From MASKINPORTEN_ALGORITHM; absent when not set (RS256). */
  algorithm?: GrantAlgorithm;
}


/** A variable's value; empty or blank counts as unset (env files often carry `NAME=`). */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Passphrases may legitimately be empty, so only an absent variable is unset. */
function readPassphrase(env: Env, name: string): string | undefined {
  return env[name];
}

/** A key file's bytes; a FIFO, a folder or a file too large to be a key is refused, never read. */
function readFile(name: string, path: string): Buffer {
  const read = readKeyFileBytes(path.trim());
  if (!read.ok) throw new ConfigurationError(name, read.reason);
  return read.bytes;
}

/**
 * MASKINPORTEN_KID is for a key that carries no kid (a PEM key, a registered certificate, a JWK
 * without one): a JWK's own kid is the one its key is registered under, and a grant naming another
 * is refused (MP-124).
 */
function checkKidOfJwk(jwk: unknown, kid: string | undefined): void {
  const own = typeof jwk === 'object' && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
  if (kid !== undefined && own !== undefined && own !== kid) throw kidContradicts('MASKINPORTEN_KID', kid, own, 'MASKINPORTEN_KID');
}

/** PEM text from an env var may arrive with literal `\n` sequences (docker env files, CI secrets). */
function pemText(value: string): string {
  return value.includes('\n') ? value : value.replace(/\\n/g, '\n');
}

function oneOf(env: Env, textName: string, pathName: string): { name: string; text: string } | undefined {
  const text = read(env, textName);
  const path = read(env, pathName);
  if (text !== undefined && path !== undefined) {
    throw new ConfigurationError(pathName, `set either ${textName} or ${pathName}, not both.`);
  }
  if (text !== undefined) return { name: textName, text: pemText(text) };
  if (path !== undefined) return { name: pathName, text: readFile(pathName, path).toString('utf8') };
  return undefined;
}

/** Checks now that a `_PATH` variable names a readable file, so the error names the variable; the client reads it again, and follows it. */
function checkReadable(name: string, path: string): string {
  readFile(name, path);
  return path.trim();
}

function keyFromEnv(env: Env): KeyInput {
  const jwkPath = read(env, 'MASKINPORTEN_CLIENT_JWK_PATH');
  // NAIS puts the JWK both in MASKINPORTEN_CLIENT_JWK and in a file of that name under
  // /var/run/secrets/nais.io/maskinporten/; the file, when named, wins: it is the one that follows
  // a new key without a restart.
  const jwk = jwkPath === undefined ? read(env, 'MASKINPORTEN_CLIENT_JWK') : undefined;
  const pkcs12Path = read(env, 'MASKINPORTEN_PKCS12_PATH');
  const pkcs12Base64 = read(env, 'MASKINPORTEN_PKCS12_BASE64');
  const hasPrivateKey = read(env, 'MASKINPORTEN_PRIVATE_KEY') !== undefined || read(env, 'MASKINPORTEN_PRIVATE_KEY_PATH') !== undefined;
  const hasCertificate = read(env, 'MASKINPORTEN_CERTIFICATE') !== undefined || read(env, 'MASKINPORTEN_CERTIFICATE_PATH') !== undefined;
  const kid = read(env, 'MASKINPORTEN_KID');

  const families: string[] = [];
  if (jwkPath !== undefined) families.push('MASKINPORTEN_CLIENT_JWK_PATH');
  else if (jwk !== undefined) families.push('MASKINPORTEN_CLIENT_JWK');
  if (pkcs12Path !== undefined) families.push('MASKINPORTEN_PKCS12_PATH');
  else if (pkcs12Base64 !== undefined) families.push('MASKINPORTEN_PKCS12_BASE64');
  if (hasCertificate) families.push('MASKINPORTEN_CERTIFICATE');
  else if (hasPrivateKey) families.push('MASKINPORTEN_PRIVATE_KEY');
  if (families.length === 0) {
    throw new ConfigurationError(
      'MASKINPORTEN_CLIENT_JWK',
      'no signing key is configured: set MASKINPORTEN_CLIENT_JWK (a JWK, as NAIS does) or MASKINPORTEN_CLIENT_JWK_PATH (its file), MASKINPORTEN_KID with MASKINPORTEN_PRIVATE_KEY or MASKINPORTEN_PRIVATE_KEY_PATH, MASKINPORTEN_PKCS12_PATH or MASKINPORTEN_PKCS12_BASE64 with MASKINPORTEN_PKCS12_PASSPHRASE, or MASKINPORTEN_CERTIFICATE(_PATH) with MASKINPORTEN_PRIVATE_KEY(_PATH).',
    );
  }
  if (families.length > 1) {
    throw new ConfigurationError(families[1] as string, `give one key only: ${families.join(' and ')} are both set.`);
  }

  if (jwkPath !== undefined) {
    const file = checkReadable('MASKINPORTEN_CLIENT_JWK_PATH', jwkPath);
    if (kid === undefined) return { file };
    // Checked now, so the error names the variable; a file that gives no JWK is the client's to refuse.
    const read = tryReadKeyFile({ file }, 'key');
    if (read.ok && 'jwk' in read.contents.key) checkKidOfJwk(read.contents.key.jwk, kid);
    return { file, kid };
  }
  if (jwk !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(jwk);
    } catch {
      // Never echo the value: it is a private key.
      throw new ConfigurationError('MASKINPORTEN_CLIENT_JWK', 'is not valid JSON: it must hold one private RSA JWK object (with "kty", "n", "e", "d" and a "kid").');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigurationError('MASKINPORTEN_CLIENT_JWK', 'must hold one JWK object, not a JWK set or a string.');
    }
    checkKidOfJwk(parsed, kid);
    return kid === undefined ? { jwk: parsed as JsonWebKey } : { jwk: parsed as JsonWebKey, kid };
  }

  if (pkcs12Path !== undefined || pkcs12Base64 !== undefined) {
    if (pkcs12Path !== undefined && pkcs12Base64 !== undefined) {
      throw new ConfigurationError('MASKINPORTEN_PKCS12_BASE64', 'set either MASKINPORTEN_PKCS12_PATH or MASKINPORTEN_PKCS12_BASE64, not both.');
    }
    const passphrase = readPassphrase(env, 'MASKINPORTEN_PKCS12_PASSPHRASE');
    if (passphrase === undefined) {
      throw new ConfigurationError('MASKINPORTEN_PKCS12_PASSPHRASE', 'is required with a PKCS#12 file: set it to the bundle\'s password (an empty value for none).');
    }
    if (pkcs12Path !== undefined) {
      const bytes = readFile('MASKINPORTEN_PKCS12_PATH', pkcs12Path);
      if (bytes.byteLength === 0) throw new ConfigurationError('MASKINPORTEN_PKCS12_PATH', 'is empty.');
      // Followed by the client: a new bundle written there is taken without a restart. A
      // certificate registered in self-service signs with its kid (docs/maskinporten-rules.md §10).
      const file = pkcs12Path.trim();
      return kid === undefined ? { file, passphrase } : { file, passphrase, kid };
    }
    const compact = (pkcs12Base64 as string).replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
      throw new ConfigurationError('MASKINPORTEN_PKCS12_BASE64', 'is not base64: encode the .p12 file, for example with `base64 -w0 cert.p12`.');
    }
    const pkcs12 = new Uint8Array(Buffer.from(compact, 'base64'));
    if (pkcs12.byteLength === 0) throw new ConfigurationError('MASKINPORTEN_PKCS12_BASE64', 'is empty.');
    // A certificate registered in self-service signs with its kid instead of x5c (docs/maskinporten-rules.md §10).
    return kid === undefined ? { pkcs12, passphrase } : { pkcs12, passphrase, kid };
  }

  const privateKey = oneOf(env, 'MASKINPORTEN_PRIVATE_KEY', 'MASKINPORTEN_PRIVATE_KEY_PATH');
  const certificate = oneOf(env, 'MASKINPORTEN_CERTIFICATE', 'MASKINPORTEN_CERTIFICATE_PATH');
  const passphrase = readPassphrase(env, 'MASKINPORTEN_PRIVATE_KEY_PASSPHRASE');
  if (privateKey === undefined) {
    throw new ConfigurationError('MASKINPORTEN_PRIVATE_KEY', 'is required with MASKINPORTEN_CERTIFICATE: set the certificate\'s private key (PEM text, or a file in MASKINPORTEN_PRIVATE_KEY_PATH).');
  }
  // Key and certificate from files (or the key alone): the client follows the files. A mix of
  // text and a file is read once, here.
  if (privateKey.name === 'MASKINPORTEN_PRIVATE_KEY_PATH' && (certificate === undefined || certificate.name === 'MASKINPORTEN_CERTIFICATE_PATH')) {
    const file = (read(env, 'MASKINPORTEN_PRIVATE_KEY_PATH') as string).trim();
    const certificateFile = certificate === undefined ? undefined : (read(env, 'MASKINPORTEN_CERTIFICATE_PATH') as string).trim();
    if (certificateFile === undefined && kid === undefined) {
      throw new ConfigurationError('MASKINPORTEN_KID', 'is required with MASKINPORTEN_PRIVATE_KEY_PATH: set the kid of the key registered with Digdir.');
    }
    return { file, ...(certificateFile === undefined ? {} : { certificateFile }), ...(kid === undefined ? {} : { kid }), ...(passphrase === undefined ? {} : { passphrase }) };
  }
  if (certificate !== undefined) {
    const chain = { certificateChainPem: certificate.text, privateKeyPem: privateKey.text, passphrase };
    return kid === undefined ? chain : { ...chain, kid };
  }
  if (kid === undefined) {
    throw new ConfigurationError('MASKINPORTEN_KID', `is required with ${privateKey.name}: set the kid of the key registered with Digdir.`);
  }
  return { pem: privateKey.text, kid, passphrase };
}

/** Maps an `environment...` field from the environment validator to the variable that set it. */
function environmentFromEnv(env: Env): EnvironmentOption {
  const wellKnown = read(env, 'MASKINPORTEN_WELL_KNOWN_URL');
  const issuer = read(env, 'MASKINPORTEN_ISSUER');
  const tokenEndpoint = read(env, 'MASKINPORTEN_TOKEN_ENDPOINT');
  const preset = read(env, 'MASKINPORTEN_ENVIRONMENT')?.trim();
  if (preset !== undefined && !isPresetName(preset)) {
    throw new ConfigurationError('MASKINPORTEN_ENVIRONMENT', `must be "test" or "prod" (or "skyporten-test" or "skyporten-prod" for Skyporten), not ${describeValue(preset)}.`);
  }
  let option: EnvironmentOption;
  let names: Record<string, string>;
  // Precedence: the metadata document, then explicit URLs, then the preset. NAIS sets all three
  // of the first variables at once, and they agree.
  if (wellKnown !== undefined) {
    option = { metadataUrl: wellKnown };
    names = { 'environment.metadataUrl': 'MASKINPORTEN_WELL_KNOWN_URL' };
    const other = preset === 'test' ? ENVIRONMENTS.prod : preset === 'prod' ? ENVIRONMENTS.test : undefined;
    if (other !== undefined && wellKnown === other.metadataUrl) {
      throw new ConfigurationError('MASKINPORTEN_ENVIRONMENT', `is ${describeValue(preset)} but MASKINPORTEN_WELL_KNOWN_URL is the other environment's metadata URL: remove one of them.`);
    }
  } else if (issuer !== undefined || tokenEndpoint !== undefined) {
    if (issuer === undefined) throw new ConfigurationError('MASKINPORTEN_ISSUER', 'is required with MASKINPORTEN_TOKEN_ENDPOINT (or set MASKINPORTEN_WELL_KNOWN_URL instead).');
    if (tokenEndpoint === undefined) throw new ConfigurationError('MASKINPORTEN_TOKEN_ENDPOINT', 'is required with MASKINPORTEN_ISSUER (or set MASKINPORTEN_WELL_KNOWN_URL instead).');
    option = { issuer, tokenEndpoint };
    names = { 'environment.issuer': 'MASKINPORTEN_ISSUER', 'environment.tokenEndpoint': 'MASKINPORTEN_TOKEN_ENDPOINT' };
    const other = preset === 'test' ? ENVIRONMENTS.prod : preset === 'prod' ? ENVIRONMENTS.test : undefined;
    if (other !== undefined && issuer === other.issuer) {
      throw new ConfigurationError('MASKINPORTEN_ENVIRONMENT', `is ${describeValue(preset)} but MASKINPORTEN_ISSUER is the other environment's issuer: remove one of them.`);
    }
  } else if (preset !== undefined) {
    return preset;
  } else {
    throw new ConfigurationError(
      'MASKINPORTEN_WELL_KNOWN_URL',
      'no environment is configured: set MASKINPORTEN_WELL_KNOWN_URL (as NAIS does), MASKINPORTEN_ISSUER with MASKINPORTEN_TOKEN_ENDPOINT, or MASKINPORTEN_ENVIRONMENT=test|prod|skyporten-test|skyporten-prod.',
    );
  }
  try {
    createEnvironmentSource(option, { fetch: globalThis.fetch, clock: Date });
  } catch (error) {
    if (error instanceof ConfigurationError) {
      const name = names[error.field] ?? Object.values(names)[0] ?? 'MASKINPORTEN_WELL_KNOWN_URL';
      throw new ConfigurationError(name, error.message.replace(/^Invalid option "[^"]*": /, ''));
    }
    throw error;
  }
  return option;
}

/** MASKINPORTEN_SCOPES: separated by spaces (as NAIS writes it) or commas. */
function scopesFromEnv(env: Env): string[] | undefined {
  const value = read(env, 'MASKINPORTEN_SCOPES');
  if (value === undefined) return undefined;
  const scopes = value.split(/[\s,]+/).filter((scope) => scope !== '');
  return scopes.length === 0 ? undefined : [...new Set(scopes)];
}

/**
 * Builds client options from environment variables (default `process.env`). Reads the variables
 * NAIS injects (`MASKINPORTEN_CLIENT_ID`, `MASKINPORTEN_CLIENT_JWK`, `MASKINPORTEN_SCOPES`,
 * `MASKINPORTEN_WELL_KNOWN_URL`, `MASKINPORTEN_ISSUER`, `MASKINPORTEN_TOKEN_ENDPOINT`) and
 * Portvakt's own for other keys (`MASKINPORTEN_KID` + `MASKINPORTEN_PRIVATE_KEY[_PATH]`
 * [+ `_PASSPHRASE`], `MASKINPORTEN_PKCS12_PATH` or `MASKINPORTEN_PKCS12_BASE64` +
 * `MASKINPORTEN_PKCS12_PASSPHRASE`, `MASKINPORTEN_CERTIFICATE[_PATH]` + private key) and
 * `MASKINPORTEN_ENVIRONMENT=test|prod`, `MASKINPORTEN_ALGORITHM`.
 *
 * A key named by a `_PATH` variable (`MASKINPORTEN_CLIENT_JWK_PATH`, `MASKINPORTEN_PRIVATE_KEY_PATH`
 * with or without `MASKINPORTEN_CERTIFICATE_PATH`, `MASKINPORTEN_PKCS12_PATH`) comes back as a
 * `{ file }` key: the client follows the file, so a Kubernetes or NAIS secret that is remounted
 * with a new key is taken without a restart. On NAIS, point `MASKINPORTEN_CLIENT_JWK_PATH` at
 * `/var/run/secrets/nais.io/maskinporten/MASKINPORTEN_CLIENT_JWK`; it wins over the
 * `MASKINPORTEN_CLIENT_JWK` NAIS also sets. A FIFO, a folder or a file over 1 MiB at a `_PATH` is
 * refused without being read.
 *
 * `MASKINPORTEN_KID` is for a key that carries no kid (a PEM key, a certificate registered in
 * self-service, a JWK without one): a JWK's own kid is the one it is registered under, and a
 * `MASKINPORTEN_KID` that differs from it is refused, naming the variable.
 *
 * Environment precedence: MASKINPORTEN_WELL_KNOWN_URL, then MASKINPORTEN_ISSUER +
 * MASKINPORTEN_TOKEN_ENDPOINT, then MASKINPORTEN_ENVIRONMENT. A missing or contradictory variable
 * throws a `ConfigurationError` whose `field` is the variable's name. Values of key variables are
 * never put in messages. See docs/configuration.md.
 *
 * @example
 * ```ts
 * import { createMaskinportenClient, fromEnv } from '@portvakt/core';
 * const client = createMaskinportenClient(fromEnv());
 * const token = await client.getToken(); // scopes from MASKINPORTEN_SCOPES
 * ```
 */
export function fromEnv(env: Env = process.env): EnvClientOptions {
  if (typeof env !== 'object' || env === null) throw new TypeError('fromEnv(env) takes an object of environment variables, such as process.env');
  const clientId = read(env, 'MASKINPORTEN_CLIENT_ID')?.trim();
  if (clientId === undefined) {
    throw new ConfigurationError('MASKINPORTEN_CLIENT_ID', "is required: set it to the client's id (integration id) from Digdir self-service.");
  }
  const environment = environmentFromEnv(env);
  const key = keyFromEnv(env);
  const options: EnvClientOptions = { clientId, environment, key };
  const scope = scopesFromEnv(env);
  if (scope !== undefined) options.scope = scope;
  const algorithm = read(env, 'MASKINPORTEN_ALGORITHM')?.trim();
  if (algorithm !== undefined) {
    if (!(GRANT_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new ConfigurationError('MASKINPORTEN_ALGORITHM', `must be RS256, RS384 or RS512, the algorithms Maskinporten takes for grants, not ${describeValue(algorithm)}.`);
    }
    options.algorithm = algorithm as GrantAlgorithm;
  }
  return options;
}
