import { describe, expect, it } from 'vitest';
import { validateTransportOptions } from '../../src/transport/index.js';
import { ConfigurationError } from '../../src/errors.js';
import { isTransientStatus as isRetryableStatus } from '../../src/shared/index.js';
import { fullJitterBackoff, parseRetryAfter } from '../../src/transport/retry.js';

describe('validateTransportOptions', () => {
  it('fills in the defaults', () => {
    const options = validateTransportOptions(undefined);
    expect(options).toMatchObject({ attemptTimeout: 10_000, deadline: 30_000, maxAttempts: 3, maxRetryAfter: 30_000, backoffBase: 200, backoffMax: 5_000 });
    expect(typeof options.fetch).toBe('function');
    expect(Object.isFrozen(options)).toBe(true);
    expect(validateTransportOptions({}).maxAttempts).toBe(3);
  });

  it('keeps given values and the given fetch', () => {
    const myFetch: typeof fetch = (input, init) => fetch(input, init);
    const options = validateTransportOptions({ fetch: myFetch, attemptTimeout: 1, deadline: 2, maxAttempts: 10, maxRetryAfter: 0, backoffBase: 0, backoffMax: 0 });
    expect(options).toEqual({ fetch: myFetch, attemptTimeout: 1, deadline: 2, maxAttempts: 10, maxRetryAfter: 0, backoffBase: 0, backoffMax: 0 });
  });

  it.each([
    [null, 'transport', /must be an object/],
    ['fast', 'transport', /must be an object/],
    [[], 'transport', /must be an object/],
    [{ timeout: 5 }, 'transport.timeout', /not a transport option/],
    [{ fetch: 'global' }, 'transport.fetch', /fetch function/],
    [{ attemptTimeout: 0 }, 'transport.attemptTimeout', /from 1 to/],
    [{ attemptTimeout: -1 }, 'transport.attemptTimeout', /from 1 to/],
    [{ attemptTimeout: Number.POSITIVE_INFINITY }, 'transport.attemptTimeout', /from 1 to/],
    [{ attemptTimeout: '1000' }, 'transport.attemptTimeout', /milliseconds/],
    [{ deadline: 2 ** 31 }, 'transport.deadline', /to 2147483647/],
    [{ maxAttempts: 0 }, 'transport.maxAttempts', /whole number from 1 to 10/],
    [{ maxAttempts: 11 }, 'transport.maxAttempts', /whole number from 1 to 10/],
    [{ maxAttempts: 2.5 }, 'transport.maxAttempts', /whole number/],
    [{ maxRetryAfter: -1 }, 'transport.maxRetryAfter', /from 0/],
    [{ backoffBase: Number.NaN }, 'transport.backoffBase', /from 0/],
    [{ backoffBase: 500, backoffMax: 100 }, 'transport.backoffMax', /at least backoffBase/],
  ])('rejects %j', (value, field, message) => {
    let caught: unknown;
    try {
      validateTransportOptions(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).field).toBe(field);
    expect((caught as Error).message).toMatch(message);
  });

  it('names the given field', () => {
    expect(() => validateTransportOptions({ maxAttempts: 0 }, 'clients.a.transport')).toThrow(/"clients\.a\.transport\.maxAttempts"/);
  });
});

describe('retry rules', () => {
  it('retries 408, 429 and 5xx but 501 and 505', () => {
    const retryable = [100, 200, 301, 400, 401, 403, 404, 408, 409, 429, 500, 501, 502, 503, 504, 505, 599, 600].filter(isRetryableStatus);
    expect(retryable).toEqual([408, 429, 500, 502, 503, 504, 599]);
  });

  it('reads Retry-After as seconds or an HTTP-date', () => {
    const now = Date.UTC(2030, 0, 1);
    expect(parseRetryAfter(null, undefined, now)).toBeUndefined();
    expect(parseRetryAfter('3', undefined, now)).toBe(3_000);
    expect(parseRetryAfter(' 0 ', undefined, now)).toBe(0);
    expect(parseRetryAfter('-3', undefined, now)).toBeUndefined();
    expect(parseRetryAfter('1.5', undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', undefined, now)).toBeUndefined();
    expect(parseRetryAfter(new Date(now + 4_000).toUTCString(), undefined, now)).toBe(4_000);
    expect(parseRetryAfter(new Date(now - 4_000).toUTCString(), undefined, now)).toBe(0);
    // Against the server's own Date header, whatever our clock says.
    expect(parseRetryAfter(new Date(now + 4_000).toUTCString(), now + 1_000, now + 999_999)).toBe(3_000);
  });

  it('draws full-jitter backoff below min(max, base * 2^retry)', () => {
    expect(fullJitterBackoff(0, 200, 5_000, () => 0.9999)).toBe(199);
    expect(fullJitterBackoff(3, 200, 5_000, () => 0.9999)).toBe(1_599);
    expect(fullJitterBackoff(10, 200, 5_000, () => 0.9999)).toBe(4_999);
    expect(fullJitterBackoff(2, 200, 5_000, () => 0)).toBe(0);
    expect(fullJitterBackoff(1, 200, 5_000, () => 0.5)).toBe(200);
  });
});
