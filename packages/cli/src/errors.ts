import { EXIT_CODES } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';

/** A wrong command line: the message says what to type instead. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A failure the command reports in one line and turns into an exit code, with what to do about it.
 * Messages are built from our own words and from core's redacted errors, never from key material.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly exitCode: ExitCode;
  readonly fix: string | undefined;
  constructor(message: string, options: { exitCode?: ExitCode; fix?: string | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT_CODES.checkFailed;
    this.fix = options.fix;
  }
}
