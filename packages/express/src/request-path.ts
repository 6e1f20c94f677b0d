// Which request targets the proxy forwards. The upstream (or something in front of it) may
// normalise dot segments, percent-decode them, or read a backslash as a slash, so a path that is
// not already normalised could reach something outside the mount: only plain paths go through.

// Escapes that can turn into a dot segment or a separator once decoded: ".", "/", "\" and "%"
// (which is how the others are encoded twice).
const ENCODED_SEPARATOR = /%(?:2e|2f|5c|25)/gi;
const DECODED: Readonly<Record<string, string>> = { '2e': '.', '2f': '/', '5c': '\\', '25': '%' };
// Deeper encodings than this are refused rather than decoded further.
const MAX_DECODE_ROUNDS = 3;

function hasDotSegment(path: string): boolean {
  for (const segment of path.split('/')) {
    // "..;x" is a dot segment to servers that strip path parameters (Tomcat, Jetty).
    const semicolon = segment.indexOf(';');
    const name = semicolon === -1 ? segment : segment.slice(0, semicolon);
    if (name === '.' || name === '..') return true;
  }
  return false;
}

/**
 * Whether a request target (`req.url` or `req.originalUrl`) is a normalised absolute path: it
 * starts with `/` (not the absolute form `http://host/...` nor `*`), has no backslash, and has no
 * `.` or `..` segment, neither as written nor after decoding `%2e`, `%2f`, `%5c` and `%25` (so
 * `%2e%2e`, `.%2e`, `..%2f` and `%252e%252e` count too). The query string is not looked at.
 */
export function isNormalisedPath(target: string): boolean {
  if (target.charCodeAt(0) !== 0x2f /* / */) return false;
  const query = target.indexOf('?');
  let path = query === -1 ? target : target.slice(0, query);
  for (let round = 0; ; round++) {
    if (path.includes('\\') || hasDotSegment(path)) return false;
    if (!path.includes('%')) return true;
    const decoded = path.replace(ENCODED_SEPARATOR, (escape) => DECODED[escape.slice(1).toLowerCase()] ?? escape);
    if (decoded === path) return true;
    if (round === MAX_DECODE_ROUNDS) return false;
    path = decoded;
  }
}
