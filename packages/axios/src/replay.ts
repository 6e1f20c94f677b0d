// Whether a request can be sent a second time after a 401. The adapter sees `config.data` after
// Axios' transformRequest: objects are JSON strings by then, URLSearchParams a string. Bytes,
// Blobs and WHATWG FormData (strings and Blobs) can be read again; a stream has been consumed.

/**
 * Whether `data` (as the adapter sees it) can be sent again.
 *
 * @example
 * ```ts
 * isReplayableData('{"a":1}'); // true
 * isReplayableData(fs.createReadStream('big.bin')); // false
 * ```
 */
export function isReplayableData(data: unknown): boolean {
  if (data === undefined || data === null) return true;
  if (typeof data !== 'object') return typeof data !== 'function';
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer || data instanceof URLSearchParams) return true;
  if (data instanceof Blob || data instanceof FormData) return true;
  // Anything that streams (Node streams, the form-data package, WHATWG streams, async iterables)
  // is read once.
  if (typeof (data as { pipe?: unknown }).pipe === 'function' || typeof (data as { getReader?: unknown }).getReader === 'function') return false;
  if (Symbol.asyncIterator in data) return false;
  const prototype: unknown = Object.getPrototypeOf(data);
  return prototype === Object.prototype || prototype === null || Array.isArray(data);
}
