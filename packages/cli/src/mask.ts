// What reaches a terminal. A server's words (an error_description, a response excerpt) may echo the
// bearer token it was sent, a key, or bytes that drive the terminal (ANSI escapes that rewrite the
// screen, a carriage return that hides a line, bidirectional overrides that reorder it): every such
// text is masked here before it is printed, and CommandError passes its message through as the
// last line of defence.
import { redactSecrets } from '@portvakt/core/internal';

// ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte escapes.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
// C0 and C1 controls, DEL, and the bidirectional and invisible formatting characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
// The private members of a JWK, as JSON: "d":"..." and the CRT values.
const JWK_PRIVATE = /"(d|p|q|dp|dq|qi|k)"\s*:\s*"[^"]*"/g;
// An opaque token or key material from a server: a long unbroken run of base64/base64url.
const OPAQUE = /[A-Za-z0-9+/_-]{40,}={0,2}/g;
const MAX_SERVER_TEXT = 300;

/** Removes terminal escapes and control characters (a newline, a tab and the like become a space). */
export function stripControls(text: string): string {
  return text.replace(ANSI, '').replace(CONTROLS, ' ');
}

/**
 * Our own message made safe for a terminal: tokens, PEM blocks and private JWK members masked,
 * `secrets` (values the command knows, such as the bearer token it sent) masked wherever they
 * appear, escapes and control characters removed. Identifiers of our own (a client id, a kid, a
 * thumbprint) are kept.
 */
export function forTerminal(text: string, secrets: readonly string[] = []): string {
  let masked = text;
  for (const secret of secrets) if (secret.length >= 8) masked = masked.split(secret).join('[redacted]');
  return stripControls(redactSecrets(masked).replace(JWK_PRIVATE, '"$1":"[redacted]"'));
}

/**
 * A text a server sent, made safe to show: as {@link forTerminal}, and also every long opaque run
 * (a token that is not a JWT, a modulus) masked, and cut to a few hundred characters.
 */
export function serverText(text: string, secrets: readonly string[] = []): string {
  const masked = forTerminal(text, secrets).replace(OPAQUE, '[redacted]').replace(/\s+/g, ' ').trim();
  return masked.length > MAX_SERVER_TEXT ? `${masked.slice(0, MAX_SERVER_TEXT)}…` : masked;
}

/** Digdir's characters for a kid: letters, digits, `.`, `_` and `-` (docs/maskinporten-rules.md §4.2). */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * A kid a server sent, as it may be shown: as it is when it is one Digdir allows, else masked as
 * server text (a kid that carries escapes, bidirectional overrides or a token is never printed).
 */
export function kidText(kid: unknown): string {
  const text = String(kid);
  // A JWT is made of Digdir's kid characters too: a kid shaped like a token is masked all the same.
  if (KID_PATTERN.test(text) && redactSecrets(text) === text) return text;
  return `[a kid Digdir does not allow: ${serverText(text).slice(0, 60) || 'empty'}]`;
}

// Characters JSON.stringify leaves as they are that still drive a terminal: C1 controls, DEL and
// the bidirectional and invisible formatting characters. They can only stand inside a string.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** JSON for a terminal: the same value, with the characters above written as `\uXXXX` escapes. */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
