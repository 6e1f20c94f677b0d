// valkeyOptions() on its own: how it reads NAIS' variables and URLs, and how it refuses what it
// cannot use. The connection itself is tested against a real redis-server in valkey-nais.test.ts.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@portvakt/core';
import { valkeyEnvSuffix, valkeyOptions } from '@portvakt/redis';

const PASSWORD = 'AVNS_s3cr3t-P4ssw0rd_value';
/** The variables NAIS injects for `spec.valkey: [{ instance: user-sessions, access: readwrite }]`. */
const nais = (suffix = 'USER_SESSIONS', host = 'valkey-team-user-sessions-nav-dev.aivencloud.com'): Record<string, string> => ({
  [`VALKEY_URI_${suffix}`]: `valkeys://${host}:26483`,
  [`VALKEY_HOST_${suffix}`]: host,
  [`VALKEY_PORT_${suffix}`]: '26483',
  [`VALKEY_USERNAME_${suffix}`]: 'app-rw-1a2b3c',
  [`VALKEY_PASSWORD_${suffix}`]: PASSWORD,
  [`REDIS_URI_${suffix}`]: `rediss://${host}:26483`,
  [`REDIS_HOST_${suffix}`]: host,
  [`REDIS_PORT_${suffix}`]: '26483',
  [`REDIS_USERNAME_${suffix}`]: 'app-rw-1a2b3c',
  [`REDIS_PASSWORD_${suffix}`]: PASSWORD,
});

function failure(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('the instance name', () => {
  it.each([
    ['sessions', 'SESSIONS'],
    ['user-sessions', 'USER_SESSIONS'],
    ['USER_SESSIONS', 'USER_SESSIONS'],
    ['User-Sessions', 'USER_SESSIONS'],
    ['cache.v2', 'CACHE_V2'],
    ['replica-cache', 'REPLICA_CACHE'],
  ])('%s reads the variables ending _%s, as NAIS names them', (name, suffix) => {
    expect(valkeyEnvSuffix(name)).toBe(suffix);
    expect(valkeyOptions(name, { env: nais(suffix) })).toMatchObject({ host: 'valkey-team-user-sessions-nav-dev.aivencloud.com', port: 26483 });
  });

  it('gives TLS, the credentials from their variables, and no ready check', () => {
    const options = valkeyOptions('user-sessions', { env: nais() });
    expect({ ...options }).toEqual({
      host: 'valkey-team-user-sessions-nav-dev.aivencloud.com',
      port: 26483,
      username: 'app-rw-1a2b3c',
      password: PASSWORD,
      tls: { servername: 'valkey-team-user-sessions-nav-dev.aivencloud.com' },
      enableReadyCheck: false,
      toJSON: expect.any(Function),
      [Symbol.for('nodejs.util.inspect.custom')]: expect.any(Function),
    });
  });

  it('reads the REDIS_* twins when only they are set (rediss:// is TLS too)', () => {
    const env = Object.fromEntries(Object.entries(nais()).filter(([name]) => name.startsWith('REDIS_')));
    expect(valkeyOptions('user-sessions', { env })).toMatchObject({ port: 26483, username: 'app-rw-1a2b3c', password: PASSWORD, tls: { servername: expect.any(String) } });
  });

  it('prefers the VALKEY_* variables over the REDIS_* ones', () => {
    const env = { ...nais(), REDIS_URI_USER_SESSIONS: 'rediss://old.example:1', REDIS_PASSWORD_USER_SESSIONS: 'old' };
    expect(valkeyOptions('user-sessions', { env })).toMatchObject({ host: 'valkey-team-user-sessions-nav-dev.aivencloud.com', password: PASSWORD });
  });

  it('without a URI, takes host and port with TLS (NAIS only serves TLS)', () => {
    const { VALKEY_URI_USER_SESSIONS: _v, REDIS_URI_USER_SESSIONS: _r, ...env } = nais();
    expect(valkeyOptions('user-sessions', { env })).toMatchObject({ host: 'valkey-team-user-sessions-nav-dev.aivencloud.com', port: 26483, tls: {} });
  });

  it('a valkey:// URI locally: no TLS, and no credentials needed on loopback', () => {
    const options = valkeyOptions('sessions', { env: { VALKEY_URI_SESSIONS: 'valkey://localhost:6380' } });
    expect({ ...options, toJSON: undefined }).toMatchObject({ host: 'localhost', port: 6380, enableReadyCheck: false });
    expect(options).not.toHaveProperty('tls');
    expect(options).not.toHaveProperty('password');
  });

  it('reads process.env by default', () => {
    process.env.VALKEY_URI_PORTVAKT_DEFAULT_ENV_TEST = 'valkey://127.0.0.1:6390';
    try {
      expect(valkeyOptions('portvakt-default-env-test')).toMatchObject({ host: '127.0.0.1', port: 6390 });
    } finally {
      delete process.env.VALKEY_URI_PORTVAKT_DEFAULT_ENV_TEST;
    }
  });

  it('takes a frozen env and keeps no reference to it: a later change does not alter the options', () => {
    const env = nais();
    const options = valkeyOptions('user-sessions', { env: Object.freeze({ ...env }) });
    const mutable = { ...env };
    const second = valkeyOptions('user-sessions', { env: mutable });
    mutable.VALKEY_PASSWORD_USER_SESSIONS = 'changed';
    mutable.VALKEY_URI_USER_SESSIONS = 'valkeys://elsewhere.example:1';
    expect(second).toMatchObject({ host: 'valkey-team-user-sessions-nav-dev.aivencloud.com', password: PASSWORD });
    expect(options.password).toBe(PASSWORD);
  });
});

describe('a URL', () => {
  it.each([
    ['valkeys://u:p%40ss@valkey.example:26483', { host: 'valkey.example', port: 26483, username: 'u', password: 'p@ss', tls: { servername: 'valkey.example' } }],
    ['rediss://:pw@redis.example', { host: 'redis.example', port: 6379, password: 'pw', tls: { servername: 'redis.example' } }],
    ['valkey://127.0.0.1:7000/2', { host: '127.0.0.1', port: 7000, db: 2 }],
    ['redis://[::1]:7001/0', { host: '::1', port: 7001 }],
    ['VALKEYS://10.0.0.5:26483', { host: '10.0.0.5', port: 26483, tls: {} }],
  ])('%s', (url, expected) => {
    const options = valkeyOptions(url);
    expect(options).toMatchObject({ ...expected, enableReadyCheck: false });
    if (!('tls' in expected)) expect(options).not.toHaveProperty('tls');
    if (!('db' in expected)) expect(options).not.toHaveProperty('db');
  });

  it('merges extra TLS settings (a private CA) and lets them override the server name', () => {
    expect(valkeyOptions('valkeys://valkey.example:1', { tls: { ca: 'PEM', servername: 'other.example' } }).tls).toEqual({ ca: 'PEM', servername: 'other.example' });
  });

  it('copies the TLS settings: changing the object afterwards, or freezing it, changes nothing', () => {
    const tls: { ca: string; servername?: string } = { ca: 'PEM' };
    const options = valkeyOptions('valkeys://valkey.example:1', { tls });
    tls.ca = 'OTHER';
    tls.servername = 'evil.example';
    expect(options.tls).toEqual({ ca: 'PEM', servername: 'valkey.example' });
    expect(valkeyOptions('valkeys://valkey.example:1', { tls: Object.freeze({ ca: 'PEM' }) }).tls).toEqual({ ca: 'PEM', servername: 'valkey.example' });
  });

  it('reads no variables for a URL', () => {
    expect(valkeyOptions('valkey://localhost:6379', { env: nais() })).not.toHaveProperty('password');
  });
});

describe('what it refuses', () => {
  it('an instance NAIS set no variables for: names the variable, the manifest fix and the instances it did find', () => {
    const error = failure(() => valkeyOptions('sesions', { env: nais('SESSIONS') }));
    expect(error.field).toBe('VALKEY_URI_SESIONS');
    expect(error.message).toContain('spec.valkey: [{ instance: sesions, access: readwrite }]');
    expect(error.message).toContain('Variables are set for "SESSIONS"');
    expect(failure(() => valkeyOptions('sessions', { env: {} })).message).toContain('No VALKEY_URI_* variable is set at all.');
  });

  it('a user name without its password, and no credentials at all for a remote host', () => {
    const { VALKEY_PASSWORD_USER_SESSIONS: _v, REDIS_PASSWORD_USER_SESSIONS: _r, ...env } = nais();
    expect(failure(() => valkeyOptions('user-sessions', { env })).field).toBe('VALKEY_PASSWORD_USER_SESSIONS');
    const error = failure(() => valkeyOptions('user-sessions', { env: { VALKEY_URI_USER_SESSIONS: 'valkeys://valkey.example:26483' } }));
    expect(error.field).toBe('VALKEY_PASSWORD_USER_SESSIONS');
    expect(error.message).toContain('VALKEY_USERNAME_USER_SESSIONS');
  });

  it('a host without its port, and a port that is not one', () => {
    expect(failure(() => valkeyOptions('x', { env: { VALKEY_HOST_X: 'h.example', VALKEY_USERNAME_X: 'u', VALKEY_PASSWORD_X: 'p' } })).field).toBe('VALKEY_PORT_X');
    const error = failure(() => valkeyOptions('x', { env: { VALKEY_HOST_X: 'h.example', VALKEY_PORT_X: '26483x', VALKEY_PASSWORD_X: 'p' } }));
    expect(error.field).toBe('VALKEY_PORT_X');
    expect(error.message).toContain('must be a port number from 1 to 65535');
    expect(error.message).not.toContain('26483x');
  });

  it.each([
    ['https://valkey.example:26483', 'has the scheme "https:"'],
    ['valkeys://:pw-marker@', 'is not a URL'],
    ['valkeys:///0', 'has no host name'],
    ['valkeys://h.example:1/db', 'a path that is not a database number'],
    ['valkeys://h.example:1?family=6', 'has a query'],
    ['valkeys://u:%E0%A4%A@h.example:1', 'not valid percent-encoding'],
  ])('the URL %s, naming the variable and never showing the value', (uri, message) => {
    const error = failure(() => valkeyOptions('cache', { env: { VALKEY_URI_CACHE: uri, VALKEY_PASSWORD_CACHE: PASSWORD } }));
    expect(error.field).toBe('VALKEY_URI_CACHE');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(uri);
  });

  it('a URL that is not one: the value, which may hold a password, is not shown', () => {
    const error = failure(() => valkeyOptions('valkeys://user:hunter2@host:port:1'));
    expect(error.field).toBe('url');
    expect(error.message).not.toContain('hunter2');
  });

  it('tls for a connection without TLS', () => {
    expect(failure(() => valkeyOptions('valkey://localhost:6379', { tls: { ca: 'x' } })).field).toBe('tls');
  });

  it.each([
    [{ environment: {} }, 'environment', 'did you mean "env"?'],
    [{ ssl: {} }, 'ssl', 'did you mean "tls"?'],
    [{ password: 'x' }, 'password', 'the options here are env, tls'],
  ])('the unknown option %o', (options, field, message) => {
    const error = failure(() => valkeyOptions('valkey://localhost', options as never));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it.each([[''], ['  '], ['---'], [undefined], [42]])('the instance %o', (instance) => {
    expect(failure(() => valkeyOptions(instance as never, { env: nais() })).field).toBe('instance');
  });

  it('an env or tls that is not an object', () => {
    expect(failure(() => valkeyOptions('x', { env: 'VALKEY_URI_X=...' as never })).field).toBe('env');
    expect(failure(() => valkeyOptions('valkeys://h.example', { tls: true as never })).field).toBe('tls');
    expect(failure(() => valkeyOptions('x', null as never)).field).toBe('options');
  });
});

describe('the password never shows', () => {
  const options = valkeyOptions('user-sessions', { env: nais(), tls: { key: 'PRIVATE-KEY-PEM', passphrase: 'tls-pass' } });

  it('in util.inspect, console.log and JSON.stringify, of the options and of a spread copy', () => {
    const copy = { ...options, maxRetriesPerRequest: 1, enableOfflineQueue: false };
    for (const value of [options, copy]) {
      for (const text of [inspect(value), inspect(value, { depth: 5, showHidden: true }), JSON.stringify(value), `${JSON.stringify({ redis: value })}`]) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain('PRIVATE-KEY-PEM');
        expect(text).not.toContain('tls-pass');
        expect(text).toContain('[redacted]');
        expect(text).toContain('app-rw-1a2b3c');
      }
    }
    expect(inspect(copy)).toContain('maxRetriesPerRequest');
    // ...while the value ioredis reads is the real one.
    expect(copy.password).toBe(PASSWORD);
  });

  it('in any error message, whatever variable is wrong', () => {
    const broken = [
      { ...nais(), VALKEY_URI_USER_SESSIONS: `valkeys://x:${PASSWORD}@:1` },
      { ...nais(), VALKEY_URI_USER_SESSIONS: `${PASSWORD}://h` },
      { ...nais(), VALKEY_URI_USER_SESSIONS: 'Hunter2Hunter2Hunter2://h' },
      { ...nais(), VALKEY_URI_USER_SESSIONS: undefined, REDIS_URI_USER_SESSIONS: undefined, VALKEY_PORT_USER_SESSIONS: PASSWORD },
    ];
    for (const env of broken) {
      const message = failure(() => valkeyOptions('user-sessions', { env })).message.toLowerCase();
      expect(message).not.toContain(PASSWORD.toLowerCase());
      expect(message).not.toContain('hunter2');
    }
  });
});
