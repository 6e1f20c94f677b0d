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

/** A name as the edit distance compares it: lower case, without `-`, `_` or other separators. */
const plainName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The known name nearest to `name` (case and separators ignored), when one is close: the
 * "did you mean" of option and flag errors.
 *
 * @example
 * ```ts
 * import { closestName } from '@portvakt/core/internal';
 * closestName('scopes', ['scope', 'resource']); // 'scope'
 * ```
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const exact = known.find((candidate) => plainName(candidate) === plainName(name));
  return exact ?? closest(name, known);
}

function closest(key: string, known: readonly string[]): string | undefined {
  const plain = plainName(key);
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(plain.length / 4)) + 1;
  for (const candidate of known) {
    const distance = editDistance(plain, plainName(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * How one factory refuses unknown options beyond the common rule (see {@link refuseUnknownOptions}).
 *
 * @example
 * ```ts
 * const rules: UnknownOptionRules = { owner: 'createRedisTokenStore()', guess: (plain) => (/crypt/.test(plain) ? 'encryptionKey' : undefined) };
 * ```
 */
export interface UnknownOptionRules {
  /** The factory, for the message: `is not an option of createRedisTokenStore()`. */
  owner?: string | undefined;
  /** A guess for names the edit distance misses (`cipher` → `encryptionKey`), given the plain name (lower case, letters and digits only). */
  guess?: ((plain: string) => string | undefined) | undefined;
  /** A sentence added when the suggestion is this key: what goes wrong without it. */
  warnings?: Readonly<Record<string, string>> | undefined;
}

/**
 * Throws a {@link ConfigurationError} naming the first key of `value` that is not in `known`
 * (as `prefix` + key), with the nearest known key as the fix when one is close ("did you mean"),
 * else the list of options. The value is never echoed: it may be a key or a token. Every options
 * object in Portvakt refuses typos this way.
 *
 * @example
 * ```ts
 * import { refuseUnknownOptions } from '@portvakt/core/internal';
 * refuseUnknownOptions({ scopes: 'x' }, ['client', 'scope'], ''); // Invalid option "scopes": is not an option here: did you mean "scope"?
 * ```
 */
export function refuseUnknownOptions(value: object, known: readonly string[] | ReadonlySet<string>, prefix: string, rules: UnknownOptionRules = {}): void {
  const list = Array.isArray(known) ? (known as readonly string[]) : [...known];
  for (const key in value) {
    if (!Object.hasOwn(value, key) || list.includes(key)) continue;
    const plain = plainName(key);
    const suggestion = list.find((candidate) => plainName(candidate) === plain) ?? rules.guess?.(plain) ?? closest(key, list);
    const fix = suggestion === undefined ? `remove it (the options here are ${list.join(', ')})` : `did you mean "${suggestion}"?`;
    const warning = suggestion === undefined ? undefined : rules.warnings?.[suggestion];
    const where = rules.owner === undefined ? 'here' : `of ${rules.owner}`;
    throw new ConfigurationError(`${prefix}${key}`, `is not an option ${where}: ${fix}${warning === undefined ? '' : ` ${warning}`}`);
  }
}
