/**
 * Reading and discarding response bodies from Maskinporten and its metadata endpoint.
 */
import { MalformedResponseError } from '../errors.js';

/** Token and metadata documents are a few kilobytes; anything far larger is not one of them. */
export const MAX_DOCUMENT_BYTES = 256 * 1024;

/**
 * Reads the body as UTF-8 text, at most `maxBytes`. The read is bounded in time by the signal the
 * request was made with (aborting it errors the stream), so a server that sends headers and then
 * hangs cannot hold us past the attempt timeout.
 */
export async function readBodyText(response: Response, maxBytes = MAX_DOCUMENT_BYTES): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new MalformedResponseError(`The response body is larger than ${maxBytes} bytes, which no token or metadata document is.`, response.status);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

/** Releases a response we do not read, so its connection goes back to the pool or is closed. */
export function discardBody(response: Response): void {
  if (response.body === null || response.bodyUsed) return;
  response.body.cancel().catch(() => undefined);
}

/** Parses JSON and returns it only if it is a plain object. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
