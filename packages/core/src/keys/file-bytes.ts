// Reading a key file's bytes without trusting what sits at the path. A FIFO there would block a
// plain read (and with it the event loop) until some writer opens it, which may be never; a device
// or a huge file would be read whole, on every poll of a followed key. So the file is opened
// without blocking, checked with fstat on the descriptor that was opened (not the path, which may
// change in between), and read only when it is a regular file of a size a key can have.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { describeValue } from '../redact.js';

/**
 * The largest key file read: a private JWK is a few KiB, a PKCS#12 bundle with a long certificate
 * chain some tens of KiB. Anything bigger is not a key file.
 */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;

/** The bytes of a key file, or why there are none: what a caller turns into its own error. */
export type KeyFileBytes =
  | { ok: true; bytes: Buffer }
  | {
      ok: false;
      problem: 'missing' | 'unreadable' | 'too-large';
      /** Portvakt's own words about the file and the fix, never its content. */
      reason: string;
      /** Tells one failed state from another (the path, the error code, the kind or the size). */
      detail: string;
    };

// Not defined on Windows, where a FIFO cannot sit at a path anyway.
const O_NONBLOCK = (constants as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0;

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Reads the file at `path` if it is a regular file of at most {@link MAX_KEY_FILE_BYTES}; never
 * blocks on a FIFO and never reads more than the bound.
 *
 * @example
 * ```ts
 * const read = readKeyFileBytes('/var/run/secrets/nais.io/maskinporten/MASKINPORTEN_CLIENT_JWK');
 * if (!read.ok) console.warn(read.problem, read.reason);
 * ```
 */
export function readKeyFileBytes(path: string): KeyFileBytes {
  const shownPath = describeValue(path);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | O_NONBLOCK);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const shown = typeof code === 'string' ? ` (${code})` : '';
    return {
      ok: false,
      problem: code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable',
      reason: `cannot read the file ${shownPath}${shown}: check the path and that the process may read it.`,
      detail: `${path}${shown}`,
    };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const kind = kindOf(stats);
      return { ok: false, problem: 'unreadable', reason: `cannot read the file ${shownPath}: it is ${kind}, not a regular file. Point the path at the key file itself.`, detail: `${path} (${kind})` };
    }
    const tooLarge = (size: string): KeyFileBytes => ({
      ok: false,
      problem: 'too-large',
      reason: `the file ${shownPath} is ${size} bytes; a key file (a PKCS#12 bundle with its chain included) is far under ${MAX_KEY_FILE_BYTES} bytes. Point the path at the key file itself.`,
      detail: `${path} (${size} bytes)`,
    });
    if (stats.size > MAX_KEY_FILE_BYTES) return tooLarge(String(stats.size));
    // Read at most one byte past the bound: a file that grew after fstat is refused, not read whole.
    let buffer = Buffer.alloc(stats.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > MAX_KEY_FILE_BYTES) return tooLarge(`over ${MAX_KEY_FILE_BYTES}`);
        const grown = Buffer.alloc(Math.min(length * 2, MAX_KEY_FILE_BYTES + 1));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return { ok: true, bytes: buffer.subarray(0, length) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const shown = typeof code === 'string' ? ` (${code})` : '';
    return { ok: false, problem: 'unreadable', reason: `cannot read the file ${shownPath}${shown}: check the path and that the process may read it.`, detail: `${path}${shown}` };
  } finally {
    closeSync(fd);
  }
}
