/**
 * Reading the bearer token from an `Authorization` header (RFC 6750 section 2.1), the same for
 * every adapter. Only the header is read: tokens in query strings or form bodies leak into logs
 * and are not accepted.
 */
import { describeValue, MAX_TOKEN_LENGTH } from '@portvakt/core/internal';
import { InvalidTokenError, MissingTokenError } from './errors.js';

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The token of an `Authorization: Bearer <token>` header. Throws `MissingTokenError` when there is
 * no header or it uses another scheme, and `InvalidTokenError` (`malformed`, `too_large`) when the
 * credentials are not one token.
 *
 * @example
 * ```ts
 * import { readBearerToken } from '@portvakt/verify';
 * const token = readBearerToken(req.headers.authorization);
 * const claims = await verifier.verify(token);
 * ```
 */
export function readBearerToken(authorization: string | readonly string[] | undefined): string {
  if (authorization === undefined || authorization === '') throw new MissingTokenError();
  if (typeof authorization !== 'string') throw new InvalidTokenError('malformed', 'The request has more than one Authorization header.');
  const space = authorization.indexOf(' ');
  const scheme = space === -1 ? authorization : authorization.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new MissingTokenError(`The Authorization header uses the ${describeValue(scheme.slice(0, 20))} scheme; send "Authorization: Bearer <access token>".`);
  }
  const token = space === -1 ? '' : authorization.slice(space + 1).trim();
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('too_large', `The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
  if (!B64TOKEN.test(token)) throw new InvalidTokenError('malformed', 'The Authorization header does not hold one bearer token.');
  return token;
}
