// ioredis options for a Valkey as NAIS hands it over (docs/maskinporten-rules.md §11.2): NAIS
// injects a `valkeys://` URL, which ioredis does not read, and the credentials in variables of their
// own; the user's ACL has no INFO, so ioredis' ready check must be off.
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ConfigurationError } from '@portvakt/core';
import { describeValue, inspectSymbol, isLoopbackHostname, refuseUnknownOptions } from '@portvakt/core/internal';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Options of {@link valkeyOptions}. Any other key is refused with a `ConfigurationError`.
 *
 * @example
 * ```ts
 * const options: ValkeyOptionsInput = { env: { VALKEY_URI_SESSIONS: 'valkeys://valkey.example:26483', VALKEY_USERNAME_SESSIONS: 'app', VALKEY_PASSWORD_SESSIONS: 'secret' } };
 * ```
 */
export interface ValkeyOptionsInput {
  /** Where the variables are read; default `process.env`. Not read when the first argument is a URL. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Extra TLS settings (a `ca` for a private CA, say), merged into the TLS options. Only for a
   * connection with TLS (`valkeys://`, `rediss://`, or NAIS' host and port variables).
   */
  tls?: ConnectionOptions | undefined;
}

/**
 * ioredis options for one Valkey: give them to `new Redis(...)` (ioredis 5 or 6), spreading in
 * any other option you need. The password is left out of `util.inspect` and `JSON.stringify`,
 * of this object and of a copy made by spreading it.
 *
 * @example
 * ```ts
 * const options: ValkeyConnectionOptions = valkeyOptions('sessions');
 * const redis = new Redis({ ...options, maxRetriesPerRequest: 1, enableOfflineQueue: false });
 * ```
 */
export interface ValkeyConnectionOptions {
  /** The server's host name or address, from the URL or `VALKEY_HOST_<NAME>`. */
  host: string;
  /** The server's port; 6379 when the URL has none. */
  port: number;
  /** The ACL user; absent for the default user. */
  username?: string;
  /** The user's password; masked when the options are inspected or serialised. */
  password?: string;
  /** The database number from a URL path (`/2`); absent for 0. */
  db?: number;
  /** Present when the connection uses TLS (`valkeys://`, `rediss://`); the server's certificate is verified. */
  tls?: ConnectionOptions;
  /** ioredis' ready check sends `INFO`, which NAIS' ACL does not allow. */
  enableReadyCheck: false;
  /** Masks the password (and any TLS key) in `JSON.stringify`. */
  toJSON(): Record<string, unknown>;
}

const OPTIONS = ['env', 'tls'] as const;
const OPTION_RULES = {
  owner: 'valkeyOptions()',
  guess: (plain: string) => (/environment|variables/.test(plain) ? 'env' : /ssl|cert|ca$/.test(plain) ? 'tls' : undefined),
};
const SCHEMES: Readonly<Record<string, boolean>> = { 'valkeys:': true, 'rediss:': true, 'valkey:': false, 'redis:': false };
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
const SECRET_TLS_KEYS = ['key', 'passphrase', 'pfx'];
const DEFAULT_PORT = 6379;

/**
 * The suffix NAIS gives an instance's variables: the name with every character other than a
 * lower-case letter or digit turned into `_`, in upper case (`user-sessions` →
 * `USER_SESSIONS`), as nais/aivenator writes them (docs/maskinporten-rules.md §11.2). A name
 * already in that form (`USER_SESSIONS`) stays as it is.
 *
 * @example
 * ```ts
 * valkeyEnvSuffix('user-sessions'); // 'USER_SESSIONS'
 * ```
 */
export function valkeyEnvSuffix(instance: string): string {
  return instance.toLowerCase().replace(/[^a-z0-9]/g, '_').toUpperCase();
}

/** A variable's value; empty or blank counts as unset (env files often carry `NAME=`). */
function read(env: Env, name: string): { name: string; value: string } | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : { name, value: value.trim() };
}

/** The Valkey variable, else its REDIS_ twin (NAIS sets both with the same value but the scheme). */
function readEither(env: Env, what: string, suffix: string): { name: string; value: string } | undefined {
  return read(env, `VALKEY_${what}_${suffix}`) ?? read(env, `REDIS_${what}_${suffix}`);
}

interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

/** Reads a URL without ever putting it in a message: it may carry a password. */
function parseUrl(text: string, field: string, fix: string): Endpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError(field, `is not a URL (the value is not shown: it may hold a password). ${fix}`);
  }
  const tls = SCHEMES[url.protocol];
  if (tls === undefined) {
    // Only a short scheme is shown (http:, unix:): a long one may be a password in the wrong place.
    const scheme = url.protocol.length <= 8 ? `the scheme ${describeValue(url.protocol)}` : 'a scheme that is not one of these';
    throw new ConfigurationError(field, `has ${scheme}: it must be valkeys:// or rediss:// (TLS), or valkey:// or redis://. ${fix}`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new ConfigurationError(field, `has no host name. ${fix}`);
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigurationError(field, 'has a query or fragment, which valkeyOptions() does not read: give ioredis options next to the ones it returns instead.');
  }
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const endpoint: Endpoint = { host, port, tls };
  if (url.pathname !== '' && url.pathname !== '/') {
    const db = /^\/(\d{1,5})$/.exec(url.pathname)?.[1];
    if (db === undefined) throw new ConfigurationError(field, `has a path that is not a database number (such as /0). ${fix}`);
    if (Number(db) !== 0) endpoint.db = Number(db);
  }
  try {
    if (url.username !== '') endpoint.username = decodeURIComponent(url.username);
    if (url.password !== '') endpoint.password = decodeURIComponent(url.password);
  } catch {
    throw new ConfigurationError(field, `has user name or password characters that are not valid percent-encoding. ${fix}`);
  }
  return endpoint;
}

function parsePort(text: string, field: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  // The value is not shown: a password pasted into the wrong variable must not reach a log.
  if (!(port >= 1 && port <= 65_535)) throw new ConfigurationError(field, 'must be a port number from 1 to 65535 (the value is not shown).');
  return port;
}

/** The suffixes NAIS set variables under, for the "did you mean" of a missing variable. */
function otherInstances(env: Env): string[] {
  const found = new Set<string>();
  for (const name of Object.keys(env)) {
    const match = /^(?:VALKEY|REDIS)_(?:URI|HOST)_(.+)$/.exec(name);
    if (match?.[1] !== undefined) found.add(match[1]);
  }
  return [...found].sort();
}

function fromEnv(instance: string, env: Env): Endpoint {
  const suffix = valkeyEnvSuffix(instance);
  if (suffix.replace(/_/g, '') === '') throw new ConfigurationError('instance', 'must be the Valkey instance name from nais.yaml (such as "sessions") or a valkeys:// URL.');
  const uriName = `VALKEY_URI_${suffix}`;
  const uri = readEither(env, 'URI', suffix);
  let endpoint: Endpoint;
  if (uri !== undefined) {
    endpoint = parseUrl(uri.value, uri.name, `NAIS sets ${uri.name} to the instance's valkeys:// URL.`);
  } else {
    const host = readEither(env, 'HOST', suffix);
    if (host === undefined) {
      const others = otherInstances(env);
      const seen = others.length === 0 ? 'No VALKEY_URI_* variable is set at all.' : `Variables are set for ${others.map((o) => `"${o}"`).join(', ')}: is the instance name right?`;
      throw new ConfigurationError(
        uriName,
        `is not set (nor REDIS_URI_${suffix} or VALKEY_HOST_${suffix}). ${seen} NAIS sets these for an instance listed in the app's nais.yaml: spec.valkey: [{ instance: ${instance.toLowerCase()}, access: readwrite }]. Locally, set ${uriName} (valkey://localhost:6379, say).`,
      );
    }
    const port = readEither(env, 'PORT', suffix);
    if (port === undefined) throw new ConfigurationError(`VALKEY_PORT_${suffix}`, `is required with ${host.name}: NAIS sets both (or set ${uriName} instead).`);
    // Without a URL there is no scheme to go by: NAIS' Valkey takes TLS connections only.
    endpoint = { host: host.value, port: parsePort(port.value, port.name), tls: true };
  }
  const username = readEither(env, 'USERNAME', suffix);
  // A password may legitimately have spaces at either end: only an absent or empty one is unset.
  const passwordName = env[`VALKEY_PASSWORD_${suffix}`] ? `VALKEY_PASSWORD_${suffix}` : env[`REDIS_PASSWORD_${suffix}`] ? `REDIS_PASSWORD_${suffix}` : undefined;
  if (username !== undefined) endpoint.username = username.value;
  if (passwordName !== undefined) endpoint.password = env[passwordName] as string;
  if (endpoint.username !== undefined && endpoint.password === undefined) {
    throw new ConfigurationError(`VALKEY_PASSWORD_${suffix}`, `is not set, but the user name is: NAIS sets both with ${uriName}. Check that the pod got the instance's secret (kubectl describe pod).`);
  }
  if (endpoint.password === undefined && !isLoopbackHostname(endpoint.host)) {
    throw new ConfigurationError(
      `VALKEY_PASSWORD_${suffix}`,
      `is not set (nor VALKEY_USERNAME_${suffix}): NAIS sets the user name and password with ${uri?.name ?? uriName}. Copy all five VALKEY_*_${suffix} variables, or put the credentials in the URL (valkeys://user:password@host:port).`,
    );
  }
  return endpoint;
}

/** Shows an options object with the password and TLS key material masked. */
function masked(this: object): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(this)) {
    if (name === 'toJSON') continue;
    if (name === 'password' && value !== undefined) view[name] = '[redacted]';
    else if (name === 'tls' && typeof value === 'object' && value !== null) {
      view[name] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_TLS_KEYS.includes(k) && v !== undefined ? '[redacted]' : v]));
    } else view[name] = value;
  }
  return view;
}

/**
 * ioredis options for a Valkey (or Redis) from the variables NAIS injects for an instance, or from
 * a URL. ioredis itself reads only `redis://` and `rediss://` URLs, turns TLS on only for
 * `rediss://`, and NAIS puts the credentials in variables of their own, so
 * `new Redis(process.env.VALKEY_URI_SESSIONS)` cannot connect.
 *
 * - An instance name (`sessions`, as in `spec.valkey[].instance` of nais.yaml) reads
 *   `VALKEY_URI_<NAME>` (else `REDIS_URI_<NAME>`, else `VALKEY_HOST_<NAME>` and
 *   `VALKEY_PORT_<NAME>` with TLS), and `VALKEY_USERNAME_<NAME>` and `VALKEY_PASSWORD_<NAME>`
 *   (else their `REDIS_` twins). `<NAME>` is the name upper-cased with `-` and other such
 *   characters as `_` ({@link valkeyEnvSuffix}).
 * - A `valkeys://`, `rediss://`, `valkey://` or `redis://` URL is read as it is, with credentials
 *   from the URL.
 *
 * TLS is on for `valkeys://` and `rediss://` (and for a host and port without a URL), with the
 * server's certificate verified. The ready check is off (`enableReadyCheck: false`): NAIS' ACL has
 * no `INFO`. A missing or malformed variable throws a `ConfigurationError` whose `field` is the
 * variable's name; no message contains a password.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisTokenStore, valkeyOptions } from '@portvakt/redis';
 *
 * // nais.yaml: spec.valkey: [{ instance: sessions, access: readwrite }]
 * const redis = new Redis({ ...valkeyOptions('sessions'), maxRetriesPerRequest: 1, enableOfflineQueue: false });
 * const store = createRedisTokenStore({ redis, encryptionKey: process.env.PORTVAKT_TOKEN_KEY! });
 * ```
 */
export function valkeyOptions(instanceOrUrl: string, options: ValkeyOptionsInput = {}): ValkeyConnectionOptions {
  if (typeof instanceOrUrl !== 'string' || instanceOrUrl.trim() === '') {
    throw new ConfigurationError('instance', 'must be the Valkey instance name from nais.yaml (such as "sessions") or a valkeys:// URL.');
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigurationError('options', 'must be an object: { env, tls }.');
  refuseUnknownOptions(options, OPTIONS, '', OPTION_RULES);
  const env = options.env ?? process.env;
  if (typeof env !== 'object' || env === null) throw new ConfigurationError('env', 'must be an object of environment variables, such as process.env.');
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) throw new ConfigurationError('tls', 'must be an object of TLS options, such as { ca }.');
  const text = instanceOrUrl.trim();
  const endpoint = URL_LIKE.test(text) ? parseUrl(text, 'url', 'Give a valkeys:// URL, or the instance name to read the NAIS variables.') : fromEnv(text, env);
  if (options.tls !== undefined && !endpoint.tls) {
    throw new ConfigurationError('tls', 'is given, but the connection has no TLS (a valkey:// or redis:// URL): use valkeys:// or rediss://, or leave tls out.');
  }
  const result: Record<string | symbol, unknown> = { host: endpoint.host, port: endpoint.port };
  if (endpoint.username !== undefined) result.username = endpoint.username;
  if (endpoint.password !== undefined) result.password = endpoint.password;
  if (endpoint.db !== undefined) result.db = endpoint.db;
  // SNI: Node's tls.connect() sends none unless told, and ioredis does not tell it.
  if (endpoint.tls) result.tls = { ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}), ...options.tls };
  result.enableReadyCheck = false;
  // Enumerable, so a spread copy keeps them; ioredis copies options with for...in, which skips the
  // symbol, and takes toJSON along harmlessly.
  result.toJSON = masked;
  result[inspectSymbol] = function (this: object, _depth: number, inspectOptions: object, inspect: (value: unknown, options: object) => string) {
    return inspect(masked.call(this), inspectOptions);
  };
  return result as unknown as ValkeyConnectionOptions;
}
