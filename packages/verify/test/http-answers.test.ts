// The Authorization header, the HTTP answer of each failure, and the duplicate-member scanner.
import { describe, expect, it } from 'vitest';
import {
  httpStatusOfVerificationFailure,
  InsufficientScopeError,
  InvalidTokenError,
  isVerificationError,
  KeySetUnavailableError,
  MAX_TOKEN_LENGTH,
  MissingTokenError,
  OrganizationNotAllowedError,
  readBearerToken,
} from '@portvakt/verify';
import { isPortvaktError, PortvaktError } from '@portvakt/core';
import { findDuplicateMember } from '../src/json-members.js';
import { thrownBy } from './support.js';

describe('readBearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER  abc.def.ghi ', 'abc.def.ghi'],
    ['Bearer a-b_c~d+e/f==', 'a-b_c~d+e/f=='],
  ])('reads %j', (header, token) => {
    expect(readBearerToken(header)).toBe(token);
  });

  it.each([
    [undefined, 'ERR_PORTVAKT_TOKEN_MISSING'],
    ['', 'ERR_PORTVAKT_TOKEN_MISSING'],
    ['Basic dXNlcjpwYXNz', 'ERR_PORTVAKT_TOKEN_MISSING'],
    ['DPoP abc.def.ghi', 'ERR_PORTVAKT_TOKEN_MISSING'],
    ['Bearerabc.def.ghi', 'ERR_PORTVAKT_TOKEN_MISSING'],
    ['Bearer', 'ERR_PORTVAKT_INVALID_TOKEN'],
    ['Bearer ', 'ERR_PORTVAKT_INVALID_TOKEN'],
    ['Bearer a b', 'ERR_PORTVAKT_INVALID_TOKEN'],
    ['Bearer a,Bearer b', 'ERR_PORTVAKT_INVALID_TOKEN'],
    ['Bearer "abc"', 'ERR_PORTVAKT_INVALID_TOKEN'],
    [['Bearer a', 'Bearer b'], 'ERR_PORTVAKT_INVALID_TOKEN'],
    [`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`, 'ERR_PORTVAKT_INVALID_TOKEN'],
  ])('refuses %j with 401 %s', (header, code) => {
    const error = thrownBy(() => readBearerToken(header as string));
    expect(error.code).toBe(code);
    expect(error.status).toBe(401);
  });

  it('answers a missing token with a bare challenge (RFC 6750 section 3.1) and names no scheme it was not given', () => {
    const error = thrownBy(() => readBearerToken('Basic dXNlcjpwYXNz'));
    expect(error.wwwAuthenticate).toBe('Bearer');
    expect(error.message).toContain('"Basic"');
    expect(error.message).not.toContain('dXNlcjpwYXNz');
  });
});

describe('httpStatusOfVerificationFailure', () => {
  it.each([
    [new MissingTokenError(), 401, 'token_missing', 'Bearer'],
    [new InvalidTokenError('expired', 'x'), 401, 'invalid_token', 'Bearer error="invalid_token", error_description="The access token expired"'],
    [new InsufficientScopeError(['a:b', 'c:d'], ['c:d']), 403, 'insufficient_scope', 'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="a:b c:d"'],
    [new OrganizationNotAllowedError('supplier', 'x'), 403, 'organization_not_allowed', 'Bearer error="insufficient_scope", error_description="The supplier organisation is not allowed"'],
    [new KeySetUnavailableError('x'), 503, 'key_set_unavailable', undefined],
    [new Error('a bug'), 500, 'verification_failed', undefined],
    ['not even an error', 500, 'verification_failed', undefined],
  ])('%s answers %i %s', (error, status, code, wwwAuthenticate) => {
    const answer = httpStatusOfVerificationFailure(error);
    expect(answer).toMatchObject({ status, code, wwwAuthenticate });
    expect(answer.title).toMatch(/^[A-Z]/);
    expect(answer.detail).toMatch(/\.$/);
  });

  it('gives the reason of an invalid token', () => {
    expect(httpStatusOfVerificationFailure(new InvalidTokenError('bad_signature', 'x'))).toMatchObject({ reason: 'bad_signature', detail: 'The token signature is invalid.' });
  });

  it('the errors are Portvakt errors with literal codes, across builds by brand', () => {
    const error = new InvalidTokenError('malformed', 'x');
    expect(error).toBeInstanceOf(PortvaktError);
    expect(isPortvaktError(error)).toBe(true);
    expect(isVerificationError(error)).toBe(true);
    expect(isVerificationError(new Error('x'))).toBe(false);
    expect(error.name).toBe('InvalidTokenError');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'InvalidTokenError', code: 'ERR_PORTVAKT_INVALID_TOKEN', reason: 'malformed', status: 401 });
    const foreign = Object.assign(new Error('from the other build'), { [Symbol.for('portvakt.error.codes')]: ['ERR_PORTVAKT_INVALID_TOKEN'] });
    expect(foreign instanceof InvalidTokenError).toBe(true);
    expect(foreign instanceof MissingTokenError).toBe(false);
  });
});

describe('findDuplicateMember', () => {
  it.each([
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"b":{"a":2}}', undefined],
    ['[{"a":1},{"a":2}]', undefined],
    ['{"a":"x\\"y","b":"\\\\"}', undefined],
    ['{"a":["a","a"],"b":{"c":{"d":[{"e":1}]}}}', undefined],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1, "b":{"c":1,"c":2}}', 'c'],
    ['{"x":[{"y":1,"y":2}]}', 'y'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"a\\"b":1,"a\\"b":2}', 'a"b'],
    ['{"\\uZZ":1,"\\uZZ":2}', '\\uZZ'],
    ['{"a":"unterminated', undefined],
    ['', undefined],
  ])('%j gives %j', (text, duplicate) => {
    expect(findDuplicateMember(text)).toBe(duplicate);
  });
});
