// Client options for the commands that talk to Maskinporten: fromEnv() over the process
// environment, a --dotenv file, and flags, in that order of precedence (flags win).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { fromEnv, isPortvaktError } from '@portvakt/core';
import type { EnvClientOptions, TokenRequest } from '@portvakt/core';
import { DOTENV_FLAG, listFlag, stringFlag } from './args.js';
import type { FlagSpec, ParsedFlags } from './args.js';
import { CommandError, UsageError } from './errors.js';
import { EXIT_CODES } from './exit-codes.js';
import type { CommandIo } from './io.js';
import { readKeyFile } from './keys/key-file.js';
import type { KeyForm } from './keys/key-file.js';
import { PASSPHRASE_FLAG, passphraseFrom } from './commands/shared.js';

export const CLIENT_FLAGS: Record<string, FlagSpec> = {
  [DOTENV_FLAG]: { type: 'string', value: 'FILE', description: 'Read MASKINPORTEN_* variables from this env file (over the process environment). Not --env-file: Node.js takes that name for itself.' },
  'client-id': { type: 'string', value: 'ID', description: 'The client id (else MASKINPORTEN_CLIENT_ID).' },
  environment: { type: 'string', value: 'test|prod|skyporten-test|skyporten-prod', description: 'A Maskinporten environment preset (else MASKINPORTEN_ENVIRONMENT).' },
  'well-known-url': { type: 'string', value: 'URL', description: 'The metadata URL (else MASKINPORTEN_WELL_KNOWN_URL).' },
  issuer: { type: 'string', value: 'URL', description: 'The issuer, with --token-endpoint (else MASKINPORTEN_ISSUER).' },
  'token-endpoint': { type: 'string', value: 'URL', description: 'The token endpoint, with --issuer (else MASKINPORTEN_TOKEN_ENDPOINT).' },
  key: { type: 'string', value: 'FILE', description: 'The private key file: JWK, PEM, PEM certificate with key, or PKCS#12 (else the MASKINPORTEN_* key variables).' },
  kid: { type: 'string', value: 'KID', description: 'The registered key id (needed with a PEM key).' },
  'passphrase-env': PASSPHRASE_FLAG,
  scope: { type: 'string', multiple: true, value: 'SCOPE', description: 'A scope to ask for; repeat for more (else MASKINPORTEN_SCOPES).' },
};

export const REQUEST_FLAGS: Record<string, FlagSpec> = {
  resource: { type: 'string', multiple: true, value: 'URL', description: 'Audience of the token (RFC 8707 resource); repeat for more.' },
  'consumer-org': { type: 'string', value: 'ORGNO', description: 'Act for this organisation through an Altinn delegation (consumer_org).' },
  'system-user': { type: 'string', value: 'ORGNO[:REF]', description: 'Act as the customer\'s system user (organisation number, optional external reference).' },
};

const KEY_VARIABLES = [
  'MASKINPORTEN_CLIENT_JWK', 'MASKINPORTEN_KID', 'MASKINPORTEN_PRIVATE_KEY', 'MASKINPORTEN_PRIVATE_KEY_PATH', 'MASKINPORTEN_PRIVATE_KEY_PASSPHRASE',
  'MASKINPORTEN_PKCS12_PATH', 'MASKINPORTEN_PKCS12_BASE64', 'MASKINPORTEN_PKCS12_PASSPHRASE', 'MASKINPORTEN_CERTIFICATE', 'MASKINPORTEN_CERTIFICATE_PATH',
];
const ENVIRONMENT_VARIABLES = ['MASKINPORTEN_ENVIRONMENT', 'MASKINPORTEN_WELL_KNOWN_URL', 'MASKINPORTEN_ISSUER', 'MASKINPORTEN_TOKEN_ENDPOINT'];

export interface ResolvedClientOptions {
  options: EnvClientOptions;
  /** Where the key came from, for reports: a variable or a file. */
  keySource: string;
  keyForm: KeyForm | 'variables';
  /** False when no key was given and none was needed (`options.key` is then a placeholder). */
  hasKey: boolean;
}

/** The variables of an env file, or a configuration error (exit 3) naming the flag. */
export function readEnvFile(file: string, io: CommandIo, flag: string): Record<string, string | undefined> {
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CommandError(`The env file ${file} cannot be read${typeof code === 'string' ? ` (${code})` : ''}.`, { exitCode: EXIT_CODES.configuration, fix: `check the path given to --${flag}.` });
  }
  return parseEnv(text);
}

/** The variables a command sees: the process environment, then --dotenv. */
export function environmentOf(flags: ParsedFlags, io: CommandIo, flag = DOTENV_FLAG): Record<string, string | undefined> {
  const file = stringFlag(flags, flag);
  if (file === undefined) return { ...io.env };
  return { ...io.env, ...readEnvFile(file, io, flag) };
}

/**
 * Resolves client options: fromEnv() over the merged variables, with flags taking the place of
 * the variables they name. Every failure names the variable or flag and the fix.
 */
export function resolveClientOptions(flags: ParsedFlags, io: CommandIo, resolveOptions: { withoutKey?: boolean; keyOptional?: boolean; env?: Record<string, string | undefined> } = {}): ResolvedClientOptions {
  const env = resolveOptions.env ?? environmentOf(flags, io);
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  set('MASKINPORTEN_CLIENT_ID', stringFlag(flags, 'client-id'));
  const environmentFlags = ['environment', 'well-known-url', 'issuer', 'token-endpoint'].filter((f) => stringFlag(flags, f) !== undefined);
  if (environmentFlags.length > 0) {
    // Flags define the environment on their own; a variable left over would fight them.
    for (const name of ENVIRONMENT_VARIABLES) delete env[name];
    set('MASKINPORTEN_ENVIRONMENT', stringFlag(flags, 'environment'));
    set('MASKINPORTEN_WELL_KNOWN_URL', stringFlag(flags, 'well-known-url'));
    set('MASKINPORTEN_ISSUER', stringFlag(flags, 'issuer'));
    set('MASKINPORTEN_TOKEN_ENDPOINT', stringFlag(flags, 'token-endpoint'));
  }
  const scopes = listFlag(flags, 'scope');
  if (scopes.length > 0) env.MASKINPORTEN_SCOPES = scopes.join(' ');
  const keyPath = stringFlag(flags, 'key');
  const kid = stringFlag(flags, 'kid');
  let keyFile: ReturnType<typeof readKeyFile> | undefined;
  const noKeyGiven = keyPath === undefined && !KEY_VARIABLES.some((name) => name !== 'MASKINPORTEN_KID' && !name.endsWith('PASSPHRASE') && (env[name] ?? '').trim() !== '');
  const keyless = resolveOptions.withoutKey === true || (resolveOptions.keyOptional === true && noKeyGiven);
  if (keyless) {
    // The caller brings its own key (keys rotate signs with the key it generates).
    for (const name of KEY_VARIABLES) delete env[name];
    env.MASKINPORTEN_CLIENT_JWK = '{}';
  } else if (keyPath !== undefined) {
    keyFile = readKeyFile(resolve(io.cwd, keyPath), { kid, passphrase: passphraseFrom(flags, io) });
    for (const name of KEY_VARIABLES) delete env[name];
    // fromEnv() needs some key to read; the one from the file replaces it below.
    env.MASKINPORTEN_CLIENT_JWK = '{}';
  } else if (kid !== undefined) {
    env.MASKINPORTEN_KID = kid;
  }
  let options: EnvClientOptions;
  try {
    options = fromEnv(env);
  } catch (error) {
    if (isPortvaktError(error) && error.code === 'ERR_PORTVAKT_CONFIGURATION') {
      throw new CommandError(error.message, { exitCode: EXIT_CODES.configuration, fix: `set ${error.field} (or the matching flag; see --help).` });
    }
    throw error;
  }
  if (keyFile !== undefined) options.key = keyFile.input;
  return { options, keySource: keyFile?.path ?? keyVariableOf(env), keyForm: keyFile?.form ?? 'variables', hasKey: !keyless };
}

function keyVariableOf(env: Record<string, string | undefined>): string {
  return KEY_VARIABLES.filter((name) => !name.endsWith('PASSPHRASE') && name !== 'MASKINPORTEN_KID').find((name) => (env[name] ?? '').trim() !== '') ?? 'MASKINPORTEN_CLIENT_JWK';
}

/** The token request from --scope (or the client's scopes), --resource, --consumer-org and --system-user. */
export function tokenRequestOf(flags: ParsedFlags, options: EnvClientOptions, command: string): TokenRequest {
  const request: TokenRequest = {};
  if (options.scope !== undefined) request.scope = options.scope;
  else throw new UsageError(`No scope: give --scope or set MASKINPORTEN_SCOPES. See \`portvakt ${command} --help\`.`);
  const resources = listFlag(flags, 'resource');
  if (resources.length > 0) request.resource = resources.length === 1 ? resources[0] : resources;
  const consumerOrg = stringFlag(flags, 'consumer-org');
  if (consumerOrg !== undefined) request.consumerOrg = consumerOrg;
  const systemUser = stringFlag(flags, 'system-user');
  if (systemUser !== undefined) {
    const [orgno, ...ref] = systemUser.split(':');
    request.systemUser = ref.length > 0 ? { orgno: orgno ?? '', externalRef: ref.join(':') } : { orgno: orgno ?? '' };
  }
  return request;
}
