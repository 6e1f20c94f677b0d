/**
 * Loopback detection. Portvakt sends tokens and grants over plain http only to the local machine
 * (tests, a local simulator): everything else must be https.
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Whether a hostname names the local machine: `localhost` (not its subdomains), any address in
 * 127.0.0.0/8, or the IPv6 loopback `::1` (with or without brackets). Other spellings of these
 * addresses (`127.1`, `0x7f.0.0.1`, `[0:0:0:0:0:0:0:1]`) count too, because they are read the way
 * the WHATWG URL parser (and so `fetch`) reads them. IPv4-mapped forms such as `::ffff:127.0.0.1`
 * do not count.
 *
 * @example
 * ```ts
 * import { isLoopbackHostname } from '../shared/index.js'; // internal
 * isLoopbackHostname('127.0.0.1'); // true
 * isLoopbackHostname('[::1]'); // true
 * isLoopbackHostname('localhost'); // true
 * isLoopbackHostname('api.localhost'); // false
 * isLoopbackHostname('example.no'); // false
 * ```
 */
export function isLoopbackHostname(hostname: string): boolean {
  if (typeof hostname !== 'string' || hostname === '') return false;
  const bare = hostname.startsWith('[') ? hostname : hostname.includes(':') ? `[${hostname}]` : hostname;
  let parsed: string;
  try {
    parsed = new URL(`http://${bare}/`).hostname;
  } catch {
    return false;
  }
  return isLoopbackParsedHostname(parsed);
}

/** Same as {@link isLoopbackHostname} for a hostname already taken from a parsed `URL`. */
export function isLoopbackParsedHostname(hostname: string): boolean {
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (name === 'localhost' || name === '[::1]') return true;
  const octets = IPV4.exec(name);
  return octets !== null && octets[1] === '127';
}
