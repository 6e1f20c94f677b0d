/**
 * Duplicate member names in JSON text. `JSON.parse` keeps the last of two members with the same
 * name, so `{"iss":"https://maskinporten.no/","iss":"..."}` reads differently to parsers that keep
 * the first; RFC 7519 section 4 lets a JWT consumer refuse such a claim set, and we do. Names are
 * compared after unescaping, so `"iss"` and `"\u0069ss"` are the same member.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** The index of the quote that ends the string whose opening quote is at `start`, or -1. */
function endOfString(text: string, start: number): number {
  let at = text.indexOf('"', start + 1);
  while (at !== -1) {
    let backslashes = 0;
    for (let k = at - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}

function unescapeName(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * The first member name that appears twice in one JSON object anywhere in `text`, or undefined.
 * Validity is not checked here: for text that is not JSON the answer means nothing, and the
 * `JSON.parse` that follows refuses it.
 *
 * @example
 * ```ts
 * findDuplicateMember('{"a":1,"b":{"a":2}}'); // undefined
 * findDuplicateMember('{"a":1,"\\u0061":2}'); // 'a'
 * ```
 */
export function findDuplicateMember(text: string): string | undefined {
  // One entry per open container: the names seen so far in an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectingName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(text, i);
      if (end === -1) return undefined;
      const names = open[open.length - 1];
      if (expectingName && names) {
        const raw = text.slice(i + 1, end);
        const name = raw.includes('\\') ? unescapeName(raw) : raw;
        if (names.has(name)) return name;
        names.add(name);
        expectingName = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT) {
      open.push(new Set());
      expectingName = true;
    } else if (c === OPEN_ARRAY) {
      open.push(null);
      expectingName = false;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      expectingName = false;
    } else if (c === COMMA) {
      expectingName = open[open.length - 1] != null;
    }
  }
  return undefined;
}
