// What a declared client's options are, as a comparable map from each option's path to a digest of
// its value. Two declarations of one client name must agree; the paths where they do not are
// named in the error (the values never are: a key is among them).
import { createHash } from 'node:crypto';

/** Path (`clientId`, `key.jwk.d`, `scope[0]`) to a digest of the value at it. */
export type OptionsFingerprint = ReadonlyMap<string, string>;

const MAX_DEPTH = 8;
const MAX_LEAVES = 2_000;

const digest = (kind: string, data: string | Uint8Array): string => `${kind}:${createHash('sha256').update(data).digest('base64url')}`;

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The fingerprint of a client's options. Data (strings, numbers, booleans, bytes, arrays and plain
 * objects, which is everything `fromEnv()` gives) is compared by value. Functions and other
 * objects (a clock, a `fetch`, a `Signer`, a `TokenStore`) are compared by kind only: each copy of
 * a module makes its own, so their identity differs between Next.js' layers of one app.
 *
 * @example
 * ```ts
 * fingerprintOptions({ clientId: 'a', scope: ['x'] }); // Map { 'clientId' => 's:...', 'scope[0]' => 's:...' }
 * ```
 */
export function fingerprintOptions(options: unknown): OptionsFingerprint {
  const out = new Map<string, string>();
  const walk = (value: unknown, path: string, depth: number): void => {
    if (out.size >= MAX_LEAVES) return;
    if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      out.set(path, `${typeof value}:${String(value)}`);
    } else if (typeof value === 'string') {
      out.set(path, digest('s', value));
    } else if (typeof value === 'function') {
      out.set(path, 'function');
    } else if (typeof value !== 'object') {
      out.set(path, typeof value);
    } else if (ArrayBuffer.isView(value)) {
      out.set(path, digest('b', new Uint8Array(value.buffer, value.byteOffset, value.byteLength)));
    } else if (value instanceof ArrayBuffer) {
      out.set(path, digest('b', new Uint8Array(value)));
    } else if (depth >= MAX_DEPTH) {
      out.set(path, 'deep');
    } else if (Array.isArray(value)) {
      out.set(path, `array:${value.length}`);
      value.forEach((item, index) => walk(item, `${path}[${index}]`, depth + 1));
    } else if (isPlainObject(value)) {
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
      out.set(path, `object:${keys.length}`);
      for (const k of keys) walk((value as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, depth + 1);
    } else {
      out.set(path, `instance:${(value as { constructor?: { name?: unknown } }).constructor?.name ?? 'unknown'}`);
    }
  };
  walk(options, '', 0);
  return out;
}

/**
 * The top-level options (and their first level below, `key.jwk`) where two fingerprints differ,
 * at most `limit` of them.
 *
 * @example
 * ```ts
 * differingOptions(fingerprintOptions({ clientId: 'a' }), fingerprintOptions({ clientId: 'b' })); // ['clientId']
 * ```
 */
export function differingOptions(a: OptionsFingerprint, b: OptionsFingerprint, limit = 5): string[] {
  const differing = new Set<string>();
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    if (path === '' || a.get(path) === b.get(path)) continue;
    differing.add(path.replace(/\[\d+\]/g, '').split('.').slice(0, 2).join('.'));
  }
  // A nested path says more than its parent, which differs only because a child does.
  const named = [...differing].filter((p) => ![...differing].some((other) => other !== p && other.startsWith(`${p}.`)));
  return named.sort().slice(0, limit);
}
