/**
 * The structural checks of an access token, made before any key is looked up or any signature
 * checked: size, compact JWS form, header and payload as JSON objects without duplicate members,
 * the algorithm, `crit` and `kid`. Cheap, and they refuse most junk without touching the key set.
 */
import { describeValue, MAX_TOKEN_LENGTH, parseJsonObject } from '@portvakt/core/internal';
import { InvalidTokenError } from './errors.js';
import { findDuplicateMember } from './json-members.js';

/**
 * Tokens longer than this (16 KiB) are refused before any parsing. Maskinporten's tokens are a few
 * kilobytes, and a request header is kept under 8 KB (docs/maskinporten-rules.md §7). Defined once, in
 * core, for the tokens a client accepts and the tokens a verifier checks; re-exported here.
 *
 * @example
 * ```ts
 * import { MAX_TOKEN_LENGTH } from '@portvakt/verify';
 * if (token.length > MAX_TOKEN_LENGTH) return res.status(401).end(); // what verify() would say
 * ```
 */
export { MAX_TOKEN_LENGTH };

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether `segment` is the one base64url spelling of its bytes (RFC 7515 section 2: no padding, no
 * other characters; RFC 4648 section 3.5: the bits past the last byte are zero). Node's decoder
 * skips `=`, spaces and newlines and ignores those bits, so `sig==`, `s ig` and a last character one
 * higher all decode to the same signature. Each would be a token of its own to the memory of
 * verified tokens, and another full check: one issued token has exactly one accepted spelling.
 */
function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL.test(segment)) return false;
  const tail = segment.length % 4;
  if (tail === 0) return true;
  if (tail === 1) return false; // 6 bits cannot end a byte
  const last = ALPHABET.indexOf(segment[segment.length - 1] as string);
  // 2 characters carry one byte and 4 spare bits; 3 carry two bytes and 2 spare bits.
  return (last & (tail === 2 ? 0b1111 : 0b11)) === 0;
}

/** A token split and decoded, its header checked; the signature is not verified yet. */
export interface DecodedToken {
  readonly alg: string;
  readonly kid: string;
  readonly payload: Record<string, unknown>;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonSegment(segment: string, what: 'header' | 'payload'): Record<string, unknown> {
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(segment, 'base64url'));
  } catch {
    throw new InvalidTokenError('malformed', `The token's ${what} is not UTF-8.`);
  }
  const duplicate = findDuplicateMember(text);
  if (duplicate !== undefined) throw new InvalidTokenError('duplicate_member', `The token's ${what} has the member ${describeValue(duplicate)} twice.`);
  const value = parseJsonObject(text);
  if (value === undefined) throw new InvalidTokenError('malformed', `The token's ${what} is not a JSON object.`);
  return value;
}

/**
 * Splits and decodes a compact JWS and checks its header against `algorithms`. Throws
 * `InvalidTokenError` (never echoing the token) for anything that is not a signed JWT Maskinporten
 * could have made.
 *
 * @example
 * ```ts
 * import { decodeAccessToken } from './compact.js'; // internal
 * const { kid, alg, payload } = decodeAccessToken(token, new Set(['RS256']));
 * ```
 */
export function decodeAccessToken(token: string, algorithms: ReadonlySet<string>): DecodedToken {
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('too_large', `The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
  const parts = token.split('.');
  if (parts.length === 5) throw new InvalidTokenError('encrypted', 'The token is a JWE (five segments); Maskinporten access tokens are signed JWTs.');
  if (parts.length !== 3) throw new InvalidTokenError('malformed', `The token has ${parts.length} segment${parts.length === 1 ? '' : 's'}; a signed JWT has three.`);
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  if (!isCanonicalBase64url(headerPart) || !isCanonicalBase64url(payloadPart)) {
    throw new InvalidTokenError('malformed', 'The token has an empty segment, or a segment that is not unpadded base64url.');
  }
  const header = decodeJsonSegment(headerPart, 'header');
  if (header.enc !== undefined) throw new InvalidTokenError('encrypted', 'The token header has "enc": encrypted tokens are not accepted.');
  const { alg, kid } = header;
  if (typeof alg !== 'string' || !algorithms.has(alg)) {
    // docs/maskinporten-rules.md §3.3: Maskinporten signs with RSA PKCS#1 v1.5 only. `none`, HMAC (the
    // public key used as a shared secret) and every other family are refused by name.
    throw new InvalidTokenError('unsupported_algorithm', `The token's alg ${describeValue(alg)} is not accepted; expected one of ${[...algorithms].join(', ')}.`);
  }
  if (header.crit !== undefined) throw new InvalidTokenError('critical_header', 'The token header has "crit": no JWS extension is understood here, so none may be critical.');
  if (typeof kid !== 'string' || kid === '') throw new InvalidTokenError('malformed', 'The token header has no "kid": Maskinporten names the signing key in every token.');
  if (signaturePart === '') throw new InvalidTokenError('malformed', 'The token has an empty signature.');
  if (!isCanonicalBase64url(signaturePart)) throw new InvalidTokenError('malformed', 'The token signature is not unpadded base64url.');
  const payload = decodeJsonSegment(payloadPart, 'payload');
  return { alg, kid, payload };
}
