// Core's typed errors as one-line CLI failures with a fix and an exit code. Core's messages are
// already free of tokens, grants and keys (redacted), so they can be shown as they are.
import { isPortvaktError } from '@portvakt/core';
import { CommandError } from './errors.js';
import { EXIT_CODES } from './exit-codes.js';

export function failureOf(error: unknown): CommandError {
  if (error instanceof CommandError) return error;
  if (!isPortvaktError(error)) return new CommandError(`Unexpected failure: ${error instanceof Error ? error.name : typeof error}.`, { exitCode: EXIT_CODES.checkFailed, cause: error });
  switch (error.code) {
    case 'ERR_PORTVAKT_CONFIGURATION':
      return new CommandError(error.message, { exitCode: EXIT_CODES.configuration, fix: `set ${error.field} correctly (see --help and docs/configuration.md).` });
    case 'ERR_PORTVAKT_KEY':
      return new CommandError(error.message, { exitCode: EXIT_CODES.configuration, fix: 'check the key; make a new one with `portvakt keygen --kid <kid>`.' });
    case 'ERR_PORTVAKT_CERTIFICATE':
      return new CommandError(error.message, { exitCode: EXIT_CODES.configuration, fix: 'use a valid enterprise certificate for this environment.' });
    case 'ERR_PORTVAKT_TOKEN_REJECTED':
      return new CommandError(`Maskinporten refused the token request (HTTP ${error.status}, ${error.error}${error.mpCode ? `, ${error.mpCode}` : ''}).`, {
        exitCode: EXIT_CODES.checkFailed,
        fix: error.hint ?? 'see docs/troubleshooting.md for the error.',
      });
    case 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE':
    case 'ERR_PORTVAKT_TIMEOUT':
    case 'ERR_PORTVAKT_MALFORMED_RESPONSE':
      return new CommandError(error.message, { exitCode: EXIT_CODES.unavailable, fix: 'check the URL, the network path (proxy, firewall) and Digdir\'s status page.' });
    default:
      return new CommandError(error.message, { exitCode: EXIT_CODES.checkFailed });
  }
}
