// Option checks shared by the middleware and the proxy. Every options object refuses keys it does
// not know: a typo (`scopes` for `scope`, `consumer_org` for `consumerOrg`) would otherwise be
// ignored silently, and the app would ask for a token it did not mean to.
import { ConfigurationError } from '@portvakt/core';
import type { TokenRequest } from '@portvakt/core';

/** The claims of a token request (core's `TokenRequest`). */
const TOKEN_REQUEST_KEYS = ['scope', 'resource', 'consumerOrg', 'pid', 'systemUser'] as const;
const SYSTEM_USER_KEYS = ['orgno', 'externalRef'] as const;

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `prefix.key`, or `key` at the top level. */
export function fieldName(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/**
 * Throws a {@link ConfigurationError} naming the first key of `value` that is not in `known`, with
 * the nearest known key as the fix when one is close.
 */
export function refuseUnknownKeys(value: object, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const fix = suggestion === undefined ? `remove it (known options: ${known.join(', ')})` : `did you mean "${suggestion}"?`;
    throw new ConfigurationError(fieldName(prefix, key), `is not an option here: ${fix}.`);
  }
}

/** Refuses unknown claims in a token request and in its `systemUser`. */
export function refuseUnknownClaims(request: TokenRequest | undefined, prefix: string): void {
  if (typeof request !== 'object' || request === null) return; // core's validateTokenRequest names the type error
  refuseUnknownKeys(request, TOKEN_REQUEST_KEYS, prefix);
  const systemUser: unknown = request.systemUser;
  if (typeof systemUser === 'object' && systemUser !== null) refuseUnknownKeys(systemUser, SYSTEM_USER_KEYS, fieldName(prefix, 'systemUser'));
}

/** Checks the options object itself and that it has only `known` keys. */
export function checkOptionsObject(options: unknown, known: readonly string[], shape: string): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigurationError('options', `must be an object: ${shape}.`);
  refuseUnknownKeys(options, known, '');
}

/** Checks an optional function option. */
export function checkFunction(value: unknown, field: string, shape: string): void {
  if (value !== undefined && typeof value !== 'function') throw new ConfigurationError(field, `must be a function ${shape}, or left out.`);
}
