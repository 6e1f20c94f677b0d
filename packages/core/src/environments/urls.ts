/**
 * The https rule for everything Portvakt sends a grant to or reads configuration from: https, or
 * plain http only on a loopback address (a local simulator in tests). Also the one issuer rule of
 * the client and the verifier: kept verbatim, but a Maskinporten issuer must be exactly the preset.
 */
import { ConfigurationError } from '../errors.js';
import { describeValue } from '../redact.js';
import { isLoopbackParsedHostname } from '../shared/index.js';
import { MASKINPORTEN_HOSTS, SKYPORTEN_HOSTS } from './presets.js';

/** Why a URL is unusable, phrased as the fix, or undefined when it is fine. */
export function problemWithEndpointUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'must be a non-empty URL string.';
  if (value.trim() !== value) return 'must not start or end with whitespace.';
  const url = URL.parse(value);
  if (url === null) return `${describeValue(value)} is not an absolute URL: include the scheme, for example "https://test.maskinporten.no/".`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `the scheme "${url.protocol}" is not allowed: use https.`;
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password.';
  if (url.hash !== '' || value.includes('#')) return 'must not contain a fragment (#...).';
  if (url.protocol === 'http:' && !isLoopbackParsedHostname(url.hostname)) {
    return `must use https (plain http is allowed only for loopback addresses): "https://${value.slice('http://'.length)}".`;
  }
  return undefined;
}

/**
 * A configured URL, or a `ConfigurationError` naming `field`. `what` completes "is required: give
 * ...", for example `the token endpoint, for example "https://test.maskinporten.no/token"`.
 */
export function requireEndpointUrl(value: unknown, field: string, what: string): string {
  if (value === undefined) throw new ConfigurationError(field, `is required: give ${what}.`);
  const problem = problemWithEndpointUrl(value);
  if (problem !== undefined) throw new ConfigurationError(field, problem);
  return value as string;
}

/**
 * A configured issuer, kept verbatim (it is the grant's `aud` and the token's `iss`), with the
 * obvious Maskinporten mistakes refused: on `maskinporten.no` and `test.maskinporten.no` it is
 * exactly `https://<host>/`, and on Skyporten's `sky.maskinporten.no` and `test.sky.maskinporten.no`
 * exactly `https://<host>`, without the slash. `consequence` says what the mistake would cause.
 */
export function requireIssuer(value: unknown, field: string, consequence: (issuer: string) => string): string {
  const issuer = requireEndpointUrl(value, field, 'the issuer, for example "https://test.maskinporten.no/"');
  const url = new URL(issuer);
  if (url.protocol === 'https:' && MASKINPORTEN_HOSTS.has(url.hostname) && url.port === '') {
    const expected = `https://${url.hostname}/`;
    // docs/maskinporten-rules.md §2.3: aud must equal the issuer exactly, trailing slash included, and the
    // token endpoint is no longer accepted as aud; section 6.1: iss is exactly the issuer.
    if (issuer !== expected) throw new ConfigurationError(field, `Maskinporten's issuer is exactly "${expected}" (with the trailing slash, no path); ${consequence(issuer)}`);
  }
  if (url.protocol === 'https:' && SKYPORTEN_HOSTS.has(url.hostname) && url.port === '') {
    const expected = `https://${url.hostname}`;
    // docs/maskinporten-rules.md §5.9: Skyporten's issuer has no trailing slash, and the grant's aud
    // is that issuer exactly: "https://test.sky.maskinporten.no/" is refused with "Invalid JWT claim aud".
    if (issuer !== expected) throw new ConfigurationError(field, `Skyporten's issuer is exactly "${expected}" (NO trailing slash, unlike Maskinporten's; no path); ${consequence(issuer)}`);
  }
  return issuer;
}
