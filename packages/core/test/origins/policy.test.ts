import { describe, expect, it } from 'vitest';
import { createOriginPolicy } from '@portvakt/core';
import { originOf } from '../../src/origins/index.js';
import { isLoopbackHostname } from '../../src/shared/index.js';
import { ConfigurationError } from '../../src/errors.js';

const policy = createOriginPolicy([
  'https://api.example.no',
  'https://bücher.example/',
  'http://127.0.0.1:8080',
  'http://[::1]:9000',
  'http://localhost:3000',
  'https://10.0.0.1:8443',
]);

// [url, allowed, why]
const cases: ReadonlyArray<readonly [string | URL, boolean, string]> = [
  ['https://api.example.no/', true, 'exact origin'],
  ['https://api.example.no', true, 'no path'],
  ['https://api.example.no/v1/items?x=1#f', true, 'path, query and fragment do not matter'],
  ['HTTPS://API.EXAMPLE.NO/v1', true, 'upper-case scheme and host'],
  ['https://Api.Example.No/v1', true, 'mixed case host'],
  ['https://api.example.no./v1', true, 'trailing dot is the same host'],
  ['https://api.example.no:443/v1', true, 'explicit default port'],
  ['https://api.example.no:0443/v1', true, 'leading zero in the default port'],
  ['https://user:pass@api.example.no/v1', true, 'credentials in the URL do not change the host'],
  ['https://api%2Eexample.no/', true, 'percent-encoded dot decodes to the same host'],
  ['https://api.exa\tmple.no/', true, 'tab is stripped by the URL parser, as fetch does'],
  ['https:api.example.no/v1', true, 'missing slashes still parse to the same host for special schemes'],
  ['https://api.example.no\\@evil.example/', true, 'backslash ends the authority: host is api.example.no'],
  [new URL('https://api.example.no/v1'), true, 'URL object'],
  ['https://api.example.no:8443/', false, 'other port'],
  ['https://api.example.no:80/', false, 'http port on https'],
  ['http://api.example.no/', false, 'http downgrade'],
  ['http://api.example.no:443/', false, 'http on port 443'],
  ['wss://api.example.no/', false, 'other scheme'],
  ['ftp://api.example.no/', false, 'ftp'],
  ['https://evil.api.example.no/', false, 'subdomain'],
  ['https://api.example.no.evil.example/', false, 'allowed host as a prefix'],
  ['https://apiexample.no/', false, 'missing dot'],
  ['https://api-example.no/', false, 'dash instead of dot'],
  ['https://example.no/', false, 'parent domain'],
  ['https://api.example.no..', false, 'two trailing dots'],
  ['https://api.example@evil.com/', false, 'userinfo that looks like the host'],
  ['https://api.example.no@evil.com/', false, 'full allowed host as userinfo'],
  ['https://api.example.no:443@evil.com/', false, 'host and port as userinfo'],
  ['https://evil.com#@api.example.no/', false, 'allowed host in the fragment'],
  ['https://evil.com?@api.example.no/', false, 'allowed host in the query'],
  ['https://evil.com/https://api.example.no/', false, 'allowed URL in the path'],
  ['https:\\\\evil.com\\api.example.no', false, 'backslashes are slashes for https'],
  ['//api.example.no/v1', false, 'protocol-relative URL is relative'],
  ['/v1/items', false, 'relative path'],
  ['api.example.no', false, 'no scheme'],
  ['', false, 'empty string'],
  ['https://', false, 'no host'],
  ['javascript:alert(1)//https://api.example.no', false, 'javascript URL'],
  ['data:text/plain,https://api.example.no', false, 'data URL'],
  ['https://api.example.no%2F@evil.com/', false, 'encoded slash in userinfo'],
  ['https://api.example.no%40evil.com/', false, 'encoded @ is not a host character'],
  ['https://xn--bcher-kva.example/', true, 'punycode form of an allowed IDN'],
  ['https://BÜCHER.example/', true, 'upper-case IDN'],
  ['https://bucher.example/', false, 'IDN without the umlaut'],
  ['https://xn--bcher-kva.example.evil/', false, 'punycode host with another TLD'],
  ['https://аpi.example.no/', false, 'Cyrillic a homograph'],
  ['http://127.0.0.1:8080/x', true, 'loopback IPv4'],
  ['http://127.1:8080/x', true, 'short IPv4 form of 127.0.0.1'],
  ['http://0x7f.0.0.1:8080/', true, 'hex IPv4 octet'],
  ['http://0177.0.0.1:8080/', true, 'octal IPv4 octet'],
  ['http://2130706433:8080/', true, 'IPv4 as one integer'],
  ['http://127.0.0.1:8081/', false, 'other loopback port'],
  ['http://127.0.0.2:8080/', false, 'other loopback address'],
  ['https://127.0.0.1:8080/', false, 'https on an http loopback origin'],
  ['http://127.0.0.1/', false, 'loopback default port'],
  ['http://localhost:8080/', false, 'localhost is another origin than 127.0.0.1'],
  ['http://[::1]:9000/', true, 'IPv6 loopback'],
  ['http://[0:0:0:0:0:0:0:1]:9000/', true, 'long IPv6 loopback'],
  ['http://[::ffff:127.0.0.1]:9000/', false, 'IPv4-mapped IPv6 is another origin'],
  ['http://[::1]:9001/', false, 'IPv6 loopback other port'],
  ['http://localhost:3000/', true, 'localhost'],
  ['http://LOCALHOST:3000/', true, 'upper-case localhost'],
  ['http://localhost.:3000/', true, 'localhost with trailing dot'],
  ['http://api.localhost:3000/', false, 'subdomain of localhost'],
  ['https://10.0.0.1:8443/', true, 'https private IPv4'],
  ['https://10.1:8443/', true, 'short form of 10.0.0.1'],
  ['https://167772161:8443/', true, 'integer form of 10.0.0.1'],
  ['https://10.0.0.1/', false, 'IPv4 default port'],
  ['https://10.0.0.10:8443/', false, 'other IPv4'],
  ['http://10.0.0.1:8443/', false, 'http downgrade on IPv4'],
];

describe('createOriginPolicy().allows', () => {
  it('has a table of at least 60 crafted URLs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases.map(([url, allowed, why]) => ({ url: String(url), input: url, allowed, why })))(
    '$why: $url -> $allowed',
    ({ input, allowed }) => {
      expect(policy.allows(input)).toBe(allowed);
    },
  );

  it('refuses values that are not URLs', () => {
    expect(policy.allows(42 as unknown as string)).toBe(false);
    expect(policy.allows(undefined as unknown as string)).toBe(false);
  });

  it('lists normalised origins', () => {
    expect(policy.origins).toEqual([
      'https://api.example.no',
      'https://xn--bcher-kva.example',
      'http://127.0.0.1:8080',
      'http://[::1]:9000',
      'http://localhost:3000',
      'https://10.0.0.1:8443',
    ]);
    expect(Object.isFrozen(policy.origins)).toBe(true);
  });

  it('normalises configured origins: case, default port, trailing dot, trailing slash, duplicates', () => {
    const p = createOriginPolicy(['HTTPS://API.Example.NO.:443/', 'https://api.example.no', new URL('https://other.example.no')]);
    expect(p.origins).toEqual(['https://api.example.no', 'https://other.example.no']);
    expect(p.allows('https://api.example.no/x')).toBe(true);
  });
});

describe('createOriginPolicy validation', () => {
  const bad: ReadonlyArray<readonly [unknown, RegExp]> = [
    ['https://api.example.no/v1', /no path/],
    ['https://api.example.no?x=1', /no path, query/],
    ['https://api.example.no/#x', /fragment/],
    ['https://user:pw@api.example.no', /user name or password/],
    ['https://user@api.example.no', /user name or password/],
    ['http://api.example.no', /loopback/],
    ['http://api.localhost:3000', /loopback/],
    ['http://[::ffff:127.0.0.1]', /loopback/],
    ['ftp://files.example.no', /scheme "ftp:"/],
    ['api.example.no', /not an absolute URL.*https:\/\/api\.example\.no/],
    ['//api.example.no', /not an absolute URL/],
    ['https://*.example.no', /wildcards/],
    [42, /origin string/],
    [null, /origin string/],
  ];
  it.each(bad.map(([value, message]) => ({ value, message })))('rejects $value', ({ value, message }) => {
    let caught: unknown;
    try {
      createOriginPolicy(['https://ok.example.no', value as string], 'allowedOrigins');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).field).toBe('allowedOrigins[1]');
    expect((caught as ConfigurationError).message).toMatch(message);
  });

  it('rejects an empty list and a non-array', () => {
    expect(() => createOriginPolicy([])).toThrow(/at least one origin/);
    expect(() => createOriginPolicy('https://api.example.no' as unknown as string[])).toThrow(ConfigurationError);
  });

  it('accepts http on every loopback form', () => {
    const p = createOriginPolicy(['http://127.0.0.1', 'http://127.255.255.254:1', 'http://[::1]', 'http://localhost', 'http://127.1:5']);
    expect(p.origins).toContain('http://127.0.0.1:5');
  });
});

describe('originOf', () => {
  it('returns the comparable origin or undefined', () => {
    expect(originOf('HTTPS://Api.Example.no.:443/x')).toBe('https://api.example.no');
    expect(originOf(new URL('http://127.1:80/'))).toBe('http://127.0.0.1');
    expect(originOf('/relative')).toBeUndefined();
    expect(originOf('mailto:a@example.no')).toBeUndefined();
  });
});

describe('isLoopbackHostname', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['localhost.', true],
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['127.1', true],
    ['::1', true],
    ['[::1]', true],
    ['[0:0:0:0:0:0:0:1]', true],
    ['api.localhost', false],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['::ffff:127.0.0.1', false],
    ['example.no', false],
    ['127.0.0.1.example.no', false],
    ['', false],
    ['local host', false],
  ] as const)('%s -> %s', (hostname, expected) => {
    expect(isLoopbackHostname(hostname)).toBe(expected);
  });
});
