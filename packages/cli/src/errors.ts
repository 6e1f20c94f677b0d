import { EXIT_CODES } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import { forTerminal } from './mask.js';

/**
 * A wrong command line: the message says what to type instead. Exit code 2. The message is made
 * safe for a terminal: a token pasted as a flag is not echoed.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(forTerminal(message));
  }
}

/**
 * A failure the command reports in one line and turns into an exit code, with what to do about it.
 * Messages are built from our own words, from core's redacted errors and from server texts masked
 * where they come in (mask.ts); as the last line of defence, the message and the fix are masked
 * again here: tokens, keys, terminal escapes and control characters never reach the terminal.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly exitCode: ExitCode;
  readonly fix: string | undefined;
  constructor(message: string, options: { exitCode?: ExitCode; fix?: string | undefined; cause?: unknown } = {}) {
    super(forTerminal(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT_CODES.checkFailed;
    this.fix = options.fix === undefined ? undefined : forTerminal(options.fix);
  }
}
