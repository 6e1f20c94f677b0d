// Masking of secrets in text taken from outside (an error description, a response excerpt) and
// in values echoed back in option errors: every error message goes through these.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
// A PEM block with its END line; then one cut short (no END line). Only a header followed by key
// material counts as a secret: a header quoted on its own in our own words ("-----BEGIN PRIVATE
// KEY-----" in a hint) is left alone, and masking stops where the base64 stops, so the rest of a
// message survives.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const PEM_CUT = /-----BEGIN [A-Z0-9 ]+-----(?=(?:\s|\\[rn])*[A-Za-z0-9+/:-]{8})(?:[A-Za-z0-9+/=:,.-]|\s|\\[rn])*/g;
const SAFE_VALUE = /^[A-Za-z0-9 ._:/@+-]{0,40}$/;

/**
 * Masks anything that looks like a compact JWS/JWT or a PEM block in a string taken from outside
 * (an error description, a response body excerpt), so it can go into an error message safely.
 *
 * @example
 * ```ts
 * import { redactSecrets } from '@portvakt/core/internal';
 * redactSecrets('bad token eyJhbGciOiJSUzI1NiJ9.e30.sig'); // 'bad token [redacted]'
 * ```
 */
export function redactSecrets(text: string): string {
  return text.replace(PEM_BLOCK, '[redacted]').replace(PEM_CUT, '[redacted]').replace(JWT_LIKE, '[redacted]');
}

/**
 * A value as an error message may show it: short plain strings and numbers as they are, anything
 * else only by its kind and size. A secret pasted into the wrong option (a JWK in `environment`, a
 * key in `algorithm`) is then never echoed back. Internal; not exported from the package entry.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return SAFE_VALUE.test(value) && !/^eyJ/.test(value) ? JSON.stringify(value) : `a string of ${value.length} characters (not shown)`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `a bigint`;
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

