// The `portvakt` command line: picks the command, runs it, and turns failures into one line on
// stderr (or a JSON object on stdout with --json) and an exit code.
import { doctor, doctorSpec } from './commands/doctor.js';
import { jwks, jwksSpec } from './commands/jwks.js';
import { keygen, keygenSpec } from './commands/keygen.js';
import { list, listSpec, prune, pruneSpec, rotate, rotateSpec } from './commands/keys.js';
import { token, tokenSpec } from './commands/token.js';
import type { CommandSpec } from './args.js';
import { CommandError, UsageError } from './errors.js';
import { EXIT_CODES } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import { createPrinter } from './io.js';
import type { CommandIo, Printer } from './io.js';

type Command = (argv: string[], io: CommandIo, print: Printer) => Promise<ExitCode> | ExitCode;

const COMMANDS: Record<string, { spec: CommandSpec; run: Command }> = {
  keygen: { spec: keygenSpec, run: keygen },
  jwks: { spec: jwksSpec, run: jwks },
  token: { spec: tokenSpec, run: token },
  doctor: { spec: doctorSpec, run: doctor },
  'keys rotate': { spec: rotateSpec, run: rotate },
  'keys prune': { spec: pruneSpec, run: prune },
  'keys list': { spec: listSpec, run: list },
};

const TITLES: Record<string, string> = {
  keygen: 'generate an RSA 2048 RS256 key and print its public JWK set',
  jwks: 'print the public JWK set of a private key (JWK, PEM, PKCS#12)',
  token: 'get an access token (for curl: --header)',
  doctor: 'check a setup step by step and name the fix',
  'keys rotate': 'add a new key through self-service and wait until Maskinporten accepts it',
  'keys prune': 'drop old keys through self-service',
  'keys list': 'show a client\'s registered keys',
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    'Usage: portvakt <command> [options]',
    '',
    'Maskinporten keys, tokens and checks from the command line.',
    '',
    'Commands:',
    ...Object.keys(COMMANDS).map((name) => `  ${name.padEnd(width)}${TITLES[name] ?? ''}`),
    '',
    'Run `portvakt <command> --help` for a command\'s options. Every command takes --json.',
    'Exit codes: 0 ok, 1 check or operation failed, 2 usage error, 3 configuration error, 4 Maskinporten or self-service unreachable.',
  ].join('\n');
}

/**
 * Runs the `portvakt` command line with the given arguments (without `node` and the script) and
 * resolves with the exit code.
 *
 * @example
 * ```ts
 * import { run } from '@portvakt/cli';
 * process.exitCode = await run(['jwks', '--key', 'key.json'], { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 * ```
 */
export async function run(argv: string[], io: CommandIo): Promise<ExitCode> {
  const print = createPrinter(io);
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    if (first === undefined) {
      print.note(overview());
      return EXIT_CODES.usage;
    }
    print.out(overview());
    return EXIT_CODES.ok;
  }
  const name = first === 'keys' ? `keys ${second ?? ''}`.trim() : first;
  const rest = first === 'keys' ? argv.slice(2) : argv.slice(1);
  const json = rest.includes('--json');
  const command = COMMANDS[name];
  try {
    if (command === undefined) {
      if (first === 'keys' && (second === undefined || second === '--help' || second === '-h')) {
        const text = 'Usage: portvakt keys <rotate|prune|list> [options]\n\n  rotate  add a new key to the client\'s key set and wait until Maskinporten accepts it\n  prune   drop old keys from the client\'s key set\n  list    show the client\'s registered keys';
        if (second === undefined) {
          print.note(text);
          return EXIT_CODES.usage;
        }
        print.out(text);
        return EXIT_CODES.ok;
      }
      throw new UsageError(`Unknown command "${name}". Run \`portvakt --help\` for the list.`);
    }
    return await command.run(rest, io, print);
  } catch (error) {
    print.endProgress();
    const failure = error instanceof UsageError
      ? { message: error.message, fix: undefined, exitCode: EXIT_CODES.usage as ExitCode }
      : error instanceof CommandError
        ? { message: error.message, fix: error.fix, exitCode: error.exitCode }
        : { message: `Unexpected failure (${error instanceof Error ? error.name : typeof error}).`, fix: 'please report it with the command you ran (leave out keys and tokens).', exitCode: EXIT_CODES.checkFailed as ExitCode };
    if (json) {
      print.json({ ok: false, error: failure });
    } else {
      print.note(`portvakt ${name}: ${print.colour.bad('error')} ${failure.message}`);
      if (failure.fix) print.note(`  fix: ${failure.fix}`);
    }
    return failure.exitCode;
  }
}
