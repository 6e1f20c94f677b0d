/**
 * Taking a `fetch(input, init)` call apart into what the authorising wrapper needs to replay it
 * hop by hop: URL, method, headers, body, signal, redirect mode, and everything else untouched.
 */

/** Headers that describe a request body; dropped when a redirect turns the request into a GET. */
export const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'] as const;

/** A request body as `fetch` takes it. */
export type RequestBody = RequestInit['body'];

/** The parts of one outgoing call. */
export interface RequestParts {
  url: URL;
  method: string;
  headers: Headers;
  body: RequestBody;
  signal: AbortSignal | undefined;
  redirect: NonNullable<RequestInit['redirect']>;
  /** Every other init property (dispatcher, keepalive, duplex, ...), passed on unchanged. */
  rest: RequestInit;
}

const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);

function normaliseMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALISED_METHODS.has(upper) ? upper : method;
}

function isRequest(input: unknown): input is Request {
  return typeof input === 'object' && input !== null && !(input instanceof URL) && typeof (input as Request).url === 'string' && typeof (input as Request).method === 'string';
}

/**
 * Reads a `fetch` call. A `Request`'s body is buffered so it can be replayed on a redirect or after
 * a 401; bodies given in `init` are used as they are.
 */
export async function toRequestParts(input: string | URL | Request, init: RequestInit | undefined): Promise<RequestParts> {
  const { method, headers, body, signal, redirect, ...rest } = init ?? {};
  if (isRequest(input)) {
    let requestBody: RequestBody = body;
    if (init === undefined || !('body' in init)) {
      requestBody = input.body === null ? undefined : new Uint8Array(await input.arrayBuffer());
    }
    return {
      url: new URL(input.url),
      method: normaliseMethod(method ?? input.method),
      headers: new Headers(headers ?? input.headers),
      body: requestBody,
      signal: signal ?? input.signal,
      redirect: redirect ?? input.redirect,
      rest,
    };
  }
  if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('fetch input must be a URL string, a URL or a Request');
  return {
    // A relative URL throws here, as it does in Node's fetch.
    url: new URL(typeof input === 'string' ? input : input.href),
    method: normaliseMethod(method ?? 'GET'),
    headers: new Headers(headers),
    body,
    signal: signal ?? undefined,
    redirect: redirect ?? 'follow',
    rest,
  };
}

/** Whether a body can be sent again (on a 307/308 redirect or after a 401). Streams cannot. */
export function isReplayableBody(body: RequestBody): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}
