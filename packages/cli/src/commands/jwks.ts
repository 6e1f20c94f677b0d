// portvakt jwks: the public JWK set of a private key in any form core reads.
import { resolve } from 'node:path';
import { parseFlags, requireFlag, stringFlag } from '../args.js';
import type { CommandSpec } from '../args.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { CommandIo, Printer } from '../io.js';
import { loadKey, publicJwkOfInput, readKeyFile } from '../keys/key-file.js';
import { jwkThumbprint } from '../keys/public-jwk.js';
import { checkKid } from './keygen.js';
import { help, PASSPHRASE_FLAG, passphraseFrom } from './shared.js';

export const jwksSpec: CommandSpec = {
  name: 'jwks',
  summary: 'Print the public JWK set of a private key (JWK, PEM, PEM certificate with key, or PKCS#12), ready to register at Digdir.',
  flags: {
    key: { type: 'string', value: 'FILE', description: 'The private key file.' },
    kid: { type: 'string', value: 'KID', description: 'Key id for the set (required for a PEM key; a JWK keeps its own kid).' },
    'passphrase-env': PASSPHRASE_FLAG,
  },
};

export function jwks(argv: string[], io: CommandIo, print: Printer): ExitCode {
  const flags = parseFlags(jwksSpec, argv);
  if (flags === undefined) return help(print, jwksSpec);
  const path = resolve(io.cwd, requireFlag(flags, 'key', 'jwks'));
  const kidFlag = stringFlag(flags, 'kid');
  const kid = kidFlag === undefined ? undefined : checkKid(kidFlag, 'jwks');
  const file = readKeyFile(path, { kid, passphrase: passphraseFrom(flags, io) });
  const signer = loadKey(file.input, `The key in ${path}`);
  const jwk = publicJwkOfInput(file.input, signer, kid);
  const set = { keys: [jwk] };
  if (flags.json === true) {
    print.json({ kid: jwk.kid, form: file.form, thumbprint: jwkThumbprint(jwk), jwks: set });
  } else {
    print.out(JSON.stringify(set, null, 2));
    print.note(`Public key "${jwk.kid}" (RFC 7638 thumbprint ${jwkThumbprint(jwk)}), from a ${file.form} file.`);
  }
  return EXIT_CODES.ok;
}
