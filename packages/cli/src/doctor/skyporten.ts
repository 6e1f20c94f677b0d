// portvakt doctor, Skyporten step: gets a Skyporten token for the audience the provider gave you,
// shows the `iss`, `sub` and `aud` the cloud will see, and compares them with the trust the user
// names (the IAM OIDC provider and role, the workload identity pool, the federated credential),
// explaining the error each mismatch gives in each cloud (docs/maskinporten-rules.md §5.9, §11.4
// and §11.5). It prints the token's public claims only, never the token.
import type { EnvClientOptions, TokenRequest } from '@portvakt/core';
import { createMaskinportenClient } from '@portvakt/core';
import type { FlagSpec, ParsedFlags } from '../args.js';
import { stringFlag } from '../args.js';
import { failureOf } from '../failures.js';
import type { StepResult } from './steps.js';

export const SKYPORTEN_FLAGS: Record<string, FlagSpec> = {
  'skyporten-audience': { type: 'string', value: 'AUDIENCE', description: 'Check a Skyporten set-up: the audience the provider gave you (sent as resource).' },
  'trust-issuer': { type: 'string', value: 'URL', description: 'Skyporten: the issuer the cloud trusts (IAM OIDC provider URL, pool issuer URI, federated credential issuer).' },
  'trust-subject': { type: 'string', value: 'SUB', description: 'Skyporten: the subject the trust names ("<iss host>:sub" condition, federated credential subject).' },
  'trust-audience': { type: 'string', value: 'AUDIENCE', description: 'Skyporten: the audience the trust lists (ClientIDList, allowed audiences, federated credential audience).' },
  cloud: { type: 'string', value: 'aws|google|azure', description: 'Skyporten: the cloud, to name its error for a mismatch (default: all three).' },
};

type Cloud = 'aws' | 'google' | 'azure';
type Mismatch = 'issuer' | 'subject' | 'audience';

/** What each cloud answers for each mismatch, and for a token it saw expired. */
const CLOUD_ERRORS: Readonly<Record<Cloud, Readonly<Record<Mismatch | 'expired', string>>>> = {
  aws: {
    issuer: 'AWS: InvalidIdentityToken ("No OpenIDConnect provider found in your account for ...")',
    subject: 'AWS: AccessDenied ("Not authorized to perform sts:AssumeRoleWithWebIdentity")',
    audience: 'AWS: InvalidIdentityToken ("Incorrect token audience")',
    expired: 'AWS: ExpiredTokenException',
  },
  google: {
    issuer: 'Google: invalid_grant ("The issuer in ID Token ... does not match the expected ISSUER")',
    subject: "Google: PERMISSION_DENIED at generateAccessToken (\"Permission 'iam.serviceAccounts.getAccessToken' denied\")",
    audience: 'Google: invalid_grant ("The audience in ID Token [...] does not match the expected audience")',
    expired: 'Google: invalid_grant (the ID token has expired)',
  },
  azure: {
    issuer: 'Azure: AADSTS70021 ("No matching federated identity record found for presented assertion")',
    subject: 'Azure: AADSTS70021 ("No matching federated identity record found for presented assertion")',
    audience: 'Azure: AADSTS70021 ("No matching federated identity record found for presented assertion")',
    expired: 'Azure: AADSTS700024 ("Client assertion is not within its valid time range")',
  },
};

/** Whether the user asked for the Skyporten step. */
export function skyportenRequested(flags: ParsedFlags): boolean {
  return stringFlag(flags, 'skyporten-audience') !== undefined;
}

/** The doctor's token request, with the Skyporten audience as `resource` when one is given. */
export function withSkyportenAudience(request: TokenRequest, flags: ParsedFlags): TokenRequest {
  const audience = stringFlag(flags, 'skyporten-audience');
  return audience === undefined ? request : { ...request, resource: audience };
}

function claimsOf(token: string): Record<string, unknown> | undefined {
  try {
    const claims: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const show = (value: unknown): string => (Array.isArray(value) ? value.map((v) => String(v)).join(', ') : value === undefined ? '(none)' : String(value));

/**
 * The Skyporten step: a token for the audience, its `iss`/`sub`/`aud`, and the trust compared.
 * Fails at the first mismatch with the error each cloud gives and the fix.
 */
export async function checkSkyporten(options: EnvClientOptions, request: TokenRequest, flags: ParsedFlags, timeoutMs: number): Promise<StepResult> {
  const audience = stringFlag(flags, 'skyporten-audience') as string;
  const cloudFlag = stringFlag(flags, 'cloud');
  if (cloudFlag !== undefined && cloudFlag !== 'aws' && cloudFlag !== 'google' && cloudFlag !== 'azure') {
    return { name: 'skyporten', status: 'fail', summary: `--cloud ${cloudFlag} is not a cloud Skyporten is documented for.`, fix: 'use --cloud aws, google or azure.' };
  }
  const clouds: Cloud[] = cloudFlag === undefined ? ['aws', 'google', 'azure'] : [cloudFlag];
  const scopes = [request.scope ?? []].flat().flatMap((s) => s.split(' ')).filter((s) => s !== '');
  if (scopes.length !== 1) {
    return { name: 'skyporten', status: 'fail', summary: `Skyporten's sub names exactly one scope, and ${scopes.length} were asked for (${scopes.join(' ')}).`, fix: 'give the one scope the provider gave you: --scope <scope>.' };
  }
  const client = createMaskinportenClient({ ...options, transport: { attemptTimeout: timeoutMs, deadline: timeoutMs * 2, maxAttempts: 2 } });
  let claims: Record<string, unknown> | undefined;
  let lifetime: number;
  try {
    const token = await client.getToken({ ...request, resource: audience });
    claims = claimsOf(token.accessToken);
    lifetime = token.expiresIn();
  } catch (error) {
    const failure = failureOf(error);
    return { name: 'skyporten', status: 'fail', summary: `No Skyporten token for the audience ${audience}: ${failure.message}`, fix: failure.fix ?? "check that the environment is Skyporten's (skyporten-test or skyporten-prod, issuer without a trailing slash)." };
  } finally {
    await client.close();
  }
  if (claims === undefined) {
    return { name: 'skyporten', status: 'fail', summary: 'The token is not a JWT, so no cloud can read its claims: this is not Skyporten.', fix: 'set MASKINPORTEN_ENVIRONMENT=skyporten-test or skyporten-prod (or their metadata URL).' };
  }
  const seen = { iss: claims.iss, sub: claims.sub, aud: claims.aud };
  const details: Record<string, unknown> = { ...seen, expiresIn: lifetime, clouds };
  const seenLine = `The cloud sees iss ${show(seen.iss)}, sub ${show(seen.sub)}, aud ${show(seen.aud)} (token valid ${lifetime} s).`;
  const mismatch = (what: Mismatch, summary: string, fix: string): StepResult => ({
    name: 'skyporten',
    status: 'fail',
    summary: `${seenLine} ${summary} Expect ${clouds.map((c) => CLOUD_ERRORS[c][what]).join('; ')}.`,
    fix,
    details: { ...details, mismatch: what },
  });
  if (typeof seen.sub !== 'string' || !seen.sub.includes(';')) {
    return mismatch('subject', 'The token has no "<consumer>;<scope>" sub: this issuer is not Skyporten.', "point the client at Skyporten (MASKINPORTEN_ENVIRONMENT=skyporten-test or skyporten-prod), not at Maskinporten.");
  }
  const trustIssuer = stringFlag(flags, 'trust-issuer');
  if (trustIssuer !== undefined && trustIssuer !== seen.iss) {
    const slash = typeof seen.iss === 'string' && (trustIssuer === `${seen.iss}/` || `${trustIssuer}/` === seen.iss);
    return mismatch('issuer', `The trust names the issuer ${trustIssuer}${slash ? ': it differs only in the trailing slash' : ''}.`, `set the trust's issuer to ${show(seen.iss)}, exactly${slash ? " (Skyporten's issuer has no trailing slash)" : ''}.`);
  }
  const trustSubject = stringFlag(flags, 'trust-subject');
  if (trustSubject !== undefined && trustSubject !== seen.sub) {
    return mismatch('subject', `The trust names the subject ${trustSubject}.`, `the trust must name the subject ${seen.sub} (your organisation and the scope); or ask for the scope it names.`);
  }
  const audiences = Array.isArray(seen.aud) ? seen.aud.map(String) : [String(seen.aud)];
  const trustAudience = stringFlag(flags, 'trust-audience');
  if (!audiences.includes(audience)) {
    return mismatch('audience', `Skyporten did not put the requested audience ${audience} in aud.`, 'check that the environment is Skyporten\'s and that it accepts resource.');
  }
  if (trustAudience !== undefined && !audiences.includes(trustAudience)) {
    return mismatch('audience', `The trust lists the audience ${trustAudience}.`, `ask for the audience the trust lists (--skyporten-audience ${trustAudience}), or have the provider add ${audience} to it.`);
  }
  const compared = [trustIssuer && 'issuer', trustSubject && 'subject', trustAudience && 'audience'].filter(Boolean);
  const expired = clouds.map((c) => CLOUD_ERRORS[c].expired).join('; ');
  return {
    name: 'skyporten',
    status: 'ok',
    summary: `${seenLine} ${compared.length === 0 ? 'Give --trust-issuer, --trust-subject and --trust-audience to compare them with the trust.' : `Matches the trust's ${compared.join(', ')}.`} If the cloud still refuses, ${expired} means it saw the token expired: check the clock.`,
    details,
  };
}
