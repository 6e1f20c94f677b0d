import type { IncomingMessage } from 'node:http';

/**
 * Whether a request with a body has had that body read by someone before the proxy (a body parser
 * such as `express.json()` mounted in front of it). The proxy streams the original bytes; when they
 * are gone it would send the headers of a body it no longer has, and the upstream would wait for
 * it until a socket timeout.
 */
export function isBodyConsumed(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody) return false;
  // body-parser 1 marks the request with `_body`; every reader makes the stream emit data.
  return req.readableDidRead || req.readableEnded || (req as { _body?: unknown })._body === true;
}
