// What sits at a key path is not trusted to be a key file. A FIFO would block a plain read, and
// with it the event loop, until a writer opens it (maybe never); a huge file would be read whole
// on every poll. The key in use stays and keyRefused says why; at creation, a ConfigurationError.
// Should a FIFO ever be read with blocking I/O again, a writer opens it after a few seconds (a
// child process, killed at the end of each test), so the test fails instead of hanging.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, createMaskinportenClient, DIAGNOSTICS_CHANNELS, fromEnv } from '@portvakt/core';
import type { DiagnosticsPayloads, MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { identityOf, kidOfToken, secretMount, waitFor } from './harness.js';

const ORG = '991825827';
const POLL_MS = 2_000;
const key = generateClientKey({ kid: 'guarded-key' });
const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

let sim: MaskinportenSimulator;
let root: string;
const clients: MaskinportenClient[] = [];
const writers: ChildProcess[] = [];
const refusals: DiagnosticsPayloads['keyRefused'][] = [];
const onRefused = (message: unknown) => refusals.push(message as DiagnosticsPayloads['keyRefused']);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'portvakt-guard-'));
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'guarded', orgno: ORG, scopes: ['demo:read'], jwks: [key.publicJwk] }] });
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.keyRefused, onRefused);
});
afterAll(async () => {
  diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.keyRefused, onRefused);
  await sim?.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  for (const writer of writers.splice(0)) if (writer.exitCode === null) writer.kill();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  refusals.length = 0;
});

function follow(file: string): MaskinportenClient {
  const client = createMaskinportenClient({ clientId: 'guarded', environment: sim.environment(), key: { file, follow: { pollInterval: POLL_MS } }, scope: 'demo:read' });
  clients.push(client);
  return client;
}

/**
 * Makes a FIFO at `path`, and the bounded way out should anything block on it: from 3 s on, a
 * writer opens and closes it again and again (for 10 s at most), so a blocked read returns.
 */
function fifoAt(path: string): void {
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const writer = spawn('timeout', ['10', 'sh', '-c', 'sleep 3; while :; do : > "$1"; sleep 0.2; done', 'sh', path], { stdio: 'ignore' });
  writers.push(writer);
}

function configurationError(attempt: () => unknown): ConfigurationError {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('no error');
}

describe.skipIf(!hasMkfifo)('a FIFO at the key path', () => {
  it('is refused without a read that blocks: the followed key stays and keyRefused says unreadable', async () => {
    const mount = secretMount(root, 'fifo');
    mount.write({ 'key.json': JSON.stringify(key.privateJwk) });
    const client = follow(mount.path('key.json'));
    await client.getToken();
    // The file the path resolves to becomes a FIFO (nothing writes to it until the bounded writer).
    const target = join(mount.dir, '..data', 'key.json');
    rmSync(target);
    fifoAt(target);
    await waitFor(() => refusals.length > 0, 'the FIFO to be reported', POLL_MS + 3_500);
    expect(refusals[0]).toMatchObject({ problem: 'unreadable', code: 'ERR_PORTVAKT_CONFIGURATION', identity: identityOf('guarded-key', key.publicJwk) });
    expect(refusals[0]!.message).toMatch(/is a FIFO \(named pipe\), not a regular file/);
    client.invalidate(await client.getToken());
    expect(kidOfToken(sim, (await client.getToken()).accessToken)).toBe('guarded-key');
  });

  it('is refused at creation with a ConfigurationError, by the client and by fromEnv()', () => {
    const dir = join(root, 'fifo-option');
    mkdirSync(dir);
    const path = join(dir, 'key.json');
    fifoAt(path);
    const error = configurationError(() => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { file: path } }));
    expect(error).toMatchObject({ field: 'key.file', message: expect.stringMatching(/is a FIFO \(named pipe\), not a regular file/) });
    const fromVariables = configurationError(() => fromEnv({ MASKINPORTEN_CLIENT_ID: 'c', MASKINPORTEN_ENVIRONMENT: 'test', MASKINPORTEN_CLIENT_JWK_PATH: path }));
    expect(fromVariables).toMatchObject({ field: 'MASKINPORTEN_CLIENT_JWK_PATH', message: expect.stringMatching(/FIFO/) });
  });
});

describe('a file too large to be a key file', () => {
  it('is refused without being read: the followed key stays and keyRefused says too-large; at creation, a ConfigurationError', async () => {
    const dir = join(root, 'large');
    mkdirSync(dir);
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(key.privateJwk));
    const client = follow(file);
    await client.getToken();
    // 200 MB, sparse: it takes no disk, and reading it would take a while on every poll.
    const large = join(dir, 'large.tmp');
    closeSync(openSync(large, 'w'));
    truncateSync(large, 200 * 1024 * 1024);
    renameSync(large, file);
    await waitFor(() => refusals.length > 0, 'the large file to be reported', POLL_MS + 1_000);
    expect(refusals[0]).toMatchObject({ problem: 'too-large', code: 'ERR_PORTVAKT_CONFIGURATION', identity: identityOf('guarded-key', key.publicJwk) });
    expect(refusals[0]!.message).toMatch(/is 209715200 bytes; a key file .* is far under 1048576 bytes/);
    expect(kidOfToken(sim, (await client.getToken()).accessToken)).toBe('guarded-key');
    const error = configurationError(() => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { file } }));
    expect(error).toMatchObject({ field: 'key.file', message: expect.stringMatching(/209715200 bytes/) });
    // Just over the bound is refused; a file at the bound is read (and then judged as a key).
    truncateSync(file, 1024 * 1024 + 1);
    expect(configurationError(() => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { file } })).message).toMatch(/1048577 bytes/);
    truncateSync(file, 1024 * 1024);
    expect(() => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { file } })).toThrow(/PKCS#12|binary/);
  });
});
