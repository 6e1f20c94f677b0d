// Every options object refuses keys it does not know: a typo (`scopes` for `scope`, `consumer_org`
// for `consumerOrg`, `encryption_key` for `encryptionKey`) would otherwise be ignored silently, and
// the app would ask for a token it did not mean to, or store one in clear.
import { ConfigurationError } from '../errors.js';

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

/** The known key nearest to `key` (case, `-` and `_` ignored), when one is close. */
function closest(key: string, known: readonly string[]): string | undefined {
  const plain = key.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(plain, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Throws a {@link ConfigurationError} naming the first key of `value` that is not in `known`
 * (as `prefix` + key), with the nearest known key as the fix when one is close. For adapters and
 * stores, so every options object in Portvakt refuses typos the same way.
 *
 * @example
 * ```ts
 * import { refuseUnknownOptions } from '@portvakt/core';
 * refuseUnknownOptions({ scopes: 'x' }, ['client', 'scope'], ''); // Invalid option "scopes": ... did you mean "scope"?
 * ```
 */
export function refuseUnknownOptions(value: object, known: readonly string[] | ReadonlySet<string>, prefix: string): void {
  const list = Array.isArray(known) ? (known as readonly string[]) : [...known];
  for (const key in value) {
    if (!Object.hasOwn(value, key) || list.includes(key)) continue;
    const suggestion = closest(key, list);
    const fix = suggestion === undefined ? `remove it (the options here are ${list.join(', ')})` : `did you mean "${suggestion}"?`;
    throw new ConfigurationError(`${prefix}${key}`, `is not an option here: ${fix}.`);
  }
}
