// The request headers of a dispatch, in every form undici takes them: a record, a flat
// [name, value, name, value] list (strings or Buffers), or an iterable of [name, value] pairs.
import type { Dispatcher } from 'undici';

type Headers = Dispatcher.DispatchOptions['headers'];

const nameOf = (name: unknown): string => (typeof name === 'string' ? name : Buffer.isBuffer(name) ? name.toString('latin1') : String(name)).toLowerCase();

function isIterable(value: object): value is Iterable<unknown> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/** The headers as a flat [name, value, ...] list; undefined for a plain record. */
function flatList(headers: NonNullable<Headers>): unknown[] | undefined {
  if (Array.isArray(headers)) return headers as unknown[];
  if (!isIterable(headers)) return undefined;
  const flat: unknown[] = [];
  for (const pair of headers as Iterable<[unknown, unknown]>) flat.push(pair[0], pair[1]);
  return flat;
}

/**
 * Whether the caller set an `Authorization` header (any letter case).
 *
 * @example
 * ```ts
 * hasAuthorization(['Authorization', 'Basic x']); // true
 * ```
 */
export function hasAuthorization(headers: Headers): boolean {
  if (headers === null || headers === undefined) return false;
  const flat = flatList(headers);
  if (flat === undefined) return Object.keys(headers).some((name) => name.toLowerCase() === 'authorization' && (headers as Record<string, unknown>)[name] !== undefined);
  for (let i = 0; i < flat.length; i += 2) if (nameOf(flat[i]) === 'authorization') return true;
  return false;
}

/**
 * A copy of the headers with `Authorization: value` added, in the caller's form: the caller's
 * object is never changed, so a redirect or a retry built from it carries no token.
 *
 * @example
 * ```ts
 * withAuthorization({ accept: 'application/json' }, 'Bearer x'); // { accept: 'application/json', authorization: 'Bearer x' }
 * ```
 */
export function withAuthorization(headers: Headers, value: string): NonNullable<Headers> {
  if (headers === null || headers === undefined) return { authorization: value };
  const flat = flatList(headers);
  if (flat === undefined) return { ...(headers as Record<string, string | string[]>), authorization: value };
  return [...flat, 'authorization', value] as string[];
}
