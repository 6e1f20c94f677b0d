// The credential_process form, run as the AWS SDK runs it: a profile in a config file names the
// built bin, and the SDK's own process credential provider spawns it and reads its answer.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromProcess } from '@aws-sdk/credential-provider-process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateClientKey, startAwsStsStandIn, startMaskinportenSimulator } from '@portvakt/testing';
import type { AwsStsStandIn, MaskinportenSimulator } from '@portvakt/testing';
import { AUDIENCE, JWT, ORGNO, SCOPE, SUBJECT } from './clouds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist/esm/cli.js');
const dir = mkdtempSync(path.join(tmpdir(), 'portvakt-skyporten-'));
const key = generateClientKey({ kid: 'process-key' });
let sky: MaskinportenSimulator;
let sts: AwsStsStandIn;
let env: Record<string, string>;

beforeAll(async () => {
  // The bin is tested as users run it: built. Incremental, so fast when nothing changed.
  execFileSync(process.execPath, [path.join(root, '../../node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  sky = await startMaskinportenSimulator({ skyporten: true, clients: [{ clientId: 'process-client', orgno: ORGNO, scopes: [SCOPE], jwks: [key.publicJwk] }] });
  sts = await startAwsStsStandIn({ providers: [{ issuer: sky.issuer, clientIds: [AUDIENCE] }], roles: [{ name: 'reader', issuer: sky.issuer, subjects: [SUBJECT] }] });
  env = { MASKINPORTEN_CLIENT_ID: 'process-client', MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk), MASKINPORTEN_WELL_KNOWN_URL: sky.metadataUrl };
});
afterAll(async () => {
  for (const name of Object.keys(env)) delete process.env[name];
  await sts.close();
  await sky.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const processArgs = (audience = AUDIENCE) => ['aws-credential-process', '--role-arn', sts.roleArn('reader'), '--audience', audience, '--scope', SCOPE, '--duration-seconds', '900', '--sts-endpoint', sts.url];

it('is a credential_process the AWS SDK runs from a profile, and its credentials sign requests', async () => {
  const config = path.join(dir, 'config');
  writeFileSync(config, `[profile skyporten]\ncredential_process = "${process.execPath}" "${bin}" ${processArgs().join(' ')}\n`);
  writeFileSync(path.join(dir, 'credentials'), '');
  // The SDK spawns the process with this process's environment, as the AWS CLI would with the user's.
  Object.assign(process.env, env);
  const credentials = fromProcess({ profile: 'skyporten', configFilepath: config, filepath: path.join(dir, 'credentials') });
  const identity = await new STSClient({ region: 'eu-north-1', endpoint: sts.url, credentials, maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
  expect(identity.Arn).toBe('arn:aws:sts::123456789012:assumed-role/reader/portvakt-skyporten');
  const resolved = await credentials();
  expect(resolved.expiration?.getTime()).toBeGreaterThan(Date.now() + 800_000);
});

it('prints Version 1 JSON, and a refusal goes to stderr with AWS\'s code and the fix, exit 1, no token', async () => {
  const ok = await run(processArgs());
  expect(ok.code).toBe(0);
  expect(Object.keys(JSON.parse(ok.stdout) as object)).toEqual(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
  const refused = await run(processArgs('https://wrong.example.no'));
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(/InvalidIdentityToken: Incorrect token audience.*ClientIDList/);
  expect(refused.stderr).not.toMatch(JWT);
  const usage = await run(['aws-credential-process', '--audience', AUDIENCE]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/--role-arn is required/);
});
