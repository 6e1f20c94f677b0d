// A recording API for tests: a small loopback server that records every request's Authorization
// header (as the API a token is meant for, or as a "foreign" origin that must never see one), and a
// variant that speaks https and plain http on one port, so a downgrade to http on the same host
// and port can be observed.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTestPki } from './fixtures/pki.js';

/**
 * One request a {@link RecordingApi} received.
 * @example
 * ```ts
 * const first: SeenRequest | undefined = api.seen[0];
 * first?.authorization; // 'Bearer eyJ...'
 * ```
 */
export interface SeenRequest {
  /** The Host header: which name the client used to reach this server. */
  host: string | undefined;
  authorization: string | undefined;
  method: string | undefined;
  path: string;
  /** Whether it came over TLS. */
  secure: boolean;
}

/**
 * A running recording API; see {@link startRecordingApi}.
 * @example
 * ```ts
 * const api: RecordingApi = await startRecordingApi();
 * await fetch(`${api.origin}/ok`);
 * api.authorizations; // [undefined]
 * await api.close();
 * ```
 */
export interface RecordingApi {
  /** `http://127.0.0.1:<port>` (or `https://` for a dual server). */
  origin: string;
  port: number;
  seen: SeenRequest[];
  /** Authorization headers seen, in order (undefined when absent). */
  readonly authorizations: (string | undefined)[];
  /** Bearer tokens the server treats as revoked (answers 401). */
  revoked: Set<string>;
  /** Ends every response held by `/hang`. */
  release(): void;
  close(): Promise<void>;
}

/**
 * The API's routes: `/ok`; `/status/:code`; `/redirect/:code?to=URL`; `/echo` (answers with the
 * body length); `/hang` (held until release()); `/slow/:ms`. A revoked token gets 401.
 */
function createHandler(seen: SeenRequest[], revoked: Set<string>, held: (() => void)[]): http.RequestListener {
  return (req, res) => {
    const auth = req.headers.authorization;
    seen.push({ host: req.headers.host, authorization: auth, method: req.method, path: req.url ?? '/', secure: (req.socket as { encrypted?: boolean }).encrypted === true });
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = auth?.split(' ')[1];
      const parts = url.pathname.split('/');
      if (token !== undefined && revoked.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
        return res.end();
      }
      if (parts[1] === 'status') {
        res.writeHead(Number(parts[2]), { 'content-type': 'application/json' });
        // ?values=N: a JSON body of N values, for tests of what large error bodies do.
        const values = Number(url.searchParams.get('values') ?? 0);
        return res.end(values > 0 ? `[${Array.from({ length: values }, (_, i) => i).join(',')}]` : JSON.stringify({ error: 'x' }));
      }
      if (parts[1] === 'redirect') {
        res.writeHead(Number(parts[2]), { location: url.searchParams.get('to') ?? '/' });
        return res.end();
      }
      if (parts[1] === 'hang') {
        held.push(() => res.end('released'));
        return;
      }
      if (parts[1] === 'slow') {
        setTimeout(() => res.end('slow'), Number(parts[2])).unref();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, bytes: Buffer.concat(chunks).length }));
    });
  };
}

function recorder(server: net.Server, origin: string, port: number, seen: SeenRequest[], revoked: Set<string>, held: (() => void)[], extra: () => void = () => undefined): RecordingApi {
  return {
    origin,
    port,
    seen,
    get authorizations() {
      return seen.map((s) => s.authorization);
    },
    revoked,
    release: () => held.splice(0).forEach((end) => end()),
    close: () =>
      new Promise<void>((resolve) => {
        held.splice(0).forEach((end) => end());
        extra();
        server.close(() => resolve());
      }),
  };
}

async function listen(server: net.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Starts a recording HTTP API on `host` (127.0.0.1 by default; `port` 0 picks a free one). Routes:
 * `/ok`; `/status/:code` (answers that status for ever, e.g. a persistent 401; `?values=N` makes its
 * body a JSON array of N numbers); `/redirect/:code?to=URL`;
 * `/echo` (answers with the body length); `/hang` (held until `release()`); `/slow/:ms`. A token in
 * `revoked` gets 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
 *
 * @example
 * ```ts
 * import { startRecordingApi } from '@portvakt/testing';
 * const api = await startRecordingApi();
 * const foreign = await startRecordingApi(); // an origin that must never see a token
 * // ... call api.origin through the code under test ...
 * expect(foreign.authorizations.every((a) => a === undefined)).toBe(true);
 * ```
 */
export async function startRecordingApi(options: { host?: string; port?: number; seen?: SeenRequest[]; keepAliveTimeout?: number } = {}): Promise<RecordingApi> {
  const host = options.host ?? '127.0.0.1';
  const seen = options.seen ?? [];
  const revoked = new Set<string>();
  const held: (() => void)[] = [];
  const server = http.createServer(createHandler(seen, revoked, held));
  server.keepAliveTimeout = options.keepAliveTimeout ?? 100;
  const port = await listen(server, options.port ?? 0, host);
  const shown = host.includes(':') ? `[${host}]` : host;
  return recorder(server, `http://${shown}:${port}`, port, seen, revoked, held, () => server.closeAllConnections());
}

/**
 * A recording API on one port of 127.0.0.1 that answers TLS as https and anything else as plain
 * http, recording both (for downgrade tests). `ca` is what a client must trust; the certificate
 * names no host, so clients must skip the name check.
 *
 * @example
 * ```ts
 * import { startRecordingDualApi } from '@portvakt/testing';
 * const api = await startRecordingDualApi();
 * const agent = new https.Agent({ ca: api.ca, checkServerIdentity: () => undefined });
 * ```
 */
export async function startRecordingDualApi(): Promise<RecordingApi & { ca: string[] }> {
  const pki = createTestPki();
  const certificate = pki.issueEnterpriseCertificate({ orgno: '991825827' });
  const seen: SeenRequest[] = [];
  const revoked = new Set<string>();
  const held: (() => void)[] = [];
  const handler = createHandler(seen, revoked, held);
  const plain = http.createServer(handler);
  const secure = https.createServer({ key: certificate.privateKeyPem, cert: certificate.chainPem }, handler);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      // 0x16: a TLS handshake record.
      (first[0] === 0x16 ? secure : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  const port = await listen(front, 0, '127.0.0.1');
  const server = recorder(front, `https://127.0.0.1:${port}`, port, seen, revoked, held, () => sockets.forEach((s) => s.destroy()));
  return Object.assign(server, { ca: pki.trustedCaPems });
}
