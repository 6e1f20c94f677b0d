// The doctor's self-service checks, run when an admin client is given: how the admin client signs
// (Digdir documents it with an enterprise certificate, docs/maskinporten-rules.md §4.3), and the
// client's key set read through the self-service API: the service's key in it, each key's age and
// days left (a key lives a year from when it was posted, §4.2), a warning 30 days before the end.
import type { EnvClientOptions } from '@portvakt/core';
import type { FlagSpec, ParsedFlags } from '../args.js';
import { stringFlag } from '../args.js';
import { adminSetup, ADMIN_FLAGS, describeKeys } from '../commands/keys.js';
import { CommandError, UsageError } from '../errors.js';
import type { CommandIo } from '../io.js';
import { loadKey, publicJwkOfInput } from '../keys/key-file.js';
import { describeLife, KEY_WARNING_DAYS, standingOf } from '../keys/key-set.js';
import { jwkThumbprint } from '../keys/public-jwk.js';
import { MAX_CLIENT_KEYS } from '../self-service/client.js';
import { environmentOf } from '../options.js';
import type { StepResult } from './steps.js';

/** The doctor's flags for the admin client and the self-service API. */
export const SELF_SERVICE_DOCTOR_FLAGS: Record<string, FlagSpec> = ADMIN_FLAGS;

/** The steps these checks add, in order. */
export const SELF_SERVICE_STEPS: StepResult['name'][] = ['admin', 'key-set'];

/** Whether the doctor was given an admin client (and so runs these checks). */
export function selfServiceConfigured(flags: ParsedFlags): boolean {
  return ['admin-dotenv', 'admin-env-file', 'admin-client-id'].some((name) => stringFlag(flags, name) !== undefined);
}

function failed(name: StepResult['name'], error: unknown): StepResult {
  if (error instanceof CommandError) return { name, status: 'fail', summary: error.message, fix: error.fix ?? 'check the admin client\'s options.' };
  if (error instanceof UsageError) return { name, status: 'fail', summary: error.message, fix: 'see `portvakt doctor --help`.' };
  throw error;
}

/** The admin client and the key set; stops at the first failed step, as the doctor does. */
export async function checkSelfService(flags: ParsedFlags, io: CommandIo, target: EnvClientOptions, nowMs: number): Promise<StepResult[]> {
  let setup;
  try {
    setup = adminSetup(flags, io, environmentOf(flags, io), target, 'doctor');
  } catch (error) {
    return [failed('admin', error)];
  }
  const { selfService, admin, adminOptions, clientId } = setup;
  try {
    const steps: StepResult[] = [];
    let adminSigner;
    try {
      adminSigner = loadKey(adminOptions.key, 'The admin client\'s key');
    } catch (error) {
      return [failed('admin', error)];
    }
    const certificate = adminSigner.certificate;
    steps.push(certificate === undefined
      ? {
        name: 'admin', status: 'warn',
        summary: `The admin client ${adminOptions.clientId} signs with a registered key (kid "${adminSigner.kid}"). Digdir documents the self-service API's admin client as one that authenticates with the organisation's enterprise certificate (virksomhetssertifikat), so a key-based admin client may be refused.`,
        fix: 'give the admin client the enterprise certificate (MASKINPORTEN_PKCS12_PATH with MASKINPORTEN_PKCS12_PASSPHRASE, or a certificate chain and key, in --admin-dotenv).',
        details: { clientId: adminOptions.clientId, kind: 'key', kid: adminSigner.kid },
      }
      : {
        name: 'admin', status: 'ok',
        summary: `The admin client ${adminOptions.clientId} signs with the enterprise certificate for ${certificate.orgno ?? 'an unknown organisation'}, as Digdir documents for the self-service API.`,
        details: { clientId: adminOptions.clientId, kind: 'certificate', organizationNumber: certificate.orgno },
      });

    let keys;
    try {
      keys = await selfService.readKeys(clientId);
    } catch (error) {
      return [...steps, failed('key-set', error)];
    }
    steps.push(keySetStep(keys, target, clientId, nowMs));
    return steps;
  } finally {
    await admin.close();
  }
}

function keySetStep(keys: Parameters<typeof describeKeys>[0], target: EnvClientOptions, clientId: string, nowMs: number): StepResult {
  const lives = describeKeys(keys, nowMs);
  const details: Record<string, unknown> = { clientId, keys: lives };
  const listing = lives.map((life) => `"${life.kid}" ${describeLife(life)}`).join('; ');
  const signer = loadKey(target.key, 'The service\'s key');
  if (signer.kid !== undefined && signer.certificate === undefined) {
    const standing = standingOf(keys, { kid: signer.kid, thumbprint: jwkThumbprint(publicJwkOfInput(target.key, signer, signer.kid)) });
    details.serviceKid = signer.kid;
    details.serviceKey = standing;
    if (standing !== 'present') {
      return {
        name: 'key-set', status: 'fail',
        summary: standing === 'absent'
          ? `${clientId}'s key set (${keys.length} keys${keys.length === 0 ? '' : `: ${lives.map((l) => l.kid).join(', ')}`}) does not hold "${signer.kid}", the key the service signs with.`
          : `${clientId}'s key set holds a kid "${signer.kid}" with another public key than the service's.`,
        fix: 'register the service\'s key (portvakt keys rotate, or self-service), or give the service a key that is registered.',
        details,
      };
    }
    const own = lives.find((life) => life.kid === signer.kid);
    if (own?.warning === 'expired') {
      return { name: 'key-set', status: 'fail', summary: `The service's key "${signer.kid}" has expired (MP-121). ${listing}.`, fix: 'rotate to a new key now: portvakt keys rotate.', details };
    }
  }
  const warnings = lives.filter((life) => life.warning !== undefined || life.problem !== undefined);
  const full = keys.length >= MAX_CLIENT_KEYS ? ` It holds ${MAX_CLIENT_KEYS} keys, the most Digdir allows: drop one before the next rotation.` : '';
  const summary = `${clientId} has ${keys.length} of at most ${MAX_CLIENT_KEYS} keys: ${listing || 'none'}.${full}`;
  if (warnings.length > 0) {
    return {
      name: 'key-set', status: 'warn', summary,
      fix: `rotate before a key's end (a warning comes ${KEY_WARNING_DAYS} days before), and drop keys Digdir would refuse: portvakt keys rotate, then portvakt keys prune.`,
      details,
    };
  }
  return { name: 'key-set', status: full === '' ? 'ok' : 'warn', summary, ...(full === '' ? {} : { fix: 'portvakt keys prune --keep <the kid in use>.' }), details };
}
