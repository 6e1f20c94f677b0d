/**
 * The https rule for everything Portvakt sends a grant to or reads configuration from: https, or
 * plain http only on a loopback address (a local simulator in tests).
 */
import { describeValue } from '../redact.js';
import { isLoopbackParsedHostname } from '../shared/index.js';

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
