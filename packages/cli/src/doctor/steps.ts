// The doctor's checks, in the order a token request meets them. Each returns what it found and,
// when it fails, the fix. Nothing here reports a token, a grant or key material.
import type { CertificateInfo, EnvClientOptions, LoadedSigner, TokenRequest } from '@portvakt/core';
import { createMaskinportenClient, daysUntilExpiry, isPortvaktError } from '@portvakt/core';
import { CommandError } from '../errors.js';
import { failureOf } from '../failures.js';
import { loadKey, publicJwkOfInput } from '../keys/key-file.js';
import { jwkThumbprint } from '../keys/public-jwk.js';
import { serverText } from '../mask.js';

export type StepStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface StepResult {
  name: 'options' | 'key' | 'metadata' | 'clock' | 'token' | 'scopes' | 'skyporten' | 'admin' | 'key-set';
  status: StepStatus;
  summary: string;
  fix?: string;
  details?: Record<string, unknown>;
}

/** Maskinporten's environments (docs/maskinporten-rules.md §1.1). */
const PRESETS = {
  test: { issuer: 'https://test.maskinporten.no/', metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server' },
  prod: { issuer: 'https://maskinporten.no/', metadataUrl: 'https://maskinporten.no/.well-known/oauth-authorization-server' },
  // Skyporten (docs/maskinporten-rules.md §5.9): no trailing slash, an OpenID configuration.
  'skyporten-test': { issuer: 'https://test.sky.maskinporten.no', metadataUrl: 'https://test.sky.maskinporten.no/.well-known/openid-configuration' },
  'skyporten-prod': { issuer: 'https://sky.maskinporten.no', metadataUrl: 'https://sky.maskinporten.no/.well-known/openid-configuration' },
} as const;
/** Maskinporten accepts a grant whose iat is within 10 s of its clock (docs/maskinporten-rules.md §7). */
const CLOCK_LIMIT_MS = 10_000;
const CLOCK_WARN_MS = 5_000;
const CERTIFICATE_WARN_DAYS = 30;

/** Which Maskinporten the options point at, by preset, issuer or metadata URL; `custom` for anything else. */
export function targetOf(options: EnvClientOptions): 'test' | 'prod' | 'custom' {
  const environment = options.environment;
  if (environment === 'test' || environment === 'prod') return environment;
  if (typeof environment !== 'object' || environment === null) return 'custom';
  const value = environment as { issuer?: string; metadataUrl?: string };
  for (const name of ['test', 'prod'] as const) {
    if (value.issuer === PRESETS[name].issuer || value.metadataUrl === PRESETS[name].metadataUrl) return name;
  }
  return 'custom';
}

export function describeEnvironment(options: EnvClientOptions): string {
  const environment = options.environment as unknown;
  if (typeof environment === 'string') return `${environment} (preset)`;
  const value = environment as { issuer?: string; tokenEndpoint?: string; metadataUrl?: string };
  return value.metadataUrl !== undefined ? `metadata ${value.metadataUrl}` : `issuer ${value.issuer}, token endpoint ${value.tokenEndpoint}`;
}

export interface KeyCheck {
  step: StepResult;
  signer?: LoadedSigner;
}

export function checkKey(options: EnvClientOptions, source: string, nowMs: number): KeyCheck {
  let signer: LoadedSigner;
  try {
    signer = loadKey(options.key, `The key from ${source}`);
  } catch (error) {
    const failure = error instanceof CommandError ? error : failureOf(error);
    return { step: { name: 'key', status: 'fail', summary: failure.message, fix: failure.fix ?? 'check the key.' } };
  }
  const certificate = signer.certificate;
  if (certificate === undefined) {
    const thumbprint = jwkThumbprint(publicJwkOfInput(options.key, signer, signer.kid));
    return {
      signer,
      step: {
        name: 'key', status: 'ok',
        summary: `RSA key, kid "${signer.kid}", thumbprint ${thumbprint}; a registered key lives one year from its upload (MP-121 after that).`,
        details: { kind: 'key', kid: signer.kid, thumbprint, algorithm: signer.alg },
      },
    };
  }
  return { signer, step: certificateStep(certificate, signer, targetOf(options), nowMs) };
}

function certificateStep(info: CertificateInfo, signer: LoadedSigner, target: 'test' | 'prod' | 'custom', nowMs: number): StepResult {
  const daysLeft = daysUntilExpiry(info, nowMs);
  const details = {
    kind: 'certificate', kid: signer.kid, thumbprint: info.thumbprintS256, organizationNumber: info.orgno,
    ca: info.environment, issuer: info.issuer, notAfter: info.notAfter.toISOString(), daysLeft,
  };
  const what = `enterprise certificate for ${info.orgno ?? 'no organisation number'} from a ${info.environment === 'unknown' ? 'CA Portvakt does not know' : `${info.environment} CA`} (${info.issuer.split(', ').find((p) => p.startsWith('CN=')) ?? info.issuer})`;
  if (nowMs > info.notAfter.getTime()) {
    return { name: 'key', status: 'fail', summary: `The ${what} expired on ${info.notAfter.toISOString().slice(0, 10)} (${-daysLeft} days ago).`, fix: 'order a new enterprise certificate from your CA (Buypass or Commfides) and install it.', details };
  }
  if (nowMs < info.notBefore.getTime()) {
    return { name: 'key', status: 'fail', summary: `The ${what} is not valid before ${info.notBefore.toISOString()}.`, fix: 'wait until it is valid, or check the machine clock.', details };
  }
  if (info.orgno === undefined) {
    return { name: 'key', status: 'fail', summary: 'The certificate carries no organisation number: it is not an enterprise certificate.', fix: 'use your virksomhetssertifikat (its signing certificate).', details };
  }
  if (target !== 'custom' && info.environment !== 'unknown' && info.environment !== target) {
    return {
      name: 'key', status: 'fail',
      summary: `The ${what} cannot be used against ${target === 'prod' ? 'production' : 'test'} Maskinporten (MP-120).`,
      fix: target === 'prod' ? 'use your production enterprise certificate; test certificates work only against test.maskinporten.no.' : 'order a test certificate from your CA; production certificates work only against maskinporten.no.',
      details,
    };
  }
  const soon = daysLeft < CERTIFICATE_WARN_DAYS;
  return {
    name: 'key', status: soon ? 'warn' : 'ok',
    summary: `The ${what}, thumbprint ${info.thumbprintS256}, ${daysLeft} days left.`,
    ...(soon ? { fix: 'renew the certificate now: ordering one takes days.' } : {}),
    details,
  };
}

export interface Reachability {
  step: StepResult;
  /** The server's Date header and the local time in the middle of the request. */
  date?: { serverMs: number; localMs: number };
}

/** Reads the metadata (or, for explicit endpoints, reaches the token endpoint), with timings. */
export async function checkReachable(options: EnvClientOptions, timeoutMs: number, fetchImpl: typeof fetch): Promise<Reachability> {
  const environment = options.environment as unknown;
  const preset = typeof environment === 'string' ? PRESETS[environment as keyof typeof PRESETS] : undefined;
  const explicit = environment as { metadataUrl?: string; tokenEndpoint?: string };
  const metadataUrl = preset?.metadataUrl ?? explicit.metadataUrl;
  const url = metadataUrl ?? explicit.tokenEndpoint ?? '';
  const started = performance.now();
  const localStart = Date.now();
  let res: Response;
  let body = '';
  try {
    res = await fetchImpl(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    body = await res.text();
  } catch (error) {
    const reason = (error as { name?: string }).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : `the connection failed (${causeCode(error)})`;
    return {
      step: {
        name: 'metadata', status: 'fail',
        summary: `${metadataUrl !== undefined ? 'The metadata' : 'The token endpoint'} at ${url} could not be reached: ${reason}.`,
        fix: 'check the URL (MASKINPORTEN_WELL_KNOWN_URL or the environment), DNS, proxy and firewall: Maskinporten is at 139.105.36.164 (prod) and 139.105.36.132 (test).',
        details: { url },
      },
    };
  }
  const ms = Math.round(performance.now() - started);
  const serverDate = Date.parse(res.headers.get('date') ?? '');
  const date = Number.isNaN(serverDate) ? undefined : { serverMs: serverDate, localMs: localStart + ms / 2 };
  const dateOf = date === undefined ? {} : { date };
  if (metadataUrl === undefined) {
    return { ...dateOf, step: { name: 'metadata', status: 'ok', summary: `Explicit endpoints (no metadata): the token endpoint answered HTTP ${res.status} in ${ms} ms.`, details: { url, status: res.status, ms } } };
  }
  let metadata: { issuer?: unknown; token_endpoint?: unknown } | undefined;
  try {
    metadata = JSON.parse(body) as typeof metadata;
  } catch {
    metadata = undefined;
  }
  if (!res.ok || typeof metadata?.issuer !== 'string' || typeof metadata.token_endpoint !== 'string') {
    return {
      ...dateOf,
      step: { name: 'metadata', status: 'fail', summary: `The metadata at ${url} answered HTTP ${res.status} in ${ms} ms without an issuer and token endpoint.`, fix: 'check MASKINPORTEN_WELL_KNOWN_URL: it must be the .well-known/oauth-authorization-server document.', details: { url, status: res.status, ms } },
    };
  }
  return {
    ...dateOf,
    step: { name: 'metadata', status: 'ok', summary: `Metadata read in ${ms} ms: issuer ${metadata.issuer}, token endpoint ${metadata.token_endpoint}.`, details: { url, ms, issuer: metadata.issuer, tokenEndpoint: metadata.token_endpoint } },
  };
}

function causeCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}

export function checkClock(date: Reachability['date']): StepResult {
  if (date === undefined) return { name: 'clock', status: 'skipped', summary: 'The server sent no Date header; the clock could not be compared.' };
  // The Date header has whole seconds: an offset under a second says nothing.
  const offsetMs = date.serverMs - date.localMs;
  const seconds = (Math.abs(offsetMs) / 1000).toFixed(1);
  const direction = offsetMs > 0 ? 'behind' : 'ahead of';
  const details = { offsetMs: Math.round(offsetMs) };
  if (Math.abs(offsetMs) > CLOCK_LIMIT_MS) {
    return { name: 'clock', status: 'fail', summary: `This machine's clock is ${seconds} s ${direction} Maskinporten's; grants more than 10 s off are refused (MP-130).`, fix: 'synchronise the clock with NTP (e.g. `timedatectl set-ntp true`, chrony, or the host\'s time service).', details };
  }
  if (Math.abs(offsetMs) > CLOCK_WARN_MS) {
    return { name: 'clock', status: 'warn', summary: `This machine's clock is ${seconds} s ${direction} Maskinporten's (the limit is 10 s).`, fix: 'synchronise the clock with NTP.', details };
  }
  return { name: 'clock', status: 'ok', summary: `Clock offset ${offsetMs >= 0 ? '+' : '-'}${seconds} s (within the 10 s Maskinporten allows; the Date header has whole seconds).`, details };
}

export interface TokenCheck {
  step: StepResult;
  granted?: string[];
}

export async function checkToken(options: EnvClientOptions, request: TokenRequest, timeoutMs: number): Promise<TokenCheck> {
  const started = performance.now();
  let client;
  try {
    client = createMaskinportenClient({ ...options, transport: { attemptTimeout: timeoutMs, deadline: timeoutMs * 2, maxAttempts: 2 } });
  } catch (error) {
    const failure = failureOf(error);
    return { step: { name: 'token', status: 'fail', summary: failure.message, fix: failure.fix ?? 'check the options.' } };
  }
  try {
    const token = await client.getToken(request);
    const ms = Math.round(performance.now() - started);
    const granted = token.scope.split(' ').filter((s) => s !== '');
    return {
      granted,
      step: { name: 'token', status: 'ok', summary: `Maskinporten issued a token in ${ms} ms (expires in ${token.expiresIn()} s).`, details: { ms, expiresIn: token.expiresIn(), tokenType: token.tokenType } },
    };
  } catch (error) {
    const failure = failureOf(error);
    const mp = isPortvaktError(error) && error.code === 'ERR_PORTVAKT_TOKEN_REJECTED' ? { mpCode: error.mpCode, error: error.error, status: error.status, description: error.errorDescription } : {};
    // Maskinporten's words, masked like any server text before a terminal (mask.ts).
    const description = typeof mp.description === 'string' ? serverText(mp.description) : undefined;
    return { step: { name: 'token', status: 'fail', summary: failure.message + (description === undefined ? '' : ` Maskinporten said: ${description}`), fix: failure.fix ?? 'see docs/troubleshooting.md.', details: { ...mp, description } } };
  } finally {
    await client.close();
  }
}

export function checkScopes(requested: readonly string[], granted: readonly string[]): StepResult {
  const missing = requested.filter((s) => !granted.includes(s));
  const details = { requested, granted };
  if (missing.length > 0) {
    return { name: 'scopes', status: 'fail', summary: `Maskinporten did not grant ${missing.join(' ')} (granted: ${granted.join(' ') || 'nothing'}).`, fix: 'add the scope to the client in Digdir self-service, and ask the API owner to give your organisation access to it.', details };
  }
  return { name: 'scopes', status: 'ok', summary: `Granted every requested scope: ${granted.join(' ')}.`, details };
}
