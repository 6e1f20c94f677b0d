import { describe, expect, expectTypeOf, it } from 'vitest';
import { AbortedError, ClientClosedError, ConfigurationError, EndpointUnavailableError, httpStatusOfTokenFailure, isPortvaktError, MalformedResponseError, PortvaktError, TimeoutError, TokenEndpointError } from '@portvakt/core';
import type { AnyPortvaktError } from '@portvakt/core';
import type * as Errors from '../src/errors.ts';

describe('error codes narrow', () => {
  it('switch (err.code) reaches each class\'s own fields without a cast', () => {
    const errors: AnyPortvaktError[] = [
      new TokenEndpointError({ status: 400, error: 'invalid_grant', errorDescription: 'MP-124 bad signature' }),
      new EndpointUnavailableError('down', { attempts: 3, status: 503 }),
      new ConfigurationError('scope', 'is empty.'),
    ];
    const seen: string[] = [];
    for (const err of errors) {
      switch (err.code) {
        case 'ERR_PORTVAKT_TOKEN_REJECTED':
          expectTypeOf(err).toEqualTypeOf<TokenEndpointError>();
          seen.push(`mp ${err.mpCode}`);
          break;
        case 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE':
          seen.push(`attempts ${err.attempts}`);
          break;
        case 'ERR_PORTVAKT_CONFIGURATION':
          seen.push(`field ${err.field}`);
          break;
        default:
          seen.push('other');
      }
    }
    expect(seen).toEqual(['mp MP-124', 'attempts 3', 'field scope']);
  });

  it('isPortvaktError types the union', () => {
    const err: unknown = new TimeoutError('slow', 100);
    expect(isPortvaktError(err)).toBe(true);
    if (isPortvaktError(err) && err.code === 'ERR_PORTVAKT_TIMEOUT') expect(err.timeoutMs).toBe(100);
    expect(isPortvaktError(new Error('x'))).toBe(false);
  });
});

describe('instanceof across two copies of the package (ESM and CommonJS builds in one process)', () => {
  it('an error from one copy is an instance of the other copy\'s classes, by class', async () => {
    // A second module instance of the same source, as a dual package loaded twice would give.
    const specifier = '../src/errors.ts?second-copy';
    const other = (await import(/* @vite-ignore */ specifier)) as typeof Errors;
    expect(other.TokenEndpointError).not.toBe(TokenEndpointError);
    const foreign = new other.TokenEndpointError({ status: 400, error: 'invalid_scope' });
    expect(foreign).toBeInstanceOf(TokenEndpointError);
    expect(foreign).toBeInstanceOf(PortvaktError);
    expect(foreign instanceof ConfigurationError).toBe(false);
    expect(new ConfigurationError('x', 'y.') instanceof other.ConfigurationError).toBe(true);
    expect(new ConfigurationError('x', 'y.') instanceof other.TimeoutError).toBe(false);
    expect({ code: 'ERR_PORTVAKT_TIMEOUT' } instanceof PortvaktError).toBe(false);
  });
});

describe('one HTTP mapping for every adapter', () => {
  it.each([
    [new EndpointUnavailableError('down', { attempts: 3 }), 503, 'maskinporten_unavailable'],
    [new TimeoutError('slow', 10), 504, 'maskinporten_timeout'],
    [new TokenEndpointError({ status: 400, error: 'invalid_scope', errorDescription: 'MP-200 x' }), 502, 'maskinporten_rejected'],
    [new MalformedResponseError('bad', 200), 502, 'maskinporten_bad_response'],
    [new AbortedError(), 499, 'client_closed_request'],
    [new ClientClosedError(), 502, 'maskinporten_misconfigured'],
    [new ConfigurationError('key', 'bad.'), 502, 'maskinporten_misconfigured'],
    [new Error('other'), 502, 'maskinporten_misconfigured'],
  ])('%s -> %i %s', (error, status, code) => {
    expect(httpStatusOfTokenFailure(error)).toMatchObject({ status, code });
  });

  it('carries the MP code of a rejection', () => {
    expect(httpStatusOfTokenFailure(new TokenEndpointError({ status: 400, error: 'invalid_scope', errorDescription: 'MP-200 x' })).mpCode).toBe('MP-200');
  });
});
