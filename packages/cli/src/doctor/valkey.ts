// The doctor's Valkey check: connects as the app would (valkeyOptions() from @portvakt/redis),
// then writes, reads and runs a script as the token store does, under the user's ACL. No INFO:
// NAIS' users may not run it (docs/maskinporten-rules.md §11.2). Nothing here reports a password.
import { randomUUID } from 'node:crypto';
import { isPortvaktError } from '@portvakt/core';
import type { ValkeyConnectionOptions } from '@portvakt/redis';
import type * as RedisPackage from '@portvakt/redis';
import type { Redis as RedisClient } from 'ioredis';
import { stringFlag } from '../args.js';
import type { FlagSpec, ParsedFlags } from '../args.js';
import { CommandError } from '../errors.js';
import type { CommandIo } from '../io.js';
import { environmentOf } from '../options.js';
import type { StepResult } from './steps.js';

/** The doctor's Valkey step: the shape of the other steps, under its own name. */
export type ValkeyStep = Omit<StepResult, 'name'> & { name: 'valkey' };

export const VALKEY_FLAGS: Record<string, FlagSpec> = {
  valkey: {
    type: 'string',
    value: 'NAME|URL',
    description: 'Also check a Valkey: the instance name from nais.yaml (reads VALKEY_*_<NAME>) or a valkeys:// URL (else PORTVAKT_VALKEY).',
  },
};

/** The variable that names the instance when --valkey is not given. */
export const VALKEY_TARGET_VARIABLE = 'PORTVAKT_VALKEY';

// The store's own commands, on a key of its own prefix (so an ACL limited to `portvakt:token:*`
// passes too): SET NX PX, GET, and its compare-and-delete script.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Which of the store's operations failed, for the message. */
type Operation = 'connect' | 'write' | 'read' | 'script';

class CheckFailure extends Error {
  readonly operation: Operation;
  readonly reason: unknown;
  constructor(operation: Operation, reason: unknown) {
    super(operation);
    this.operation = operation;
    this.reason = reason;
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether a server reply names this error (`WRONGPASS ...`, `NOPERM ...`). */
const replyIs = (error: unknown, prefix: string) => messageOf(error).startsWith(prefix);

async function withTimeout<T>(promise: Promise<T>, ms: number, operation: Operation): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckFailure(operation, new Error(`no answer in ${ms} ms`))), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What HELLO says about the server (name, version, mode, role), in RESP2 (a flat list) or RESP3 (a map). */
function serverOf(hello: unknown): Record<string, string> {
  const entries: [unknown, unknown][] = [];
  if (Array.isArray(hello)) for (let i = 0; i + 1 < hello.length; i += 2) entries.push([hello[i], hello[i + 1]]);
  else if (hello instanceof Map) entries.push(...hello.entries());
  else if (typeof hello === 'object' && hello !== null) entries.push(...Object.entries(hello));
  const server: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (['server', 'version', 'mode', 'role'].includes(String(name)) && (typeof value === 'string' || typeof value === 'number')) server[String(name)] = String(value);
  }
  return server;
}

function describeFailure(failure: CheckFailure, where: string, user: string, instance: string | undefined): { summary: string; fix: string } {
  const { operation, reason: cause } = failure;
  const code = codeOf(cause);
  const message = messageOf(cause);
  const variable = (what: string) => (instance === undefined ? 'the URL' : `VALKEY_${what}_${instance}`);
  if (replyIs(cause, 'WRONGPASS') || replyIs(cause, 'NOAUTH') || (replyIs(cause, 'ERR') && /AUTH|password/i.test(message))) {
    return {
      summary: `${where} refused the user name and password of ${user} (${message.split(' ')[0]}).`,
      fix: instance === undefined
        ? 'check the user name and password in the URL.'
        : `check ${variable('USERNAME')} and ${variable('PASSWORD')}: NAIS rotates the credentials, so take them from the running pod's secret (a restart picks up new ones), and check that they belong to this instance.`,
    };
  }
  if (replyIs(cause, 'NOPERM')) {
    const command = /run the '([^']+)' command/.exec(message)?.[1] ?? operation;
    return {
      summary: `${user} may not ${operation === 'read' ? 'read' : operation === 'script' ? 'run scripts' : 'write'} on ${where}: the server refused ${command.toUpperCase()} (NOPERM).`,
      fix: instance === undefined
        ? 'give the user the @read, @write and @scripting ACL categories (and the key pattern portvakt:token:*).'
        : 'the token store needs both reads and writes: set `access: readwrite` for the instance under spec.valkey in nais.yaml.',
    };
  }
  if (code !== undefined && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) {
    return {
      summary: `The TLS handshake with ${where} failed (${code}).`,
      fix: code.includes('WRONG_VERSION')
        ? 'the server does not speak TLS on that port: use a valkey:// or redis:// URL, or the TLS port.'
        : 'the server\'s certificate is not trusted for that host name: check the host, or give the CA (NODE_EXTRA_CA_CERTS=ca.pem).',
    };
  }
  if (message.startsWith('no answer in')) {
    return { summary: `${where} did not answer ${operation === 'connect' ? 'the connection' : `the ${operation}`}: ${message}.`, fix: 'check the host and port, the network path (firewall, NAIS accessPolicy and outbound rules) and that the instance is running.' };
  }
  if (operation === 'connect') {
    return {
      summary: `Could not connect to ${where} (${code ?? message}).`,
      fix: code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'check the host name (DNS).' : 'check the host and port, the network path (firewall, NAIS outbound rules) and that the instance is running.',
    };
  }
  return { summary: `The ${operation} on ${where} failed: ${message}.`, fix: 'see docs/redis.md (Valkey on NAIS).' };
}

/** Where the options point, for reports: never the password. */
function endpointOf(options: ValkeyConnectionOptions): string {
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return `${options.tls === undefined ? 'valkey' : 'valkeys'}://${host}:${options.port}`;
}

/**
 * Checks one Valkey (or Redis) as the token store would use it: valkeyOptions() for the instance
 * or URL, a connection (TLS, AUTH), then SET NX PX, GET and the store's compare-and-delete script
 * on a key of its own, each bounded by `timeoutMs`. Never sends INFO.
 */
export async function checkValkey(target: string, env: Readonly<Record<string, string | undefined>>, timeoutMs: number): Promise<ValkeyStep> {
  const urlGiven = /^[a-z][a-z0-9+.-]*:\/\//i.test(target.trim());
  // @portvakt/redis and ioredis are optional peers of the CLI: an app that keeps its tokens in
  // Valkey has both, and every other user of the CLI installs neither.
  let redisPackage: typeof RedisPackage;
  try {
    redisPackage = await import('@portvakt/redis');
  } catch {
    return { name: 'valkey', status: 'fail', summary: '@portvakt/redis could not be loaded, so Valkey cannot be checked.', fix: 'install it and ioredis next to @portvakt/cli: npm i -D @portvakt/redis ioredis.' };
  }
  const { valkeyEnvSuffix, valkeyOptions } = redisPackage;
  let options: ValkeyConnectionOptions;
  try {
    options = valkeyOptions(target, { env });
  } catch (error) {
    if (!isPortvaktError(error) || error.code !== 'ERR_PORTVAKT_CONFIGURATION') throw error;
    return { name: 'valkey', status: 'fail', summary: error.message, fix: urlGiven ? 'give a valkeys://host:port URL (with user:password@ if the server needs them).' : `set ${error.field} (NAIS sets the VALKEY_* variables for each instance in spec.valkey of nais.yaml).` };
  }
  const instance = urlGiven ? undefined : valkeyEnvSuffix(target.trim());
  const where = endpointOf(options);
  const user = options.username === undefined ? 'the default user' : `user ${options.username}`;
  const details: Record<string, unknown> = { target: urlGiven ? where : target.trim(), host: options.host, port: options.port, tls: options.tls !== undefined, username: options.username ?? 'default' };
  let Redis: typeof RedisClient;
  try {
    // Loaded here, so the other commands start without it.
    ({ Redis } = await import('ioredis'));
  } catch {
    return { name: 'valkey', status: 'fail', summary: 'ioredis could not be loaded, so Valkey cannot be checked.', fix: 'install it next to @portvakt/cli: npm i -D ioredis.', details };
  }
  // No reconnects, no retries, no offline queue: each failure shows at once, as it is.
  // disconnectTimeout: ioredis would otherwise keep a half-closed socket, and the process, for 2 s.
  const redis = new Redis({ ...options, lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, reconnectOnError: () => false, disconnectTimeout: 100 });
  let connectionError: unknown;
  redis.on('error', (error) => {
    connectionError ??= error;
  });
  const key = `portvakt:token:{doctor-${randomUUID()}}`;
  const value = randomUUID();
  const started = performance.now();
  try {
    const step = async <T>(operation: Operation, run: () => Promise<T>): Promise<T> => {
      try {
        const result = await withTimeout(run(), timeoutMs, operation);
        // An AUTH refused while connecting surfaces as an 'error' event, not as this command's reply.
        if (connectionError !== undefined) throw new CheckFailure('connect', connectionError);
        return result;
      } catch (error) {
        if (error instanceof CheckFailure) throw error;
        throw new CheckFailure(connectionError !== undefined ? 'connect' : operation, connectionError ?? error);
      }
    };
    await step('connect', () => redis.connect());
    // HELLO is in @connection, which NAIS' ACL allows; without a protocol version it changes nothing.
    const hello = await step('connect', () => redis.call('HELLO').catch(() => redis.call('PING')));
    const connectMs = Math.round(performance.now() - started);
    const server = serverOf(hello);
    const wrote = await step('write', () => redis.call('SET', key, value, 'PX', 30_000, 'NX'));
    if (wrote !== 'OK') throw new CheckFailure('write', new Error(`SET NX answered ${String(wrote)}`));
    const read = await step('read', () => redis.call('GET', key));
    if (read !== value) throw new CheckFailure('read', new Error('GET did not return the value just written'));
    const released = await step('script', () => redis.call('EVAL', RELEASE, 1, key, value));
    if (Number(released) !== 1) throw new CheckFailure('script', new Error(`the compare-and-delete script answered ${String(released)}`));
    const ms = Math.round(performance.now() - started);
    const about = server.version === undefined ? '' : ` (${server.server ?? 'server'} ${server.version}${server.mode === undefined ? '' : `, ${server.mode}`}${server.role === undefined ? '' : `, ${server.role}`})`;
    return {
      name: 'valkey', status: 'ok',
      summary: `Connected to ${where}${options.tls === undefined ? '' : ' over TLS'} as ${user} in ${connectMs} ms${about}; SET NX, GET and a script ran under the user's ACL (${ms} ms in all).`,
      details: { ...details, connectMs, ms, ...server },
    };
  } catch (error) {
    if (!(error instanceof CheckFailure)) throw error;
    const { summary, fix } = describeFailure(error, where, user, instance);
    const password = options.password;
    // Server replies and socket errors do not carry the password; mask it all the same.
    const clean = (text: string) => (password === undefined || password === '' ? text : text.split(password).join('[redacted]'));
    return { name: 'valkey', status: 'fail', summary: clean(summary), fix, details: { ...details, failed: error.operation, ...(codeOf(error.reason) === undefined ? {} : { code: codeOf(error.reason) }) } };
  } finally {
    redis.disconnect();
  }
}

/**
 * The Valkey step when `--valkey` or PORTVAKT_VALKEY names one; none otherwise. Reads the same
 * variables as the other steps (the process environment, then --env-file).
 */
export async function valkeySteps(flags: ParsedFlags, io: CommandIo, timeoutMs: number): Promise<ValkeyStep[]> {
  let env: Record<string, string | undefined>;
  try {
    env = environmentOf(flags, io);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    return stringFlag(flags, 'valkey') === undefined && io.env[VALKEY_TARGET_VARIABLE] === undefined ? [] : [{ name: 'valkey', status: 'fail', summary: error.message, fix: error.fix ?? 'check --env-file.' }];
  }
  const target = stringFlag(flags, 'valkey') ?? env[VALKEY_TARGET_VARIABLE];
  if (target === undefined || target.trim() === '') return [];
  return [await checkValkey(target, env, timeoutMs)];
}
