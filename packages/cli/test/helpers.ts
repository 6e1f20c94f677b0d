// Runs the built `portvakt` bin as a subprocess, as users run it, and checks its output for secrets.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bin = path.join(packageRoot, 'dist/esm/cli.js');

/** Builds the bin (and core, by reference) incrementally; fast when nothing changed. */
export function buildCli(): void {
  execFileSync(process.execPath, [path.join(packageRoot, '../../node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], { cwd: packageRoot, stdio: 'inherit' });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `portvakt <args>` with only the variables given (plus PATH and HOME), never the test
 * process's MASKINPORTEN_* ones. Async, so an in-process simulator keeps answering.
 */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? packageRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function tempDir(prefix = 'portvakt-cli-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Every secret value in a private key file: the JWK's private members, or the PEM's base64 lines. */
export function secretsOfKeyFile(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('{')) {
    const jwk = JSON.parse(text) as Record<string, unknown>;
    return ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => jwk[m]).filter((v): v is string => typeof v === 'string');
  }
  return text.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
}

const JWT = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
const PRIVATE_PEM = /-----BEGIN (?:RSA |ENCRYPTED )?PRIVATE KEY-----/;

/**
 * The canary check: no token, grant or private key in the output, except a token on stdout when
 * the command was asked for one (`tokenOnStdout`).
 */
export function expectNoSecrets(result: CliResult, secrets: readonly string[], options: { tokenOnStdout?: boolean } = {}): void {
  for (const [name, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
    if (!(name === 'stdout' && options.tokenOnStdout === true)) expect(JWT.test(text), `${name} holds a JWT (a token or a grant)`).toBe(false);
    expect(PRIVATE_PEM.test(text), `${name} holds a PEM private key`).toBe(false);
    expect(/"d"\s*:/.test(text), `${name} holds a private JWK member`).toBe(false);
    for (const secret of secrets) expect(text.includes(secret), `${name} holds a secret value`).toBe(false);
  }
}

export function envFile(dir: string, name: string, variables: Record<string, string>): string {
  const file = path.join(dir, name);
  // Single quotes keep a JWK's double quotes as they are.
  const text = Object.entries(variables).map(([k, v]) => `${k}='${v}'`).join('\n');
  execFileSync('sh', ['-c', 'umask 077 && cat > "$1"', 'sh', file], { input: `${text}\n` });
  return file;
}

/** A request the stand-in self-service API received. */
export interface ApiRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

/**
 * A stand-in for Digdir's self-service API that answers as a test tells it to (an empty set, a
 * foreign set, an error that echoes the bearer token): what the simulator, which follows Digdir's
 * rules, never does.
 */
export async function startStandInApi(answer: (request: ApiRequest) => { status: number; body: unknown }): Promise<{ url: string; requests: ApiRequest[]; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const requests: ApiRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = { method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization, body };
      requests.push(request);
      const { status, body: out } = answer(request);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof out === 'string' ? out : JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
