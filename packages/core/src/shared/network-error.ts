/**
 * A safe one-line description of a network failure. The original error is never attached as
 * `cause`: a custom `fetch` may hang the request (and so the assertion) on its errors.
 */
import { redactSecrets } from '../redact.js';

export function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    const text = [typeof code === 'string' ? code : undefined, typeof message === 'string' ? message : undefined]
      .filter((part): part is string => part !== undefined && part !== '')
      .join(': ');
    if (text !== '' && !parts.includes(text)) parts.push(text.slice(0, 200));
    current = (current as { cause?: unknown }).cause;
  }
  return redactSecrets(parts.length === 0 ? 'network error' : parts.join(' <- '));
}
