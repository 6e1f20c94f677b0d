// AWS's answers to AssumeRoleWithWebIdentity, turned into what they mean for a Skyporten set-up
// (docs/maskinporten-rules.md §11.4 and §11.5): the IAM OIDC provider lists the audiences (its
// ClientIDList), the role's trust policy names the subject ("<issuer host>:sub").
import { redactSecrets } from '@portvakt/core/internal';
import { SkyportenExchangeError } from '../errors.js';
import type { SkyportenToken } from '../token.js';

/** The AWS error code of an SDK error: `InvalidIdentityTokenException` is STS's `InvalidIdentityToken`. */
export function awsCodeOf(error: unknown): string | undefined {
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  const code = typeof Code === 'string' ? Code : typeof name === 'string' ? name : undefined;
  if (code === undefined) return undefined;
  return code === 'InvalidIdentityTokenException' ? 'InvalidIdentityToken' : code === 'IDPCommunicationErrorException' ? 'IDPCommunicationError' : code === 'IDPRejectedClaimException' ? 'IDPRejectedClaim' : code;
}

/** Whether STS said the web identity token had expired. */
export function saysExpired(error: unknown): boolean {
  return awsCodeOf(error) === 'ExpiredTokenException';
}

const hostOf = (issuer: string | undefined): string => (issuer === undefined ? '<issuer host>' : issuer.replace(/^https:\/\//, ''));

/**
 * The typed error for an SDK error from STS, or undefined when it is not STS's answer (a network
 * failure, an abort), which then goes to the caller as it is.
 */
export function awsExchangeError(error: unknown, token: SkyportenToken | undefined, asked: { audience: string; scope: string; roleArn: string }): SkyportenExchangeError | undefined {
  const code = awsCodeOf(error);
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (code === undefined || typeof status !== 'number') return undefined;
  const cloudMessage = redactSecrets(String((error as { message?: unknown }).message ?? ''));
  const issuer = token?.claims.iss;
  const aud = token?.claims.aud ?? asked.audience;
  const sub = token?.claims.sub ?? `<your organisation>;${asked.scope}`;
  const audience = Array.isArray(aud) ? aud.join(', ') : String(aud);
  const details = { cloud: 'aws' as const, cloudCode: code, cloudMessage, status };
  if (code === 'InvalidIdentityToken' && /audience/i.test(cloudMessage)) {
    return new SkyportenExchangeError({ ...details, problem: 'audience', fix: `the token's aud is "${audience}" (the audience you asked Skyporten for): the IAM OIDC provider for ${hostOf(issuer)} must list exactly that in its ClientIDList, or ask for the audience the provider gave you.` });
  }
  if (code === 'InvalidIdentityToken' && /OpenIDConnect provider/i.test(cloudMessage)) {
    return new SkyportenExchangeError({ ...details, problem: 'issuer', fix: `the account has no IAM OIDC provider for the token's issuer ${issuer ?? ''}: the provider creates one with Url "${issuer ?? 'https://test.sky.maskinporten.no'}", exactly (Skyporten's issuer has no trailing slash).` });
  }
  if (code === 'AccessDenied') {
    return new SkyportenExchangeError({ ...details, problem: 'subject', fix: `the trust policy of ${asked.roleArn} must allow sts:AssumeRoleWithWebIdentity from the OIDC provider ${hostOf(issuer)} on the condition "${hostOf(issuer)}:sub" = "${sub}" (your organisation and scope); check the role ARN, the organisation number and the scope.` });
  }
  if (code === 'ExpiredTokenException') {
    return new SkyportenExchangeError({ ...details, problem: 'expired', fix: "AWS saw the token expired, twice: check this machine's clock (NTP), or raise minTokenValidity." });
  }
  if (code === 'IDPCommunicationError') {
    return new SkyportenExchangeError({ ...details, problem: 'unavailable', fix: "AWS could not read Skyporten's keys: try again later; if it persists, the OIDC provider's URL or thumbprint is wrong." });
  }
  if (code === 'InvalidIdentityToken') {
    return new SkyportenExchangeError({ ...details, problem: 'issuer', fix: "AWS could not validate the token against the OIDC provider: the provider's Url must be Skyporten's issuer exactly (no trailing slash), with a current thumbprint." });
  }
  if (code === 'ValidationError' || code === 'MalformedPolicyDocument') {
    return new SkyportenExchangeError({ ...details, problem: 'identity', fix: 'check roleArn, roleSessionName and durationSeconds (at most the role\'s MaxSessionDuration).' });
  }
  return new SkyportenExchangeError({ ...details, problem: status >= 500 || code === 'Throttling' ? 'unavailable' : 'other', fix: 'see the AWS code and message; check roleArn and the role\'s trust policy.' });
}
