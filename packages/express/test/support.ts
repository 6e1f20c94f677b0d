// Real servers for the tests: the Maskinporten simulator, recording upstream APIs, raw HTTP/1.1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { ClientKeyFixture, MaskinportenSimulator } from '@portvakt/testing';

/** Both Express majors the package supports, for describe.each. */
export const EXPRESS_VERSIONS = [['Express 5', express5], ['Express 4', express4]] as const;

export interface Maskinporten {
  sim: MaskinportenSimulator;
  key: ClientKeyFixture;
  /** A new client on the simulator (one attempt per token request, so faults show at once). */
  newClient(): MaskinportenClient;
  close(): Promise<void>;
}

/** The simulator with one client `gw` allowed `api:read`. */
export async function startMaskinporten(): Promise<Maskinporten> {
  const key = generateClientKey({ kid: 'express-key' });
  const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'gw', orgno: '991825827', scopes: ['api:read'], jwks: [key.publicJwk] }] });
  const clients: MaskinportenClient[] = [];
  return {
    sim,
    key,
    newClient() {
      const client = createMaskinportenClient({ clientId: 'gw', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read', transport: { maxAttempts: 1 } });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await sim.close();
    },
  };
}

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

export interface RecordingServer {
  origin: string;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP server on `host` that records every request and answers with `answer` (default: 200 with
 * `{ url }` as JSON).
 */
export async function startRecordingServer(answer?: (req: http.IncomingMessage, res: http.ServerResponse) => void, host = '127.0.0.1'): Promise<RecordingServer> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: Buffer.concat(chunks).toString() });
      if (answer) return answer(req, res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Listens with an Express app (or any request listener) on 127.0.0.1. */
export async function listen(app: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function decodeChunked(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!(size > 0)) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/**
 * Sends one request exactly as written (`GET /a/../b HTTP/1.1`), so no client library normalises
 * the path, and reads the answer until the server closes the connection.
 */
export function rawRequest(port: number, requestLine: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const raw = text.slice(headEnd + 4);
      resolve({ status: Number(statusLine.split(' ')[1]), headers: parsed, body: parsed['transfer-encoding'] === 'chunked' ? decodeChunked(raw) : raw });
    });
    const head = { host: 'gw', connection: 'close', ...headers };
    socket.write(`${requestLine}\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
  });
}
