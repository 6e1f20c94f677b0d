// Reads a key file in any form core takes (a private JWK, a PEM key, a PEM certificate with its
// key, a PKCS#12 bundle) into a KeyInput, and derives its public JWK. Key material never goes into
// a message: errors name the file and the problem only.
import { createPrivateKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isPortvaktError, loadSigner, parsePkcs12 } from '@portvakt/core';
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

const PRIVATE_BLOCK = /-----BEGIN (?:RSA |ENCRYPTED )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA |ENCRYPTED )?PRIVATE KEY-----/;
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function unreadable(path: string, problem: string, fix: string): CommandError {
  return new CommandError(`The key file ${path} ${problem}`, { exitCode: EXIT_CODES.configuration, fix });
}

/**
 * Reads a key file. `kid` overrides the JWK's own and is required for a bare PEM key;
 * `passphrase` opens a PKCS#12 bundle or an encrypted PEM.
 *
 * @example
 * ```ts
 * const { input } = readKeyFile('keys/my-key.private.jwk.json');
 * createMaskinportenClient({ clientId, environment: 'test', key: input });
 * ```
 */
export function readKeyFile(path: string, options: { kid?: string | undefined; passphrase?: string | undefined } = {}): KeyFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw unreadable(path, `cannot be read${typeof code === 'string' ? ` (${code})` : ''}.`, 'check the path and that you may read the file.');
  }
  const text = bytes.toString('utf8');
  const { kid, passphrase } = options;
  if (text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw unreadable(path, 'is not valid JSON.', 'give a private JWK (as `portvakt keygen` writes it), a PEM key or a PKCS#12 file.');
    }
    let jwk = parsed as JsonWebKey & { keys?: unknown };
    if (Array.isArray(jwk.keys)) {
      const privateKeys = (jwk.keys as JsonWebKey[]).filter((k) => typeof k === 'object' && k !== null && 'd' in k);
      if (privateKeys.length !== 1) throw unreadable(path, `is a JWK set with ${privateKeys.length} private keys.`, 'give a file with one private JWK.');
      jwk = privateKeys[0] as JsonWebKey;
    }
    if (!('d' in jwk)) throw unreadable(path, 'holds a public JWK.', 'give the private key (the file `portvakt keygen` wrote with mode 0600).');
    return { path, form: 'jwk', input: kid === undefined ? { jwk } : { jwk, kid } };
  }
  if (text.includes('-----BEGIN')) {
    const privateKeyPem = PRIVATE_BLOCK.exec(text)?.[0];
    if (privateKeyPem === undefined) throw unreadable(path, 'has no PEM private key.', 'give the private key, not only the certificate or the public key.');
    const certificates = text.match(CERTIFICATE_BLOCK);
    if (certificates !== null) {
      const chain = { certificateChainPem: certificates.join('\n'), privateKeyPem, passphrase };
      return { path, form: 'certificate', input: kid === undefined ? chain : { ...chain, kid } };
    }
    if (kid === undefined) throw new UsageError(`A PEM key carries no kid: give --kid with the key id registered at Digdir (for ${path}).`);
    return { path, form: 'pem', input: { pem: privateKeyPem, kid, passphrase } };
  }
  if (passphrase === undefined) {
    throw new UsageError(`${path} looks like a PKCS#12 bundle: give its passphrase through an environment variable with --passphrase-env VAR.`);
  }
  const pkcs12 = new Uint8Array(bytes);
  return { path, form: 'pkcs12', input: kid === undefined ? { pkcs12, passphrase } : { pkcs12, passphrase, kid } };
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
  throw new TypeError('a signer has no exportable key');
}

/** The public JWK of a loaded key; `kid` from the key unless given. */
export function publicJwkOfInput(input: KeyInput, signer: LoadedSigner, kid: string | undefined): PublicJwk {
  const name = kid ?? signer.kid;
  if (name === undefined) throw new UsageError('This key has no kid (a certificate bundle): give --kid with the key id to register.');
  return publicJwkOf(privateKeyOf(input), name);
}
