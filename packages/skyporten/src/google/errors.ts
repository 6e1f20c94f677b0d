// Google Cloud's answers to a Skyporten exchange (docs/maskinporten-rules.md §11.4 and §11.5): STS
// checks the issuer and the audience against the workload identity pool provider; IAM Credentials
// checks, at generateAccessToken, that the token's principal (consumer, scope) may impersonate.
import { redactSecrets } from '@portvakt/core/internal';
import { SkyportenExchangeError } from '../errors.js';
import type { SkyportenToken } from '../token.js';

interface GoogleFailure {
  status: number;
  /** STS: `invalid_grant`; IAM: `PERMISSION_DENIED`. */
  code: string;
  message: string;
  from: 'sts' | 'iam';
}

function failureOf(error: unknown): GoogleFailure | undefined {
  const response = (error as { response?: { status?: unknown; data?: unknown } }).response;
  if (typeof response?.status !== 'number') return undefined;
  const data = response.data as { error?: unknown; error_description?: unknown } | undefined;
  if (typeof data?.error === 'string') return { status: response.status, code: data.error, message: typeof data.error_description === 'string' ? data.error_description : '', from: 'sts' };
  const inner = data?.error as { status?: unknown; message?: unknown } | undefined;
  if (typeof inner?.status === 'string') return { status: response.status, code: inner.status, message: typeof inner.message === 'string' ? inner.message : '', from: 'iam' };
  return undefined;
}

/** Whether STS said the token had expired. */
export function saysExpired(error: unknown): boolean {
  const failure = failureOf(error);
  return failure?.from === 'sts' && failure.code === 'invalid_grant' && /expired/i.test(failure.message);
}

/** The typed error for a refusal by STS or IAM Credentials; undefined for anything else. */
export function googleExchangeError(error: unknown, token: SkyportenToken | undefined, asked: { audience: string; scope: string; workloadProvider: string | undefined; serviceAccount: string | undefined }): SkyportenExchangeError | undefined {
  const failure = failureOf(error);
  if (failure === undefined) return undefined;
  const cloudMessage = redactSecrets(failure.message);
  const details = { cloud: 'google' as const, cloudCode: failure.code, cloudMessage, status: failure.status };
  const aud = token?.claims.aud ?? asked.audience;
  const audience = Array.isArray(aud) ? aud.join(', ') : String(aud);
  const sub = token?.claims.sub ?? `<your organisation>;${asked.scope}`;
  const consumer = sub.split(';')[0] ?? '';
  const provider = asked.workloadProvider ?? 'the workload identity pool provider';
  if (failure.from === 'iam') {
    if (failure.code === 'PERMISSION_DENIED') {
      return new SkyportenExchangeError({ ...details, problem: 'subject', fix: `${asked.serviceAccount ?? 'the service account'} must grant roles/iam.workloadIdentityUser to your token's principal: consumer "${consumer}" (google.subject) or "client::${consumer}::${asked.scope}" (Digdir's attribute.clientaccess); check serviceAccount, the organisation number and the scope.` });
    }
    return new SkyportenExchangeError({ ...details, problem: failure.status >= 500 ? 'unavailable' : 'identity', fix: 'check serviceAccount (the e-mail the provider gave you) and that the IAM Service Account Credentials API is enabled in its project.' });
  }
  if (/audience/i.test(cloudMessage) && failure.code === 'invalid_grant') {
    return new SkyportenExchangeError({ ...details, problem: 'audience', fix: `the token's aud is "${audience}" (the audience you asked Skyporten for): ${provider} must list exactly that in its allowed audiences, or ask for the audience the provider gave you.` });
  }
  if (/issuer/i.test(cloudMessage)) {
    return new SkyportenExchangeError({ ...details, problem: 'issuer', fix: `${provider} must have the issuer URI "${token?.claims.iss ?? 'https://sky.maskinporten.no'}", exactly: Skyporten's issuer has no trailing slash.` });
  }
  if (/expired/i.test(cloudMessage)) {
    return new SkyportenExchangeError({ ...details, problem: 'expired', fix: "Google saw the token expired, twice: check this machine's clock (NTP), or raise minTokenValidity." });
  }
  if (failure.code === 'invalid_request' && /audience/i.test(cloudMessage)) {
    return new SkyportenExchangeError({ ...details, problem: 'identity', fix: 'workloadProvider must be the provider\'s full name: //iam.googleapis.com/projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>.' });
  }
  return new SkyportenExchangeError({ ...details, problem: failure.status >= 500 ? 'unavailable' : 'other', fix: 'see Google\'s code and message; check workloadProvider and the provider\'s settings.' });
}
