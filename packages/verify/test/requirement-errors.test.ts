// The two errors of this round, as the others are checked in http-answers.test.ts: literal names
// and codes, JSON without secrets, instanceof across builds by brand, and their HTTP answers.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isPortvaktError, PortvaktError, problemOf } from '@portvakt/core';
import { httpStatusOfVerificationFailure, IntrospectionUnavailableError, isVerificationError, KeySetUnavailableError, RequirementNotMetError } from '@portvakt/verify';

describe('RequirementNotMetError and IntrospectionUnavailableError', () => {
  it.each([
    [new RequirementNotMetError('pid', 'x'), 'RequirementNotMetError', 'ERR_PORTVAKT_REQUIREMENT_NOT_MET', 403, 'person_not_allowed'],
    [new RequirementNotMetError('consent', 'x'), 'RequirementNotMetError', 'ERR_PORTVAKT_REQUIREMENT_NOT_MET', 403, 'consent_missing'],
    [new RequirementNotMetError('systemUser', 'x'), 'RequirementNotMetError', 'ERR_PORTVAKT_REQUIREMENT_NOT_MET', 403, 'system_user_not_allowed'],
    [new IntrospectionUnavailableError('down', { cause: new Error('ECONNREFUSED') }), 'IntrospectionUnavailableError', 'ERR_PORTVAKT_INTROSPECTION_UNAVAILABLE', 503, 'introspection_unavailable'],
  ] as const)('%s', (error, name, code, status, answerCode) => {
    expect(error).toBeInstanceOf(PortvaktError);
    expect(isPortvaktError(error) && isVerificationError(error)).toBe(true);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect((error.constructor as { code?: string }).code).toBe(code);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name, code, status });
    const problem = problemOf(error);
    expect(problem).toMatchObject({ status, code: answerCode });
    expect(httpStatusOfVerificationFailure(error)).toMatchObject({ status, code: answerCode });
    expect(problem.headers['www-authenticate']).toBe(status === 403 ? error.wwwAuthenticate : undefined);
    expect(inspect(error)).toContain(name);
  });

  it('instanceof holds across builds by the codes a class owns, and not across classes', () => {
    const foreign = Object.assign(new Error('from the other build'), { [Symbol.for('portvakt.error.codes')]: ['ERR_PORTVAKT_REQUIREMENT_NOT_MET'] });
    expect(foreign instanceof RequirementNotMetError).toBe(true);
    expect(foreign instanceof IntrospectionUnavailableError).toBe(false);
    expect(new IntrospectionUnavailableError('x') instanceof KeySetUnavailableError).toBe(false);
  });
});
