// Reads a key file in any form core takes (a private JWK, a PEM key, a PEM certificate with its
// key, a PKCS#12 bundle) into a KeyInput, and derives its public JWK. Key material never goes into
// a message: errors name the file and the problem only.
import { createPrivateKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { isPortvaktError, loadSigner, parsePkcs12, readKeyFile as readCoreKeyFile } from '@portvakt/core';
import type { KeyInput, LoadedSigner } from '@portvakt/core';
import { CommandError, UsageError } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import { publicJwkOf } from './public-jwk.js';
import type { PublicJwk } from './public-jwk.js';

export type KeyForm = 'jwk' | 'pem' | 'certificate' | 'pkcs12';

export interface KeyFile {
  path: string;
  form: KeyForm;
  input: KeyInput;
}

function unreadable(path: string, problem: string, fix: string): CommandError {
  return new CommandError(`The key file ${path} ${problem}`, { exitCode: EXIT_CODES.configuration, fix });
}

/**
 * Reads a key file with core's reader (the form from the content). `kid` is required for a bare
 * PEM key, and refused when it contradicts a JWK's own; `passphrase` opens a PKCS#12 bundle or an encrypted PEM.
 * Failures name the file and the flag to give, never the content.
 *
 * @example
 * ```ts
 * const { input } = readKeyFile('keys/my-key.private.jwk.json');
 * createMaskinportenClient({ clientId, environment: 'test', key: input });
 * ```
 */
export function readKeyFile(path: string, options: { kid?: string | undefined; passphrase?: string | undefined } = {}): KeyFile {
  try {
    const { form, key } = readCoreKeyFile({ file: path, ...(options.kid === undefined ? {} : { kid: options.kid }), ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }) });
    return { path, form, input: key };
  } catch (error) {
    if (!isPortvaktError(error)) throw error;
    const field = error.code === 'ERR_PORTVAKT_CONFIGURATION' ? error.field : undefined;
    if (field === 'key.kid') {
      throw new UsageError(options.kid === undefined
        ? `A PEM key carries no kid: give --kid with the key id registered at Digdir (for ${path}).`
        // A JWK is registered under its own kid: --kid may only repeat it.
        : `--kid ${options.kid} is not the kid of the JWK in ${path}, which is registered under its own: leave --kid out, or give the JWK's own kid.`);
    }
    if (field === 'key.passphrase') throw new UsageError(`${path} looks like a PKCS#12 bundle: give its passphrase through an environment variable with --passphrase-env VAR.`);
    if (field === 'key.file') {
      const code = /\((E[A-Z]+)\)/.exec(error.message)?.[1];
      throw unreadable(path, `cannot be read${code === undefined ? '' : ` (${code})`}.`, 'check the path and that you may read the file.');
    }
    const problem = error.message.replace(/^The key file /, '');
    const fix = /public JWK/.test(problem)
      ? 'give the private key (the file `portvakt keygen` wrote with mode 0600).'
      : 'give a private JWK (as `portvakt keygen` writes it), a PEM key or a PKCS#12 file.';
    throw unreadable(path, problem, fix);
  }
}

/** Loads the key with core (RSA, 2048 bits, kid rules), turning core's error into a one-line failure. */
export function loadKey(input: KeyInput, label: string): LoadedSigner {
  try {
    return loadSigner(input, { field: 'key' });
  } catch (error) {
    if (isPortvaktError(error)) throw new CommandError(`${label}: ${error.message}`, { exitCode: EXIT_CODES.configuration, fix: fixOfKeyError(error.message) });
    throw error;
  }
}

function fixOfKeyError(message: string): string {
  if (/passphrase|decrypt/i.test(message)) return 'check the passphrase (given through --passphrase-env or the _PASSPHRASE variable).';
  if (/2048|RSA/.test(message)) return 'make a new key with `portvakt keygen --kid <kid>`.';
  return 'check that the key is a private RSA key (JWK, PEM or PKCS#12); make a new one with `portvakt keygen --kid <kid>`.';
}

/** The private KeyObject behind a key input, to derive its public half. */
function privateKeyOf(input: KeyInput): KeyObject {
  if ('jwk' in input) return createPrivateKey({ key: (typeof input.jwk === 'string' ? JSON.parse(input.jwk) : input.jwk) as JsonWebKey, format: 'jwk' });
  if ('pem' in input) return createPrivateKey({ key: input.pem, ...(input.passphrase === undefined ? {} : { passphrase: input.passphrase }) });
  if ('pkcs12' in input) return parsePkcs12(input.pkcs12, input.passphrase).privateKey;
  if ('certificateChainPem' in input) return createPrivateKey({ key: input.privateKeyPem, ...(input.passphrase === undefined ? {} : { passphrase: input.passphrase }) });
  if ('file' in input) return privateKeyOf(readCoreKeyFile(input).key);
  throw new TypeError('a signer has no exportable key');
}

/** The public JWK of a loaded key; `kid` from the key unless given. */
export function publicJwkOfInput(input: KeyInput, signer: LoadedSigner, kid: string | undefined): PublicJwk {
  const name = kid ?? signer.kid;
  if (name === undefined) throw new UsageError('This key has no kid (a certificate bundle): give --kid with the key id to register.');
  return publicJwkOf(privateKeyOf(input), name);
}
