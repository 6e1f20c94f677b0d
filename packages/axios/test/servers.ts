import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingServer {
  origin: string;
  port: number;
  /** Authorization headers seen, in order (undefined when absent). */
  seen: (string | undefined)[];
  /** Tokens the server treats as revoked (answers 401). */
  revoked: Set<string>;
  close(): Promise<void>;
}

/**
 * A small API on 127.0.0.1: `/ok` answers 200, `/status/:code`, `/redirect/:code?to=URL`,
 * `/echo` returns the body length; tokens in `revoked` get 401.
 */
export async function startServer(host = '127.0.0.1'): Promise<RecordingServer> {
  const seen: (string | undefined)[] = [];
  const revoked = new Set<string>();
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization;
    seen.push(auth);
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = auth?.split(' ')[1];
      if (token && revoked.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
        return res.end();
      }
      const parts = url.pathname.split('/');
      if (parts[1] === 'status') {
        res.writeHead(Number(parts[2]));
        return res.end(JSON.stringify({ error: 'x' }));
      }
      if (parts[1] === 'redirect') {
        res.writeHead(Number(parts[2]), { location: url.searchParams.get('to') ?? '/' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, bytes: Buffer.concat(chunks).length }));
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    port,
    seen,
    revoked,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
