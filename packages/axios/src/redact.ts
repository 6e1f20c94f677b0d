// Scrubbing a token out of an AxiosError before it reaches the caller. An AxiosError holds the
// request config (headers), the Node request (whose `_header` string and internal header map
// carry the Authorization line) and, after redirects, follow-redirects' options: every place a
// logger or util.inspect would find the token. We walk the error's object graph, bounded, and
// replace the token wherever it stands.
const REDACTED = '[redacted]';
const MAX_NODES = 20_000;

function scrubString(value: string, token: string): string {
  return value.includes(token) ? value.split(token).join(REDACTED) : value;
}

/** Replaces `token` everywhere in the error's reachable own properties (strings, header maps). */
export function scrubToken(root: unknown, token: string): void {
  if (token.length < 8) return;
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0 && seen.size < MAX_NODES) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null || seen.has(node)) continue;
    seen.add(node);
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) continue;
    const keys: (string | symbol)[] = [...Object.getOwnPropertyNames(node), ...Object.getOwnPropertySymbols(node)];
    for (const key of keys) {
      const descriptor = Object.getOwnPropertyDescriptor(node, key);
      if (!descriptor || !('value' in descriptor)) continue;
      const value: unknown = descriptor.value;
      if (typeof value === 'string') {
        if (value.includes(token) && descriptor.writable) (node as Record<string | symbol, unknown>)[key] = scrubString(value, token);
      } else if (typeof value === 'object' && value !== null) {
        stack.push(value);
      }
    }
    if (node instanceof Map) {
      for (const [k, v] of node) {
        if (typeof v === 'string' && v.includes(token)) node.set(k, scrubString(v, token));
        else stack.push(v);
      }
    }
  }
}
