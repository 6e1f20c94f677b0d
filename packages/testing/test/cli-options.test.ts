import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { generateClientKey } from '../src/fixtures/keys.js';
import { baseClaims, postToken, signGrant } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist/esm/cli.js');
const children: ReturnType<typeof spawn>[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'portvakt-sim-cli-'));
const key = generateClientKey({ kid: 'stable-key' });

beforeAll(() => {
  // The CLI is tested as users run it: the built bin, built incrementally from the sources.
  execFileSync(process.execPath, [path.join(root, '../../node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM');
});

/** Starts the simulator CLI and resolves with its stdout once `until` matches it. */
function start(args: string[], until: RegExp): Promise<string> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (until.test(out)) resolve(out);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${err}`)));
  });
}

/** Runs the CLI to its end: exit code and output. */
function runToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

async function tokenStatus(env: Record<string, string | undefined>, privateKeyPem: string, kid: string): Promise<number> {
  const claims = baseClaims(env.MASKINPORTEN_ISSUER as string, env.MASKINPORTEN_CLIENT_ID as string, (env.MASKINPORTEN_SCOPES as string).split(' ')[0] as string);
  return (await postToken(env.MASKINPORTEN_TOKEN_ENDPOINT as string, signGrant({ alg: 'RS256', kid }, claims, privateKeyPem))).status;
}

it('--env prints the NAIS_TOKEN_* variables of a Texas that gets tokens for the same client', async () => {
  const env = parseEnv(await start(['--env', '--client-id', 'nais-client', '--scope', 'demo:a'], /PORTVAKT_SELF_SERVICE_URL=.*\n/));
  expect(env.NAIS_TOKEN_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/token$/);
  expect(env.NAIS_TOKEN_INTROSPECTION_ENDPOINT).toBe(env.NAIS_TOKEN_ENDPOINT?.replace('/token', '/introspect'));
  expect(env.NAIS_TOKEN_EXCHANGE_ENDPOINT).toBe(`${env.NAIS_TOKEN_ENDPOINT}/exchange`);
  const res = await fetch(env.NAIS_TOKEN_ENDPOINT as string, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity_provider: 'maskinporten', target: 'demo:a' }) });
  const token = (await res.json()) as { access_token: string };
  expect(res.status).toBe(200);
  expect(JSON.parse(Buffer.from(token.access_token.split('.')[1] as string, 'base64url').toString()).client_id).toBe('nais-client');
});

it('--env prints the MASKINPORTEN_* variables fromEnv() reads, with the key from --key-file, the same on every start', async () => {
  const file = path.join(dir, 'key.json');
  writeFileSync(file, JSON.stringify(key.privateJwk), { mode: 0o600 });
  const first = parseEnv(await start(['--env', '--key-file', file, '--client-id', 'env-client', '--scope', 'demo:a', '--scope', 'demo:b'], /PORTVAKT_SELF_SERVICE_URL=.*\n/));
  expect(first.MASKINPORTEN_CLIENT_ID).toBe('env-client');
  expect(first.MASKINPORTEN_SCOPES).toBe('demo:a demo:b');
  expect(first.MASKINPORTEN_WELL_KNOWN_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server$/);
  expect(JSON.parse(first.MASKINPORTEN_CLIENT_JWK as string)).toEqual(key.privateJwk);
  expect(first.PORTVAKT_SELF_SERVICE_URL).toBe(first.MASKINPORTEN_ISSUER?.replace(/\/$/, ''));
  expect(await tokenStatus(first, key.privateKeyPem, 'stable-key')).toBe(200);
  const metadata = (await (await fetch(first.MASKINPORTEN_WELL_KNOWN_URL as string)).json()) as { issuer: string };
  expect(metadata.issuer).toBe(first.MASKINPORTEN_ISSUER);

  const second = parseEnv(await start(['--env', '--key-file', file, '--client-id', 'env-client', '--scope', 'demo:a'], /PORTVAKT_SELF_SERVICE_URL=.*\n/));
  expect(second.MASKINPORTEN_CLIENT_JWK).toBe(first.MASKINPORTEN_CLIENT_JWK);
  expect(await tokenStatus(second, key.privateKeyPem, 'stable-key')).toBe(200);
});

it('--public-jwk registers only the public key: the holder of the private half gets tokens, and no private key is printed', async () => {
  const out = await start(['--env', '--public-jwk', JSON.stringify({ keys: [key.publicJwk] }), '--scope', 'demo:a'], /PORTVAKT_SELF_SERVICE_URL=.*\n/);
  const env = parseEnv(out);
  expect(env.MASKINPORTEN_CLIENT_JWK).toBeUndefined();
  expect(out).toMatch(/# MASKINPORTEN_CLIENT_JWK: .*kid stable-key/);
  expect(out).not.toContain(key.privateJwk.d as string);
  expect(await tokenStatus(env, key.privateKeyPem, 'stable-key')).toBe(200);
  expect(await tokenStatus(env, generateClientKey({ kid: 'stable-key' }).privateKeyPem, 'stable-key')).toBe(400);
});

it('answers bad arguments, an unreadable key and a port in use with one line and no stack trace', async () => {
  const oneLine = (res: { stderr: string }) => {
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^portvakt-simulator: /);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  };
  const unknown = await runToEnd(['--prot', '8080']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/Unknown option '--prot'/);
  oneLine(unknown);
  const port = await runToEnd(['--port', 'eighty']);
  expect(port.code).toBe(2);
  oneLine(port);
  const missing = await runToEnd(['--key-file', path.join(dir, 'nope.json')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/ENOENT/);
  oneLine(missing);
  const publicAsPrivate = path.join(dir, 'public.json');
  writeFileSync(publicAsPrivate, JSON.stringify(key.publicJwk));
  const notPrivate = await runToEnd(['--key-file', publicAsPrivate]);
  expect(notPrivate.code).toBe(2);
  expect(notPrivate.stderr).toMatch(/--public-jwk/);
  oneLine(notPrivate);

  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    const taken = (holder.address() as { port: number }).port;
    const inUse = await runToEnd(['--port', String(taken)]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(new RegExp(`port ${taken} is in use .*--port 0`));
    oneLine(inUse);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});

it('prints the self-service URL and lets a client with idporten:dcr.modify manage its own keys', async () => {
  const file = path.join(dir, 'admin-key.json');
  writeFileSync(file, JSON.stringify(key.privateJwk), { mode: 0o600 });
  const out = await start(['--key-file', file, '--client-id', 'self', '--scope', 'idporten:dcr.modify', '--propagation-ms', '0'], /\n\{.*\}\n/);
  const url = /self-service:\s+(\S+)/.exec(out)?.[1] as string;
  expect(url).toMatch(/\/clients\/self\/jwks$/);
  const config = JSON.parse(out.split('\n').find((l) => l.startsWith('{')) as string) as { environment: { issuer: string; tokenEndpoint: string } };
  const grant = signGrant({ alg: 'RS256', kid: 'stable-key' }, baseClaims(config.environment.issuer, 'self', 'idporten:dcr.modify'), key.privateKeyPem);
  const token = (await postToken(config.environment.tokenEndpoint, grant)).json.access_token as string;
  const read = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(read.status).toBe(200);
  // The client's own key, and the one the Texas stand-in signs with (NAIS registers Texas' key on the app's client).
  expect(((await read.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual(['stable-key', 'nais-texas']);
});
