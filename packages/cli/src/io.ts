// Where a command writes: stdout for results (a token, a key set, a report), stderr for progress
// and errors. Colour only on a terminal and never when NO_COLOR is set (https://no-color.org).
import type { Writable } from 'node:stream';
import { terminalJson } from './mask.js';

/**
 * The streams and environment a command runs with; `run()` takes it so tests and embedders can
 * give their own.
 *
 * @example
 * ```ts
 * const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
 * ```
 */
export interface CommandIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export interface Printer {
  /** A line of the result on stdout. */
  out(line?: string): void;
  /** A line of progress or explanation on stderr. */
  note(line?: string): void;
  /** Progress that rewrites one line on a terminal; nothing when stderr is not a terminal. */
  progress(line: string): void;
  /** Ends a progress line. */
  endProgress(): void;
  json(value: unknown): void;
  readonly colour: {
    ok(text: string): string;
    bad(text: string): string;
    dim(text: string): string;
    bold(text: string): string;
  };
}

function paint(enabled: boolean, open: number, close: number): (text: string) => string {
  return enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
}

export function createPrinter(io: CommandIo): Printer {
  const noColour = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const colourOut = io.stdout.isTTY === true && !noColour;
  const progressOn = io.stderr.isTTY === true;
  let progressShown = false;
  return {
    out: (line = '') => void io.stdout.write(`${line}\n`),
    note: (line = '') => void io.stderr.write(`${line}\n`),
    progress(line) {
      if (!progressOn) return;
      io.stderr.write(`\r\u001b[2K${line}`);
      progressShown = true;
    },
    endProgress() {
      if (progressShown) io.stderr.write('\r\u001b[2K');
      progressShown = false;
    },
    // A server's text can reach JSON output too (a kid, an error description): written so that no
    // character of it drives the terminal.
    json: (value) => void io.stdout.write(`${terminalJson(value)}\n`),
    colour: {
      ok: paint(colourOut, 32, 39),
      bad: paint(colourOut, 31, 39),
      dim: paint(colourOut, 2, 22),
      bold: paint(colourOut, 1, 22),
    },
  };
}
