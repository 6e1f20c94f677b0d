// portvakt keys rotate | prune: a client's key set through Digdir's self-service API
// (docs/maskinporten-rules.md §4.2): add a new key next to the old one, wait until Maskinporten accepts
// it, and later drop the old one. Every write replaces the whole set, at most 5 keys.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { createMaskinportenClient, isPortvaktError } from '@portvakt/core';
import type { EnvClientOptions, MaskinportenClient } from '@portvakt/core';
import { listFlag, numberFlag, parseFlags, stringFlag } from '../args.js';
import type { CommandSpec, FlagSpec, ParsedFlags } from '../args.js';
import { CommandError, UsageError } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { failureOf } from '../failures.js';
import type { CommandIo, Printer } from '../io.js';
import { generateRs256Key } from '../keys/generate.js';
import { CLIENT_FLAGS, environmentOf, resolveClientOptions, tokenRequestOf } from '../options.js';
import { createSelfServiceClient, MAX_CLIENT_KEYS, SELF_SERVICE_SCOPE, SELF_SERVICE_URLS } from '../self-service/client.js';
import type { RegisteredJwk, SelfServiceClient } from '../self-service/client.js';
import { targetOf } from '../doctor/steps.js';
import { checkKid, writeKeyFiles } from './keygen.js';
import { help, PASSPHRASE_FLAG } from './shared.js';

const TARGET_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  Object.entries(CLIENT_FLAGS).filter(([name]) => !['key', 'kid', 'passphrase-env'].includes(name)),
);

const ADMIN_FLAGS: Record<string, FlagSpec> = {
  'admin-env-file': { type: 'string', value: 'FILE', description: `The admin client's MASKINPORTEN_* variables (a client with ${SELF_SERVICE_SCOPE}); its environment defaults to the target's.` },
  'admin-client-id': { type: 'string', value: 'ID', description: 'The admin client id (over the admin env file).' },
  'admin-key': { type: 'string', value: 'FILE', description: 'The admin client\'s key file (over the admin env file).' },
  'admin-kid': { type: 'string', value: 'KID', description: 'The admin key\'s kid (needed with a PEM key).' },
  'admin-passphrase-env': { ...PASSPHRASE_FLAG, description: 'Variable holding the admin key\'s passphrase.' },
  'self-service': { type: 'string', value: 'test|prod|URL', description: 'The self-service API (default: PORTVAKT_SELF_SERVICE_URL, else from the environment preset).' },
  'dry-run': { type: 'boolean', description: 'Show the key set that would be written, and write nothing.' },
};

export const rotateSpec: CommandSpec = {
  name: 'keys rotate',
  summary: 'Add a new key to a client through the self-service API, keeping the old one, and wait until Maskinporten accepts the new key.',
  flags: {
    ...TARGET_FLAGS,
    ...ADMIN_FLAGS,
    kid: { type: 'string', value: 'KID', description: 'The new key\'s kid (default <client-id>-<date>-<random>).' },
    out: { type: 'string', value: 'DIR', description: 'Directory for the new key files (default: the current directory).' },
    wait: { type: 'string', value: 'SECONDS', description: 'How long to wait for propagation (default 180; Digdir: up to 2 minutes).' },
    'poll-interval': { type: 'string', value: 'SECONDS', description: 'Time between token requests while waiting (default 5).' },
  },
  details: [
    'Steps: generate a key, read the client\'s key set, write old + new (at most 5 keys), then request',
    'tokens signed with the new key until Maskinporten accepts it. The new private key is written',
    '(mode 0600) before the set is changed. Afterwards: deploy the new key (or call client.setKey()),',
    'then run `portvakt keys prune --keep <new kid>`.',
  ].join('\n'),
};

export const pruneSpec: CommandSpec = {
  name: 'keys prune',
  summary: 'Drop keys from a client\'s key set through the self-service API.',
  flags: {
    'client-id': CLIENT_FLAGS['client-id'] as FlagSpec,
    'env-file': CLIENT_FLAGS['env-file'] as FlagSpec,
    environment: CLIENT_FLAGS.environment as FlagSpec,
    ...ADMIN_FLAGS,
    keep: { type: 'string', multiple: true, value: 'KID', description: 'Keep this key and drop every other; repeat for more.' },
    remove: { type: 'string', multiple: true, value: 'KID', description: 'Drop this key; repeat for more.' },
  },
  details: 'Give --keep or --remove. The last key is never dropped.',
};

interface AdminSetup {
  selfService: SelfServiceClient;
  admin: MaskinportenClient;
  clientId: string;
}

/** The admin client (its variables from --admin-env-file and --admin-* only) and the self-service API. */
function adminSetup(flags: ParsedFlags, io: CommandIo, targetEnv: Record<string, string | undefined>, target: EnvClientOptions | undefined, command: string): AdminSetup {
  const file = stringFlag(flags, 'admin-env-file');
  let env: Record<string, string | undefined> = {};
  if (file !== undefined) {
    try {
      env = parseEnv(readFileSync(resolve(io.cwd, file), 'utf8'));
    } catch {
      throw new CommandError(`The admin env file ${file} cannot be read.`, { exitCode: EXIT_CODES.configuration, fix: 'check the path given to --admin-env-file.' });
    }
  }
  const hasEnvironment = ['MASKINPORTEN_ENVIRONMENT', 'MASKINPORTEN_WELL_KNOWN_URL', 'MASKINPORTEN_ISSUER', 'MASKINPORTEN_TOKEN_ENDPOINT'].some((n) => (env[n] ?? '') !== '');
  if (!hasEnvironment) {
    for (const name of ['MASKINPORTEN_ENVIRONMENT', 'MASKINPORTEN_WELL_KNOWN_URL', 'MASKINPORTEN_ISSUER', 'MASKINPORTEN_TOKEN_ENDPOINT']) {
      if (targetEnv[name] !== undefined) env[name] = targetEnv[name];
    }
    if (target !== undefined && typeof target.environment === 'string') env.MASKINPORTEN_ENVIRONMENT = target.environment;
  }
  const adminFlags: ParsedFlags = {};
  for (const [from, to] of [['admin-client-id', 'client-id'], ['admin-key', 'key'], ['admin-kid', 'kid'], ['admin-passphrase-env', 'passphrase-env']]) {
    const value = stringFlag(flags, from as string);
    if (value !== undefined) adminFlags[to as string] = value;
  }
  if (stringFlag(flags, 'admin-client-id') === undefined && env.MASKINPORTEN_CLIENT_ID === undefined) {
    throw new UsageError(`No admin client: give --admin-env-file or --admin-client-id with --admin-key (a client with ${SELF_SERVICE_SCOPE}). See \`portvakt ${command} --help\`.`);
  }
  let options: EnvClientOptions;
  try {
    ({ options } = resolveClientOptions(adminFlags, io, { env }));
  } catch (error) {
    if (error instanceof CommandError) throw new CommandError(`Admin client: ${error.message}`, { exitCode: error.exitCode, fix: error.fix?.replace(/^set (MASKINPORTEN_\S+)/, 'set $1 in --admin-env-file') });
    throw error;
  }
  const preset = stringFlag(flags, 'self-service') ?? nonEmpty(targetEnv.PORTVAKT_SELF_SERVICE_URL) ?? (() => {
    const env2 = target !== undefined ? targetOf(target) : targetOf(options);
    return env2 === 'custom' ? targetOf(options) : env2;
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
  if (clientId === undefined || clientId.trim() === '') throw new UsageError(`Which client? Give --client-id or set MASKINPORTEN_CLIENT_ID. See \`portvakt ${command} --help\`.`);
  return { selfService: wrapAdminErrors(createSelfServiceClient({ admin, baseUrl })), admin, clientId: clientId.trim() };
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

const kidsOf = (keys: RegisteredJwk[]) => keys.map((k) => String(k.kid));

function defaultKid(clientId: string): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${clientId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60)}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function rotate(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(rotateSpec, argv);
  if (flags === undefined) return help(print, rotateSpec);
  const dryRun = flags['dry-run'] === true;
  const waitMs = numberFlag(flags, 'wait', 180, 'keys rotate') * 1000;
  const intervalMs = numberFlag(flags, 'poll-interval', 5, 'keys rotate') * 1000;
  const targetEnv = environmentOf(flags, io);
  const { options: target } = resolveClientOptions(flags, io, { withoutKey: true, env: { ...targetEnv } });
  const request = tokenRequestOf(flags, target, 'keys rotate');
  const { selfService, admin, clientId } = adminSetup(flags, io, targetEnv, target, 'keys rotate');
  try {
    const kidFlag = stringFlag(flags, 'kid');
    const kid = kidFlag === undefined ? defaultKid(clientId) : checkKid(kidFlag, 'keys rotate');
    const before = await selfService.readKeys(clientId);
    if (kidsOf(before).includes(kid)) throw new UsageError(`The client already has a key "${kid}": choose another --kid.`);
    if (before.length >= MAX_CLIENT_KEYS) {
      throw new CommandError(`The client ${clientId} already has ${before.length} keys, the most Digdir allows.`, { fix: `drop old keys first: portvakt keys prune --client-id ${clientId} --keep <kid in use>.` });
    }
    const key = await generateRs256Key(kid);
    const next: RegisteredJwk[] = [...before, { ...key.publicJwk }];
    if (dryRun) {
      if (flags.json === true) print.json({ ok: true, dryRun: true, clientId, before: kidsOf(before), keys: next });
      else {
        print.out(JSON.stringify({ keys: next }, null, 2));
        print.note(`Dry run: this set (${kidsOf(next).join(', ')}) would be written to ${clientId}; nothing was written or saved.`);
      }
      return EXIT_CODES.ok;
    }
    // The private key is saved before the set changes, so it is never registered without a copy.
    const files = writeKeyFiles(key, resolve(io.cwd, stringFlag(flags, 'out') ?? '.'));
    print.note(`Wrote the new key "${kid}" to ${files.privateJwkPath} (0600).`);
    const written = await selfService.writeKeys(clientId, next);
    print.note(`Registered: ${clientId} now has ${kidsOf(written).join(', ')}.`);
    const propagation = await waitForKey({ ...target, key: { jwk: key.privateJwk } }, request, { waitMs, intervalMs, print, kid });
    const nextSteps = [
      `Deploy the new key: MASKINPORTEN_CLIENT_JWK="$(cat ${files.privateJwkPath})" (a running service can call client.setKey(fromEnv().key) instead of restarting).`,
      `When no instance signs with the old key any more: portvakt keys prune --client-id ${clientId} --keep ${kid}`,
    ];
    if (flags.json === true) {
      print.json({ ok: true, clientId, kid, before: kidsOf(before), keys: kidsOf(written), files, propagation, next: nextSteps });
    } else {
      print.out(`${print.colour.ok('✓')} Key "${kid}" is registered on ${clientId} and accepted by Maskinporten (after ${propagation.attempts} token request${propagation.attempts === 1 ? '' : 's'}, ${Math.round(propagation.ms / 1000)} s).`);
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

/** Requests tokens signed with the new key until Maskinporten takes it (bounded by waitMs). */
async function waitForKey(options: EnvClientOptions, request: ReturnType<typeof tokenRequestOf>, settings: { waitMs: number; intervalMs: number; print: Printer; kid: string }): Promise<{ attempts: number; ms: number }> {
  const client = createMaskinportenClient(options);
  const started = Date.now();
  let attempts = 0;
  try {
    for (;;) {
      attempts += 1;
      try {
        await client.getToken(request);
        settings.print.endProgress();
        return { attempts, ms: Date.now() - started };
      } catch (error) {
        // MP-124 (unknown kid) is what a key that has not propagated yet gets; anything else is a real failure.
        const pending = isPortvaktError(error) && error.code === 'ERR_PORTVAKT_TOKEN_REJECTED' && error.mpCode === 'MP-124';
        if (!pending) {
          settings.print.endProgress();
          const failure = failureOf(error);
          throw new CommandError(`The new key "${settings.kid}" is registered, but a token request with it failed: ${failure.message}`, { exitCode: failure.exitCode, fix: failure.fix });
        }
      }
      const elapsed = Date.now() - started;
      if (elapsed + settings.intervalMs > settings.waitMs) {
        settings.print.endProgress();
        throw new CommandError(`The new key "${settings.kid}" is registered but Maskinporten did not accept it within ${Math.round(settings.waitMs / 1000)} s (${attempts} token requests).`, {
          fix: 'Digdir says changes take up to 2 minutes: wait, then check with `portvakt doctor --key <new key file>`; do not deploy the key before it works.',
        });
      }
      settings.print.progress(`Waiting for Maskinporten to accept "${settings.kid}": ${Math.round(elapsed / 1000)} s, ${attempts} token request${attempts === 1 ? '' : 's'} so far`);
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
    if (unknown.length > 0) throw new CommandError(`The client ${clientId} has no key ${unknown.map((k) => `"${k}"`).join(', ')} (it has ${kids.join(', ')}).`, { exitCode: EXIT_CODES.usage, fix: 'check the kids with --dry-run.' });
    const next = keep.length > 0 ? before.filter((k) => keep.includes(String(k.kid))) : before.filter((k) => !remove.includes(String(k.kid)));
    if (next.length === 0) throw new UsageError('That would drop every key of the client: keep at least one.');
    const dropped = kids.filter((kid) => !kidsOf(next).includes(kid));
    if (dryRun(flags)) {
      if (flags.json === true) print.json({ ok: true, dryRun: true, clientId, before: kids, dropped, keys: next });
      else {
        print.out(JSON.stringify({ keys: next }, null, 2));
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

const dryRun = (flags: ParsedFlags) => flags['dry-run'] === true;

export const listSpec: CommandSpec = {
  name: 'keys list',
  summary: 'Show a client\'s registered keys, read through the self-service API.',
  flags: {
    'client-id': CLIENT_FLAGS['client-id'] as FlagSpec,
    'env-file': CLIENT_FLAGS['env-file'] as FlagSpec,
    environment: CLIENT_FLAGS.environment as FlagSpec,
    ...Object.fromEntries(Object.entries(ADMIN_FLAGS).filter(([name]) => name !== 'dry-run')),
  },
};

export async function list(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(listSpec, argv);
  if (flags === undefined) return help(print, listSpec);
  const targetEnv = environmentOf(flags, io);
  const preset = stringFlag(flags, 'environment') ?? targetEnv.MASKINPORTEN_ENVIRONMENT;
  const target = preset === 'test' || preset === 'prod' ? ({ environment: preset } as EnvClientOptions) : undefined;
  const { selfService, admin, clientId } = adminSetup(flags, io, targetEnv, target, 'keys list');
  try {
    const keys = await selfService.readKeys(clientId);
    if (flags.json === true) print.json({ ok: true, clientId, keys });
    else {
      print.out(`${clientId} has ${keys.length} of at most ${MAX_CLIENT_KEYS} keys:`);
      for (const key of keys) print.out(`  ${String(key.kid)}${typeof key.exp === 'number' ? ` (expires ${new Date(key.exp * 1000).toISOString().slice(0, 10)})` : ''}`);
    }
    return EXIT_CODES.ok;
  } finally {
    await admin.close();
  }
}
