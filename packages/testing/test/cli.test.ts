import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseClaims, postToken } from './helpers.js';
import { createPrivateKey, sign } from 'node:crypto';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist/esm/cli.js');
let child: ReturnType<typeof spawn> | undefined;

beforeAll(() => {
  // The CLI is tested as users run it: the built bin. Build it when a fresh checkout has no dist.
  if (!existsSync(bin)) {
    const tsc = spawnSync(process.execPath, [path.join(root, '../../node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
    expect(tsc.status).toBe(0);
  }
});
afterAll(() => {
  child?.kill('SIGTERM');
});

it('prints a ready client configuration that gets a token from the simulator it started', async () => {
  child = spawn(process.execPath, [bin, '--client-id', 'cli-client', '--scope', 'demo:a', '--scope', 'demo:b'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const config = await new Promise<{ clientId: string; environment: { issuer: string; tokenEndpoint: string }; key: { jwk: Record<string, string> }; scope: string }>((resolve, reject) => {
    child?.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child?.once('exit', (code) => reject(new Error(`CLI exited early with ${code}: ${out}`)));
  });
  expect(out).toContain('token endpoint:');
  expect(config.scope).toBe('demo:a demo:b');
  const header = { alg: 'RS256', kid: config.key.jwk.kid };
  const claims = baseClaims(config.environment.issuer, config.clientId, 'demo:a');
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const sig = sign('sha256', Buffer.from(input), createPrivateKey({ key: config.key.jwk, format: 'jwk' })).toString('base64url');
  const res = await postToken(config.environment.tokenEndpoint, `${input}.${sig}`);
  expect(res.status).toBe(200);
  expect(res.json.token_type).toBe('Bearer');
  const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});
