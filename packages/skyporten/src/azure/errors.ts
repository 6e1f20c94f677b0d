// Entra ID's answers to a Skyporten token as a client assertion (docs/maskinporten-rules.md §11.4
// and §11.5): a federated identity credential must match the token's issuer, subject and audience
// exactly, and Entra's AADSTS codes say which rule failed.
import { redactSecrets } from '@portvakt/core/internal';
import { SkyportenExchangeError } from '../errors.js';
import type { SkyportenToken } from '../token.js';

/** Entra's AADSTS code in an error from `@azure/identity` or MSAL, e.g. `AADSTS70021`. */
export function aadstsOf(error: unknown): string | undefined {
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? /\bAADSTS\d+\b/.exec(message)?.[0] : undefined;
}

/** Whether Entra said the assertion was outside its valid time range. */
export function saysExpired(error: unknown): boolean {
  return aadstsOf(error) === 'AADSTS700024';
}

/** The typed error for an Entra refusal; undefined for anything else (network, configuration). */
export function azureExchangeError(error: unknown, token: SkyportenToken | undefined, asked: { audience: string; scope: string; tenantId: string; clientId: string }): SkyportenExchangeError | undefined {
  const code = aadstsOf(error);
  if (code === undefined) return undefined;
  const message = redactSecrets(String((error as { message?: unknown }).message ?? ''));
  // Entra's description, without the trace ids and the advice that follow it.
  const cloudMessage = (new RegExp(`${code}: ([^\\n]*?)(?: Trace ID:|$)`).exec(message)?.[1] ?? message).trim();
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  const details = { cloud: 'azure' as const, cloudCode: code, cloudMessage, status: typeof statusCode === 'number' ? statusCode : undefined };
  const aud = token?.claims.aud ?? asked.audience;
  const audience = Array.isArray(aud) ? aud.join(', ') : String(aud);
  switch (code) {
    case 'AADSTS70021':
      return new SkyportenExchangeError({
        ...details,
        problem: 'trust',
        fix: `a federated credential of the managed identity ${asked.clientId} must match the token exactly: issuer "${token?.claims.iss ?? 'https://sky.maskinporten.no'}" (Skyporten's has no trailing slash), subject "${token?.claims.sub ?? `<your organisation>;${asked.scope}`}", audience "${audience}".`,
      });
    case 'AADSTS700024':
      return new SkyportenExchangeError({ ...details, problem: 'expired', fix: "Entra saw the assertion outside its valid time range, twice: check this machine's clock (NTP), or raise minTokenValidity." });
    case 'AADSTS700016':
      return new SkyportenExchangeError({ ...details, problem: 'identity', fix: `clientId must be the managed identity's client id (not its principal or object id), in tenant ${asked.tenantId}.` });
    case 'AADSTS90002':
    case 'AADSTS900023':
      return new SkyportenExchangeError({ ...details, problem: 'identity', fix: 'tenantId must be the tenant the managed identity lives in (its GUID).' });
    default:
      return new SkyportenExchangeError({ ...details, problem: 'other', fix: 'see Entra\'s code and message; check tenantId, clientId and the federated credential.' });
  }
}
