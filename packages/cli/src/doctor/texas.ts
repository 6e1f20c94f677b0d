// The doctor's checks of a NAIS Texas set-up (docs/maskinporten-rules.md §11.1): the options
// (Texas' endpoint, the scope, what the request asks for), then a real token request through the
// Texas source, with what its error means. Nothing here reports a token.
import { createTexasTokenSource, isPortvaktError } from '@portvakt/core';
import type { EnvClientOptions, TokenRequest } from '@portvakt/core';
import { listFlag, stringFlag } from '../args.js';
import type { ParsedFlags } from '../args.js';
import { CommandError, UsageError } from '../errors.js';
import { failureOf } from '../failures.js';
import { tokenRequestOf } from '../options.js';
import type { StepResult } from './steps.js';

/** The steps of a Texas check, in order. */
export const TEXAS_ORDER: StepResult['name'][] = ['options', 'token'];

const LOCAL_TEXAS = 'on NAIS, Texas runs beside the app in its pod; on your machine, start `npx portvakt-simulator` and use the NAIS_TOKEN_ENDPOINT it prints';

/**
 * Texas' token endpoint when the doctor should check Texas: `--texas-endpoint`, or
 * `NAIS_TOKEN_ENDPOINT` unless a key (`--key`, `--client-id`) says to check the client instead.
 */
export function texasEndpointOf(flags: ParsedFlags, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const given = stringFlag(flags, 'texas-endpoint');
  if (given !== undefined) return given;
  if (stringFlag(flags, 'key') !== undefined || stringFlag(flags, 'client-id') !== undefined) return undefined;
  const value = env.NAIS_TOKEN_ENDPOINT?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function requestOf(flags: ParsedFlags, env: Readonly<Record<string, string | undefined>>): TokenRequest {
  const given = listFlag(flags, 'scope');
  const scopes = given.length > 0 ? given : (env.MASKINPORTEN_SCOPES ?? '').split(/[\s,]+/).filter((s) => s !== '');
  // tokenRequestOf reads only the scope of the options; the rest come from the flags.
  return tokenRequestOf(flags, (scopes.length > 0 ? { scope: scopes } : {}) as EnvClientOptions, 'doctor');
}

/** What a failed Texas request means, and what to do. */
function tokenFailure(error: unknown, endpoint: string): StepResult {
  if (isPortvaktError(error)) {
    switch (error.code) {
      case 'ERR_PORTVAKT_TOKEN_REJECTED': {
        const said = `${error.error}${error.errorDescription === undefined ? '' : `: ${error.errorDescription}`}`;
        return {
          name: 'token', status: 'fail',
          summary: `Texas refused the token request (HTTP ${error.status}, ${said}).`,
          fix: error.hint ?? 'see docs/nais.md and docs/troubleshooting.md for the error.',
          details: { status: error.status, error: error.error, description: error.errorDescription, mpCode: error.mpCode },
        };
      }
      case 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE':
        if (error.status === undefined) {
          return { name: 'token', status: 'fail', summary: `Nothing answers at ${endpoint}: ${error.message}`, fix: `check NAIS_TOKEN_ENDPOINT: ${LOCAL_TEXAS}.`, details: { attempts: error.attempts } };
        }
        return {
          name: 'token', status: 'fail',
          summary: `Texas answered HTTP ${error.status}: it could not get a token from Maskinporten (it retries Maskinporten itself). ${error.message}`,
          fix: 'Texas reaches Maskinporten for the app: check Digdir\'s status page and the app\'s NAIS set-up, then try again; Texas\' own log says more.',
          details: { status: error.status, attempts: error.attempts },
        };
      case 'ERR_PORTVAKT_TIMEOUT':
        return { name: 'token', status: 'fail', summary: error.message, fix: `Texas did not answer in time: check NAIS_TOKEN_ENDPOINT (${LOCAL_TEXAS}), and give --timeout more seconds if Maskinporten is slow.` };
      case 'ERR_PORTVAKT_MALFORMED_RESPONSE':
        return { name: 'token', status: 'fail', summary: error.message, fix: `the answer is not Texas': NAIS_TOKEN_ENDPOINT should be Texas' token endpoint (…/api/v1/token).` };
      default:
        break;
    }
  }
  const failure = failureOf(error);
  return { name: 'token', status: 'fail', summary: failure.message, fix: failure.fix ?? 'see docs/nais.md.' };
}

/** Checks a Texas set-up: the options, then one real token request. Stops at the first failure. */
export async function runTexasSteps(flags: ParsedFlags, env: Readonly<Record<string, string | undefined>>, endpoint: string, timeoutMs: number): Promise<StepResult[]> {
  let request: TokenRequest;
  let source;
  try {
    request = requestOf(flags, env);
    source = createTexasTokenSource({ endpoint, transport: { attemptTimeout: timeoutMs, deadline: timeoutMs * 2 } });
  } catch (error) {
    if (error instanceof UsageError) return [{ name: 'options', status: 'fail', summary: error.message, fix: 'give --scope or set MASKINPORTEN_SCOPES: a scope listed under spec.maskinporten.scopes.consumes in the NAIS manifest.' }];
    if (isPortvaktError(error) && error.code === 'ERR_PORTVAKT_CONFIGURATION' && error.field === 'endpoint') {
      return [{ name: 'options', status: 'fail', summary: error.message.replace('option "endpoint"', 'NAIS_TOKEN_ENDPOINT'), fix: `set NAIS_TOKEN_ENDPOINT (or --texas-endpoint) to Texas' token endpoint (…/api/v1/token): ${LOCAL_TEXAS}.` }];
    }
    const failure = error instanceof CommandError ? error : failureOf(error);
    return [{ name: 'options', status: 'fail', summary: failure.message, fix: failure.fix ?? 'check NAIS_TOKEN_ENDPOINT.' }];
  }
  const scopes = [request.scope ?? []].flat();
  const steps: StepResult[] = [];
  try {
    const started = performance.now();
    let token;
    try {
      token = await source.getToken(request);
    } catch (error) {
      // A request Texas cannot send is the options' fault, found before any request.
      if (isPortvaktError(error) && error.code === 'ERR_PORTVAKT_CONFIGURATION') {
        return [{ name: 'options', status: 'fail', summary: error.message, fix: 'ask Texas only for what it can send, or check this with the app\'s own key: portvakt doctor --key FILE --client-id ID.' }];
      }
      steps.push({ name: 'options', status: 'ok', summary: `NAIS Texas at ${endpoint}, scope ${scopes.join(' ')}.`, details: { texas: endpoint, scopes } });
      steps.push(tokenFailure(error, endpoint));
      return steps;
    }
    const ms = Math.round(performance.now() - started);
    steps.push({ name: 'options', status: 'ok', summary: `NAIS Texas at ${endpoint}, scope ${scopes.join(' ')}.`, details: { texas: endpoint, scopes } });
    steps.push({
      name: 'token', status: 'ok',
      summary: `Texas gave a token in ${ms} ms (${token.expiresIn()} s left; Texas keeps it until 120 s before it expires).`,
      details: { ms, expiresIn: token.expiresIn(), tokenType: token.tokenType },
    });
    return steps;
  } finally {
    await source.close();
  }
}
