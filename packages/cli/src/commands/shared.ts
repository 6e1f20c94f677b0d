// What several commands share: --help, passphrases from the environment, key flags.
import { helpText, stringFlag } from '../args.js';
import type { CommandSpec, FlagSpec, ParsedFlags } from '../args.js';
import { UsageError } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { CommandIo, Printer } from '../io.js';

export function help(print: Printer, spec: CommandSpec): ExitCode {
  print.out(helpText(spec));
  return EXIT_CODES.ok;
}

export const PASSPHRASE_FLAG: FlagSpec = {
  type: 'string',
  value: 'VAR',
  description: 'Name of an environment variable holding the passphrase of a PKCS#12 file or encrypted PEM (never the passphrase itself).',
};

/** The passphrase from the variable named by --passphrase-env; a passphrase is never a flag value, so it stays out of shell history and `ps`. */
export function passphraseFrom(flags: ParsedFlags, io: CommandIo, flag = 'passphrase-env'): string | undefined {
  const name = stringFlag(flags, flag);
  if (name === undefined) return undefined;
  const value = io.env[name];
  if (value === undefined) throw new UsageError(`--${flag} names ${JSON.stringify(name)}, but that environment variable is not set.`);
  return value;
}
