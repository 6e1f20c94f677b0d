// portvakt keygen: a new RSA 2048 RS256 client key, written with mode 0600, and its public JWK set
// on stdout, ready for Digdir's self-service.
import { randomBytes } from 'node:crypto';
import { chmodSync, constants as fsConstants, copyFileSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseFlags, requireFlag, stringFlag } from '../args.js';
import type { CommandSpec } from '../args.js';
import { CommandError, UsageError } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { CommandIo, Printer } from '../io.js';
import { generateRs256Key } from '../keys/generate.js';
import type { GeneratedKey } from '../keys/generate.js';
import { help } from './shared.js';
import { shellWord } from '../command-line.js';

export const keygenSpec: CommandSpec = {
  name: 'keygen',
  summary: 'Generate an RSA 2048 RS256 key: writes the private JWK and PEM (mode 0600) and prints the public JWK set to register at Digdir.',
  flags: {
    kid: { type: 'string', value: 'KID', description: 'Key id to register (letters, digits, ".", "_", "-"); make it unique, e.g. <org>-<system>-<date>.' },
    out: { type: 'string', value: 'DIR', description: 'Directory for the key files (default: the current directory).' },
  },
  details: 'Writes <kid>.private.jwk.json and <kid>.private.pem (0600) and <kid>.public.jwks.json.\nThe private files are secrets: keep them out of version control.',
};

// Digdir allows letters, digits, '.', '_' and '-' in a kid (docs/maskinporten-rules.md §4.2).
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;

export function checkKid(kid: string, command: string): string {
  if (!KID_PATTERN.test(kid)) throw new UsageError(`--kid may hold letters, digits, ".", "_" and "-" only (Digdir's rule). See \`portvakt ${command} --help\`.`);
  return kid;
}

export interface WrittenKey {
  privateJwkPath: string;
  privatePemPath: string;
  publicJwksPath: string;
}

/**
 * Writes a generated key's files, all of them or none: it never overwrites a file, and a run that
 * stops part way (one of the names is taken, the disk is full) removes what it wrote. Each file is
 * written under a temporary name first and then linked to its own name, which fails if that name
 * exists: no check-then-write window.
 */
export function writeKeyFiles(key: GeneratedKey, dir: string): WrittenKey {
  const files: WrittenKey = {
    privateJwkPath: resolve(dir, `${key.kid}.private.jwk.json`),
    privatePemPath: resolve(dir, `${key.kid}.private.pem`),
    publicJwksPath: resolve(dir, `${key.kid}.public.jwks.json`),
  };
  const contents: [path: string, text: string, mode: number][] = [
    [files.privateJwkPath, `${JSON.stringify(key.privateJwk, null, 2)}\n`, 0o600],
    [files.privatePemPath, key.privateKeyPem, 0o600],
    [files.publicJwksPath, `${JSON.stringify({ keys: [key.publicJwk] }, null, 2)}\n`, 0o644],
  ];
  const written: string[] = [];
  let createdDir: string | undefined;
  let taken: string | undefined;
  try {
    createdDir = mkdirSync(dir, { recursive: true, mode: 0o700 });
    taken = contents.map(([path]) => path).find((path) => existsSync(path));
    if (taken !== undefined) throw Object.assign(new Error('taken'), { code: 'EEXIST' });
    for (const [path, text, mode] of contents) {
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        writeFileSync(temporary, text, { mode, flag: 'wx' });
        // The mode given at creation is reduced by the umask; set it exactly.
        chmodSync(temporary, mode);
        try {
          linkSync(temporary, path);
        } catch (linkError) {
          const linkCode = (linkError as { code?: unknown }).code;
          // File systems without hard links: a copy that still refuses an existing name.
          if (linkCode !== 'EPERM' && linkCode !== 'ENOTSUP' && linkCode !== 'ENOSYS') throw linkError;
          copyFileSync(temporary, path, fsConstants.COPYFILE_EXCL);
          chmodSync(path, mode);
        }
        written.push(path);
      } finally {
        rmSync(temporary, { force: true });
      }
    }
  } catch (error) {
    for (const path of written) rmSync(path, { force: true });
    if (createdDir !== undefined) rmSync(createdDir, { recursive: true, force: true });
    const code = (error as { code?: unknown }).code;
    if (code === 'EEXIST') {
      throw new CommandError(`A key file for kid "${key.kid}" already exists in ${resolve(dir)}${taken === undefined ? '' : ` (${basename(taken)})`}; nothing was written.`, {
        exitCode: EXIT_CODES.configuration,
        fix: 'choose another --kid or --out directory; existing keys are never overwritten.',
      });
    }
    throw new CommandError(`Cannot write the key files in ${resolve(dir)}${typeof code === 'string' ? ` (${code})` : ''}; nothing was left behind.`, { exitCode: EXIT_CODES.configuration, fix: 'check that the directory is writable and has room.' });
  }
  return files;
}

export async function keygen(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(keygenSpec, argv);
  if (flags === undefined) return help(print, keygenSpec);
  const kid = checkKid(requireFlag(flags, 'kid', 'keygen'), 'keygen');
  const dir = resolve(io.cwd, stringFlag(flags, 'out') ?? '.');
  const key = await generateRs256Key(kid);
  const files = writeKeyFiles(key, dir);
  const jwks = { keys: [key.publicJwk] };
  const next = [
    "Register the public key: paste the JWK set above into the client's keys in Digdir's self-service,",
    'or write it with `portvakt keys rotate` if the client already has a key.',
    `Then give the service the private key, as a file it follows (MASKINPORTEN_CLIENT_JWK_PATH=${shellWord(files.privateJwkPath)}) or as text (MASKINPORTEN_CLIENT_JWK="$(cat ${shellWord(files.privateJwkPath)})"),`,
    `and check it once registered: portvakt doctor --key ${shellWord(files.privateJwkPath)} (with the client's --dotenv file or variables).`,
  ];
  if (flags.json === true) {
    print.json({ kid, jwks, files, next });
    return EXIT_CODES.ok;
  }
  print.out(JSON.stringify(jwks, null, 2));
  print.note(`${print.colour.ok('✓')} RSA 2048 RS256 key "${kid}" written:`);
  print.note(`  ${files.privateJwkPath} (private, 0600)`);
  print.note(`  ${files.privatePemPath} (private, 0600)`);
  print.note(`  ${files.publicJwksPath} (public)`);
  print.note('Next:');
  for (const line of next) print.note(`  ${line}`);
  return EXIT_CODES.ok;
}
