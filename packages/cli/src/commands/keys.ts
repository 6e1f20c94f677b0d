// portvakt keys rotate | prune | list: a client's key set through Digdir's self-service API
// (docs/maskinporten-rules.md §4.2): add a new key next to the old one, wait until Maskinporten accepts
// it, and later drop the old one. Every write replaces the whole set, so nothing is written unless
// the set read back holds the key the service signs with now (or the user says this is the
// client's first key) and the whole new set keeps Digdir's rules.
import { resolve } from 'node:path';
import { createMaskinportenClient, isPortvaktError } from '@portvakt/core';
import type { EnvClientOptions, MaskinportenClient, TokenRequest } from '@portvakt/core';
import { DOTENV_FLAG, listFlag, numberFlag, parseFlags, stringFlag } from '../args.js';
import type { CommandSpec, FlagSpec, ParsedFlags } from '../args.js';
import { commandLine, shellWord } from '../command-line.js';
import { CommandError, UsageError } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { failureOf } from '../failures.js';
import type { CommandIo, Printer } from '../io.js';
import { generateRs256Key } from '../keys/generate.js';
import { loadKey, publicJwkOfInput } from '../keys/key-file.js';
import { describeLife, keyLife, setProblems, standingOf } from '../keys/key-set.js';
import type { KeyLife } from '../keys/key-set.js';
import { jwkThumbprint } from '../keys/public-jwk.js';
import { kidText, serverText, terminalJson } from '../mask.js';
import { CLIENT_FLAGS, environmentOf, readEnvFile, resolveClientOptions, tokenRequestOf } from '../options.js';
import { createSelfServiceClient, MAX_CLIENT_KEYS, SELF_SERVICE_SCOPE, SELF_SERVICE_URLS } from '../self-service/client.js';
import type { RegisteredJwk, SelfServiceClient } from '../self-service/client.js';
import { targetOf } from '../doctor/steps.js';
import { checkKid, writeKeyFiles } from './keygen.js';
import { help, PASSPHRASE_FLAG } from './shared.js';

const TARGET_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  Object.entries(CLIENT_FLAGS).filter(([name]) => !['key', 'kid', 'passphrase-env'].includes(name)),
);

export const ADMIN_FLAGS: Record<string, FlagSpec> = {
  'admin-dotenv': { type: 'string', value: 'FILE', description: `The admin client's MASKINPORTEN_* variables (a client with ${SELF_SERVICE_SCOPE}); its environment defaults to the target's.` },
  'admin-env-file': { type: 'string', value: 'FILE', description: 'The older name of --admin-dotenv.', hidden: true },
  'admin-client-id': { type: 'string', value: 'ID', description: 'The admin client id (over the admin env file).' },
  'admin-key': { type: 'string', value: 'FILE', description: 'The admin client\'s key file (over the admin env file).' },
  'admin-kid': { type: 'string', value: 'KID', description: 'The admin key\'s kid (needed with a PEM key).' },
  'admin-passphrase-env': { ...PASSPHRASE_FLAG, description: 'Variable holding the admin key\'s passphrase.' },
  'self-service': { type: 'string', value: 'test|prod|URL', description: 'The self-service API (default: PORTVAKT_SELF_SERVICE_URL, else from the environment preset).' },
};

const DRY_RUN: FlagSpec = { type: 'boolean', description: 'Show the key set that would be written, and write nothing.' };

export const rotateSpec: CommandSpec = {
  name: 'keys rotate',
  summary: 'Add a new key to a client through the self-service API, keeping the old one, and wait until Maskinporten accepts the new key.',
  flags: {
    ...TARGET_FLAGS,
    ...ADMIN_FLAGS,
    'dry-run': DRY_RUN,
    'current-key': { type: 'string', value: 'FILE', description: 'The key the service signs with now (default: the MASKINPORTEN_* key variables of --dotenv or the environment).' },
    'current-kid': { type: 'string', value: 'KID', description: 'Its kid, with a PEM --current-key.' },
    'passphrase-env': PASSPHRASE_FLAG,
    'first-key': { type: 'boolean', description: 'The client has no key yet: write the new key even though the set read back is empty or does not hold the service\'s key.' },
    kid: { type: 'string', value: 'KID', description: 'The new key\'s kid (default <client-id>-<date>-<random>).' },
    out: { type: 'string', value: 'DIR', description: 'Directory for the new key files (default: the current directory).' },
    wait: { type: 'string', value: 'SECONDS', description: 'How long to wait for Maskinporten to accept the new key (default 180; Digdir: up to 2 minutes).' },
    'poll-interval': { type: 'string', value: 'SECONDS', description: 'Time between token requests while waiting (default 5).' },
  },
  details: [
    'Steps: read the client\'s key set and check that it holds the key the service signs with now (else',
    'nothing is written, unless --first-key), generate a key and save it (mode 0600), write old + new',
    '(at most 5 keys, RS256, 2048 bits, use "sig", unique kids), then request tokens signed with the new',
    'key until Maskinporten gives one, whatever it answers meanwhile, up to --wait. Afterwards: deploy',
    'the new key (a service that follows its key file takes it without a restart), then run',
    '`portvakt keys prune --keep <new kid>`.',
  ].join('\n'),
};

export const pruneSpec: CommandSpec = {
  name: 'keys prune',
  summary: 'Drop keys from a client through the self-service API.',
  flags: {
    'client-id': CLIENT_FLAGS['client-id'] as FlagSpec,
    [DOTENV_FLAG]: CLIENT_FLAGS[DOTENV_FLAG] as FlagSpec,
    environment: CLIENT_FLAGS.environment as FlagSpec,
    ...ADMIN_FLAGS,
    'dry-run': DRY_RUN,
    keep: { type: 'string', multiple: true, value: 'KID', description: 'Keep this key and drop every other; repeat for more.' },
    remove: { type: 'string', multiple: true, value: 'KID', description: 'Drop this key; repeat for more.' },
    'current-key': { type: 'string', value: 'FILE', description: 'The key the service signs with now, which is never dropped (default: the MASKINPORTEN_* key variables of --dotenv or the environment).' },
    'current-kid': { type: 'string', value: 'KID', description: 'Its kid, with a PEM --current-key.' },
    'passphrase-env': PASSPHRASE_FLAG,
    force: { type: 'boolean', description: 'Drop the key the service signs with now all the same (it will be locked out until it has another).' },
  },
  details: 'Give --keep or --remove. The last key is never dropped, nor the key the service signs with now (unless --force).',
};

export const listSpec: CommandSpec = {
  name: 'keys list',
  summary: 'Show a client\'s registered keys, with each key\'s age and days left, read through the self-service API.',
  flags: {
    'client-id': CLIENT_FLAGS['client-id'] as FlagSpec,
    [DOTENV_FLAG]: CLIENT_FLAGS[DOTENV_FLAG] as FlagSpec,
    environment: CLIENT_FLAGS.environment as FlagSpec,
    ...ADMIN_FLAGS,
  },
  details: 'A registered key lives a year from when it was posted; a key with under 30 days left is marked.',
};

export interface AdminSetup {
  selfService: SelfServiceClient;
  admin: MaskinportenClient;
  /** The admin client's options, for checks (doctor). */
  adminOptions: EnvClientOptions;
  clientId: string;
}

/** The admin client (its variables from --admin-dotenv and --admin-* only) and the self-service API. */
export function adminSetup(flags: ParsedFlags, io: CommandIo, targetEnv: Record<string, string | undefined>, target: EnvClientOptions | undefined, command: string): AdminSetup {
  const dotenv = stringFlag(flags, 'admin-dotenv');
  const older = stringFlag(flags, 'admin-env-file');
  if (dotenv !== undefined && older !== undefined) throw new UsageError(`Give --admin-dotenv once (--admin-env-file is its older name). See \`portvakt ${command} --help\`.`);
  const file = dotenv ?? older;
  const env: Record<string, string | undefined> = file === undefined ? {} : readEnvFile(file, io, dotenv === undefined ? 'admin-env-file' : 'admin-dotenv');
  const hasEnvironment = ['MASKINPORTEN_ENVIRONMENT', 'MASKINPORTEN_WELL_KNOWN_URL', 'MASKINPORTEN_ISSUER', 'MASKINPORTEN_TOKEN_ENDPOINT'].some((n) => (env[n] ?? '') !== '');
  if (!hasEnvironment) {
    for (const name of ['MASKINPORTEN_ENVIRONMENT', 'MASKINPORTEN_WELL_KNOWN_URL', 'MASKINPORTEN_ISSUER', 'MASKINPORTEN_TOKEN_ENDPOINT']) {
      if (targetEnv[name] !== undefined) env[name] = targetEnv[name];
    }
    if (target !== undefined && typeof target.environment === 'string') env.MASKINPORTEN_ENVIRONMENT = target.environment;
  }
  const adminFlags: ParsedFlags = {};
  for (const [from, to] of [['admin-client-id', 'client-id'], ['admin-key', 'key'], ['admin-kid', 'kid'], ['admin-passphrase-env', 'passphrase-env']] as const) {
    const value = stringFlag(flags, from);
    if (value !== undefined) adminFlags[to] = value;
  }
  if (stringFlag(flags, 'admin-client-id') === undefined && env.MASKINPORTEN_CLIENT_ID === undefined) {
    throw new UsageError(`No admin client: give --admin-dotenv or --admin-client-id with --admin-key (a client with ${SELF_SERVICE_SCOPE}). See \`portvakt ${command} --help\`.`);
  }
  let options: EnvClientOptions;
  try {
    ({ options } = resolveClientOptions(adminFlags, io, { env }));
  } catch (error) {
    if (error instanceof CommandError) throw new CommandError(`Admin client: ${error.message}`, { exitCode: error.exitCode, fix: error.fix?.replace(/^set (MASKINPORTEN_\S+)/, 'set $1 in --admin-dotenv') });
    throw error;
  }
  const preset = stringFlag(flags, 'self-service') ?? nonEmpty(targetEnv.PORTVAKT_SELF_SERVICE_URL) ?? (() => {
    const fromTarget = target !== undefined ? targetOf(target) : targetOf(options);
    return fromTarget === 'custom' ? targetOf(options) : fromTarget;
  })();
  if (preset === 'custom') throw new UsageError(`Give --self-service test, prod or the API's URL: the environment is not a preset. See \`portvakt ${command} --help\`.`);
  const baseUrl = preset === 'test' || preset === 'prod' ? SELF_SERVICE_URLS[preset] : preset;
  let admin: MaskinportenClient;
  try {
    admin = createMaskinportenClient({ ...options, scope: SELF_SERVICE_SCOPE });
  } catch (error) {
    const failure = failureOf(error);
    throw new CommandError(`Admin client: ${failure.message}`, { exitCode: failure.exitCode, fix: failure.fix });
  }
  const clientId = stringFlag(flags, 'client-id') ?? targetEnv.MASKINPORTEN_CLIENT_ID;
  if (clientId === undefined || clientId.trim() === '') {
    void admin.close();
    throw new UsageError(`Which client? Give --client-id or set MASKINPORTEN_CLIENT_ID. See \`portvakt ${command} --help\`.`);
  }
  return { selfService: wrapAdminErrors(createSelfServiceClient({ admin, baseUrl })), admin, adminOptions: options, clientId: clientId.trim() };
}

/** A failed admin token request is about the admin client, and says so. */
function wrapAdminErrors(selfService: SelfServiceClient): SelfServiceClient {
  const wrap = async <T>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      if (error instanceof CommandError) throw error;
      const failure = failureOf(error);
      throw new CommandError(`Admin client: ${failure.message}`, { exitCode: failure.exitCode, fix: failure.fix });
    }
  };
  return {
    baseUrl: selfService.baseUrl,
    readKeys: (clientId) => wrap(() => selfService.readKeys(clientId)),
    writeKeys: (clientId, keys) => wrap(() => selfService.writeKeys(clientId, keys)),
  };
}

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());

/** The kids of a set read back, for messages and output: a kid Digdir does not allow is masked. */
const kidsOf = (keys: readonly RegisteredJwk[]) => keys.map((k) => kidText(k.kid));

/** A set as it is printed: each key's kid as {@link kidsOf} shows it. */
const keysForOutput = (keys: readonly RegisteredJwk[]) => keys.map((k) => ({ ...k, kid: kidText(k.kid) }));

function defaultKid(clientId: string): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${clientId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60)}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/** The key the service signs with now: its kid and public-key thumbprint, or why there is none to check. */
type CurrentKey = { kid: string; thumbprint: string } | { kid: undefined; why: 'none' | 'certificate' };

function currentKeyOf(flags: ParsedFlags, io: CommandIo, targetEnv: Record<string, string | undefined>): { options: EnvClientOptions; current: CurrentKey } {
  // --kid names the new key here; the current one comes from --current-key/--current-kid or the variables.
  const resolveFlags: ParsedFlags = { ...flags, key: stringFlag(flags, 'current-key'), kid: stringFlag(flags, 'current-kid') };
  const { options, hasKey } = resolveClientOptions(resolveFlags, io, { keyOptional: true, env: { ...targetEnv } });
  if (!hasKey) return { options, current: { kid: undefined, why: 'none' } };
  const signer = loadKey(options.key, 'The key the service signs with');
  if (signer.kid === undefined) return { options, current: { kid: undefined, why: 'certificate' } };
  return { options, current: { kid: signer.kid, thumbprint: jwkThumbprint(publicJwkOfInput(options.key, signer, signer.kid)) } };
}

/**
 * Refuses to write unless the set read back holds the service's key: a set that is empty, or that
 * holds other keys, is what a faulty API or a misrouted proxy answers, and writing old + new over it
 * would drop the key the service signs with.
 */
function checkBefore(before: readonly RegisteredJwk[], current: CurrentKey, clientId: string, firstKey: boolean, retry: string): void {
  if (firstKey) return;
  const withFirstKey = `if ${clientId} really has no key the service signs with, run: ${retry}`;
  if (before.length === 0) {
    throw new CommandError(`The self-service API says ${clientId} has no keys. Writing the new key alone would replace whatever the client really has, and lock out the service if that answer is wrong (a faulty API, a misrouted proxy). Nothing was written.`, { fix: withFirstKey });
  }
  if (current.kid === undefined) {
    throw new UsageError(current.why === 'certificate'
      ? `The service signs with an enterprise certificate (x5c), which is not in ${clientId}'s key set (${kidsOf(before).join(', ')}): give the key it signs with as --current-key FILE, or --first-key if the new key is the first. Nothing was written.`
      : `Give the key the service signs with now (the MASKINPORTEN_* key variables in --${DOTENV_FLAG}, or --current-key FILE), so that rotate can check it is in ${clientId}'s key set before writing; or --first-key for a client without keys. Nothing was written.`);
  }
  const standing = standingOf(before, current);
  if (standing === 'absent') {
    throw new CommandError(`The key set the self-service API gave for ${clientId} (${kidsOf(before).join(', ')}) does not hold "${current.kid}", the key the service signs with. Writing over it would lock the service out. Nothing was written.`, {
      fix: `check --client-id, --self-service and the service's key (--${DOTENV_FLAG} or --current-key); ${withFirstKey}`,
    });
  }
  if (standing === 'different') {
    throw new CommandError(`The key set the self-service API gave for ${clientId} holds a kid "${current.kid}" with another public key than the one the service signs with (another client's set?). Nothing was written.`, {
      fix: `check --client-id and --self-service, and that the service's key is the one in --${DOTENV_FLAG} or --current-key.`,
    });
  }
}

export async function rotate(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(rotateSpec, argv);
  if (flags === undefined) return help(print, rotateSpec);
  const dryRun = flags['dry-run'] === true;
  const firstKey = flags['first-key'] === true;
  const waitMs = numberFlag(flags, 'wait', 180, 'keys rotate') * 1000;
  const intervalMs = numberFlag(flags, 'poll-interval', 5, 'keys rotate') * 1000;
  const targetEnv = environmentOf(flags, io);
  const { options: target, current } = currentKeyOf(flags, io, targetEnv);
  const request = tokenRequestOf(flags, target, 'keys rotate');
  const { selfService, admin, clientId } = adminSetup(flags, io, targetEnv, target, 'keys rotate');
  try {
    const kidFlag = stringFlag(flags, 'kid');
    const kid = kidFlag === undefined ? defaultKid(clientId) : checkKid(kidFlag, 'keys rotate');
    const before = await selfService.readKeys(clientId);
    if (kidsOf(before).includes(kid)) throw new UsageError(`The client already has a key "${kid}": choose another --kid.`);
    if (before.length >= MAX_CLIENT_KEYS) {
      const keep = current.kid === undefined ? '<kid in use>' : current.kid;
      throw new CommandError(`The client ${clientId} already has ${before.length} keys, the most Digdir allows.`, { fix: `drop old keys first: ${commandLine(pruneSpec, flags, [['keep', keep], ['dry-run']])}` });
    }
    checkBefore(before, current, clientId, firstKey, commandLine(rotateSpec, flags, [['first-key']]));
    const kept = setProblems(before);
    if (kept.length > 0) {
      throw new CommandError(`${clientId}'s key set breaks Digdir's rules, so writing it back would be refused: ${kept.join('; ')}. Nothing was written.`, {
        fix: `drop or replace those keys first: ${commandLine(pruneSpec, flags, [['remove', '<kid>'], ['dry-run']])}`,
      });
    }
    const key = await generateRs256Key(kid);
    const next: RegisteredJwk[] = [...before, { ...key.publicJwk }];
    const problems = setProblems(next);
    if (problems.length > 0) throw new CommandError(`The new key set would break Digdir's rules: ${problems.join('; ')}. Nothing was written.`);
    if (dryRun) {
      if (flags.json === true) print.json({ ok: true, dryRun: true, clientId, before: kidsOf(before), currentKid: current.kid, keys: keysForOutput(next) });
      else {
        print.out(terminalJson({ keys: keysForOutput(next) }));
        print.note(`Dry run: this set (${kidsOf(next).join(', ')}) would be written to ${clientId}${current.kid === undefined ? '' : `; it keeps "${current.kid}", the key the service signs with`}. Nothing was written or saved.`);
      }
      return EXIT_CODES.ok;
    }
    // The private key is saved before the set changes, so it is never registered without a copy.
    const files = writeKeyFiles(key, resolve(io.cwd, stringFlag(flags, 'out') ?? '.'));
    print.note(`Wrote the new key "${kid}" to ${files.privateJwkPath} (0600).`);
    const written = await selfService.writeKeys(clientId, next);
    const missing = [kid, ...(current.kid === undefined ? [] : [current.kid])].filter((k) => !kidsOf(written).includes(k));
    if (missing.length > 0) {
      throw new CommandError(`The self-service API answered the write with a set without ${missing.map((k) => `"${k}"`).join(' and ')} (it lists ${kidsOf(written).join(', ') || 'no keys'}).`, {
        fix: `read the set again before anything else: ${commandLine(listSpec, flags)}`,
      });
    }
    print.note(`Registered: ${clientId} now has ${kidsOf(written).join(', ')}.`);
    const propagation = await waitForKey({ ...target, key: { jwk: key.privateJwk } }, request, { waitMs, intervalMs, print, kid });
    const nextSteps = [
      `Deploy the new key: a service that follows its key file (MASKINPORTEN_CLIENT_JWK_PATH or another _PATH variable) takes it without a restart when the file is replaced with ${shellWord(files.privateJwkPath)}; otherwise set MASKINPORTEN_CLIENT_JWK="$(cat ${shellWord(files.privateJwkPath)})" and restart, or call client.setKey().`,
      `Check it as the service will use it: ${commandLine(doctorTarget, flags, [['key', files.privateJwkPath]])}`,
      `When no instance signs with the old key any more: ${commandLine(pruneSpec, flags, [['current-key', files.privateJwkPath], ['keep', kid]], ['current-kid', 'passphrase-env'])}`,
    ];
    if (flags.json === true) {
      print.json({ ok: true, clientId, kid, before: kidsOf(before), keys: kidsOf(written), files, propagation, next: nextSteps });
    } else {
      print.out(`${print.colour.ok('✓')} Key "${kid}" is registered on ${clientId} and accepted by Maskinporten (after ${propagation.attempts} token request${propagation.attempts === 1 ? '' : 's'}, ${Math.round(propagation.ms / 1000)} s).`);
      if (propagation.seen.length > 0) print.out(`  before that Maskinporten answered: ${describeSeen(propagation.seen)}`);
      print.out(`  key set: ${kidsOf(written).join(', ')}`);
      print.out(`  private key: ${files.privateJwkPath}`);
      print.out('Next:');
      for (const line of nextSteps) print.out(`  ${line}`);
    }
    return EXIT_CODES.ok;
  } finally {
    await admin.close();
  }
}

/** The flags of `portvakt doctor` that a "Next:" line repeats (the target client's). */
const doctorTarget: CommandSpec = { name: 'doctor', summary: '', flags: { ...TARGET_FLAGS, key: CLIENT_FLAGS.key as FlagSpec } };

interface Seen {
  answer: string;
  count: number;
}

const describeSeen = (seen: readonly Seen[]) => seen.map((s) => `${s.count}× ${s.answer}`).join(', ');

/** One refusal, in a few words: the status, the OAuth error, the MP code and Maskinporten's text, masked. */
function answerOf(error: unknown): string {
  if (isPortvaktError(error) && error.code === 'ERR_PORTVAKT_TOKEN_REJECTED') {
    const text = error.errorDescription === undefined ? '' : ` "${serverText(error.errorDescription).replace(/^MP-\d+\s*/, '').replace(/\s*\(trace_id: [^)]*\)/, '').slice(0, 80)}"`;
    return `HTTP ${error.status} ${error.error}${error.mpCode === undefined ? '' : ` ${error.mpCode}`}${text}`;
  }
  if (isPortvaktError(error)) return `${error.code === 'ERR_PORTVAKT_TIMEOUT' ? 'no answer in time' : 'no usable answer'} (${error.code})`;
  return 'an unexpected failure';
}

/** Failures that waiting cannot cure: the new key or the options themselves. */
const FATAL = new Set(['ERR_PORTVAKT_CONFIGURATION', 'ERR_PORTVAKT_KEY', 'ERR_PORTVAKT_CERTIFICATE', 'ERR_PORTVAKT_CLIENT_CLOSED']);

/**
 * Requests tokens signed with the new key until Maskinporten gives one, up to `waitMs`. Digdir does
 * not say what a key that has not reached Maskinporten yet gets (docs/maskinporten-rules.md §4.2:
 * changes take 0 to 2 minutes), so every refusal is waited out, whatever its MP code, and counted
 * for the report.
 */
async function waitForKey(options: EnvClientOptions, request: TokenRequest, settings: { waitMs: number; intervalMs: number; print: Printer; kid: string }): Promise<{ attempts: number; ms: number; seen: Seen[] }> {
  const client = createMaskinportenClient({ ...options, transport: { maxAttempts: 1 } });
  const started = Date.now();
  const seen = new Map<string, number>();
  const list = (): Seen[] => [...seen].map(([answer, count]) => ({ answer, count }));
  let attempts = 0;
  try {
    for (;;) {
      attempts += 1;
      const left = Math.max(1, settings.waitMs - (Date.now() - started));
      try {
        await client.getToken({ ...request, signal: AbortSignal.timeout(left) });
        settings.print.endProgress();
        return { attempts, ms: Date.now() - started, seen: list() };
      } catch (error) {
        if (isPortvaktError(error) && FATAL.has(error.code)) {
          settings.print.endProgress();
          const failure = failureOf(error);
          throw new CommandError(`The new key "${settings.kid}" is registered, but a token request with it cannot be made: ${failure.message}`, { exitCode: failure.exitCode, fix: failure.fix });
        }
        const answer = answerOf(error);
        seen.set(answer, (seen.get(answer) ?? 0) + 1);
      }
      const elapsed = Date.now() - started;
      if (elapsed + settings.intervalMs > settings.waitMs) {
        settings.print.endProgress();
        throw new CommandError(`The new key "${settings.kid}" is registered, but Maskinporten did not give a token for it within ${Math.round(settings.waitMs / 1000)} s (${attempts} token requests). It answered: ${describeSeen(list())}.`, {
          fix: 'Digdir says changes take up to 2 minutes: wait, then check with `portvakt doctor --key <new key file>`; do not deploy the key before it works.',
        });
      }
      settings.print.progress(`Waiting for Maskinporten to accept "${settings.kid}": ${Math.round(elapsed / 1000)} s, ${attempts} token request${attempts === 1 ? '' : 's'} so far (${describeSeen(list())})`);
      await new Promise((r) => setTimeout(r, settings.intervalMs));
    }
  } finally {
    await client.close();
  }
}

export async function prune(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(pruneSpec, argv);
  if (flags === undefined) return help(print, pruneSpec);
  const keep = listFlag(flags, 'keep');
  const remove = listFlag(flags, 'remove');
  if ((keep.length === 0) === (remove.length === 0)) throw new UsageError('Give either --keep or --remove (one or more kids). See `portvakt keys prune --help`.');
  const targetEnv = environmentOf(flags, io);
  const preset = stringFlag(flags, 'environment') ?? targetEnv.MASKINPORTEN_ENVIRONMENT;
  const target = preset === 'test' || preset === 'prod' ? ({ environment: preset } as EnvClientOptions) : undefined;
  const { selfService, admin, clientId } = adminSetup(flags, io, targetEnv, target, 'keys prune');
  try {
    const before = await selfService.readKeys(clientId);
    const kids = kidsOf(before);
    const unknown = [...keep, ...remove].filter((kid) => !kids.includes(kid));
    if (unknown.length > 0) throw new CommandError(`The client ${clientId} has no key ${unknown.map((k) => `"${k}"`).join(', ')} (it has ${kids.join(', ') || 'no keys'}).`, { exitCode: EXIT_CODES.usage, fix: `check the kids: ${commandLine(listSpec, flags)}` });
    const next = keep.length > 0 ? before.filter((k) => keep.includes(String(k.kid))) : before.filter((k) => !remove.includes(String(k.kid)));
    if (next.length === 0) throw new UsageError('That would drop every key of the client: keep at least one.');
    const problems = setProblems(next);
    if (problems.length > 0) throw new CommandError(`The key set left would break Digdir's rules, so the API would refuse it: ${problems.join('; ')}. Nothing was written.`, { fix: 'drop those keys too, or register them again with use "sig", RS256 and 2048 bits.' });
    const dropped = kids.filter((kid) => !kidsOf(next).includes(kid));
    // The key the service signs with now must be in the set read back (the same kid and public key,
    // as rotate checks: a set of another client, or from a lying API, would otherwise be written
    // over), and is never dropped: a prune copied before the service switched keys would lock it
    // out. --force overrides both.
    const { current } = currentKeyOf(flags, io, targetEnv);
    if (current.kid !== undefined && flags.force !== true) {
      const standing = standingOf(before, current);
      const force = `if you are sure, add --force (the service will be locked out until it has a registered key).`;
      if (standing !== 'present') {
        throw new CommandError(standing === 'absent'
          ? `The key set the self-service API gave for ${clientId} (${kids.join(', ') || 'no keys'}) does not hold "${current.kid}", the key the service signs with. Writing over it could lock the service out. Nothing was written.`
          : `The key set the self-service API gave for ${clientId} holds a kid "${current.kid}" with another public key than the one the service signs with (another client's set?). Nothing was written.`, {
          fix: `check --client-id, --self-service and the service's key (--${DOTENV_FLAG} or --current-key); ${force}`,
        });
      }
      if (dropped.includes(current.kid)) {
        throw new CommandError(`That would drop "${current.kid}", the key the service signs with now (from --${DOTENV_FLAG} or --current-key): the service would be locked out. Nothing was written.`, {
          exitCode: EXIT_CODES.usage,
          fix: `once the service signs with another key, give that key: ${commandLine(pruneSpec, flags, [['current-key', '<its private key file>']], ['current-kid'])}; ${force}`,
        });
      }
    }
    if (current.kid === undefined) print.note(`Not checked that the service keeps its key: give the key it signs with now (--${DOTENV_FLAG} with its MASKINPORTEN_* key variables, or --current-key FILE).`);
    if (flags['dry-run'] === true) {
      if (flags.json === true) print.json({ ok: true, dryRun: true, clientId, before: kids, dropped, keys: keysForOutput(next) });
      else {
        print.out(terminalJson({ keys: keysForOutput(next) }));
        print.note(`Dry run: ${dropped.length === 0 ? 'nothing would be dropped' : `${dropped.join(', ')} would be dropped`}; nothing was written.`);
      }
      return EXIT_CODES.ok;
    }
    const written = dropped.length === 0 ? before : await selfService.writeKeys(clientId, next);
    if (flags.json === true) print.json({ ok: true, clientId, before: kids, dropped, keys: kidsOf(written) });
    else print.out(`${print.colour.ok('✓')} ${dropped.length === 0 ? 'Nothing to drop' : `Dropped ${dropped.join(', ')}`}; ${clientId} has ${kidsOf(written).join(', ')}.`);
    return EXIT_CODES.ok;
  } finally {
    await admin.close();
  }
}

/** Each key's life, and whether the service signs with it. */
export function describeKeys(keys: readonly RegisteredJwk[], nowMs: number): (KeyLife & { algorithm: unknown; use: unknown; problem: string | undefined })[] {
  return keys.map((key) => ({ ...keyLife(key, nowMs), algorithm: key.alg, use: key.use, problem: setProblems([key])[0] }));
}

export async function list(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(listSpec, argv);
  if (flags === undefined) return help(print, listSpec);
  const targetEnv = environmentOf(flags, io);
  const preset = stringFlag(flags, 'environment') ?? targetEnv.MASKINPORTEN_ENVIRONMENT;
  const target = preset === 'test' || preset === 'prod' ? ({ environment: preset } as EnvClientOptions) : undefined;
  const { selfService, admin, clientId } = adminSetup(flags, io, targetEnv, target, 'keys list');
  try {
    const keys = await selfService.readKeys(clientId);
    const described = describeKeys(keys, Date.now());
    if (flags.json === true) print.json({ ok: true, clientId, keys: keysForOutput(keys).map((key, i) => ({ ...key, life: described[i] })) });
    else {
      print.out(`${clientId} has ${keys.length} of at most ${MAX_CLIENT_KEYS} keys:`);
      for (const life of described) {
        const mark = life.warning !== undefined || life.problem !== undefined ? print.colour.bad('!') : ' ';
        print.out(`${mark} ${life.kid}: ${describeLife(life)}${life.problem === undefined ? '' : `; ${life.problem.replace(/^the key "[^"]*" /, '')}`}`);
      }
    }
    return EXIT_CODES.ok;
  } finally {
    await admin.close();
  }
}
