/**
 * The exit codes of the `portvakt` command (docs/cli.md lists them).
 *
 * @example
 * ```ts
 * import { EXIT_CODES } from '@portvakt/cli';
 * if (result.status === EXIT_CODES.checkFailed) console.error('doctor found a problem');
 * ```
 */
export const EXIT_CODES = Object.freeze({
  /** Done; every check passed. */
  ok: 0,
  /** A check or operation failed: a doctor step, a refused token request, a rotation that did not propagate. */
  checkFailed: 1,
  /** The command line is wrong: an unknown command or flag, a missing or malformed value. */
  usage: 2,
  /** The configuration cannot be used: a missing variable, a key that does not load, a file that cannot be read or written. */
  configuration: 3,
  /** Maskinporten or the self-service API could not be reached, or answered with a server error. */
  unavailable: 4,
});

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
