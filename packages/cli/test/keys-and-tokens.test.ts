import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTestPki, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, envFile, expectNoSecrets, runCli, secretsOfKeyFile, tempDir } from './helpers.js';

const ORG = '991825827';
let dir: string;
let sim: MaskinportenSimulator;
let jwkFile: string;
let pemFile: string;
let secrets: string[];

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  const made = await runCli(['keygen', '--kid', 'app-2026-11', '--out', dir]);
  expect(made.code).toBe(0);
  jwkFile = path.join(dir, 'app-2026-11.private.jwk.json');
  pemFile = path.join(dir, 'app-2026-11.private.pem');
  secrets = [...secretsOfKeyFile(jwkFile), ...secretsOfKeyFile(pemFile)];
  const publicJwk = (JSON.parse(made.stdout) as { keys: Record<string, string>[] }).keys[0] as Record<string, string>;
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'app', orgno: ORG, scopes: ['demo:read', 'demo:write'], jwks: [publicJwk] }] });
});
afterAll(async () => {
  await sim?.close();
});

const clientEnv = () => ({
  MASKINPORTEN_CLIENT_ID: 'app',
  MASKINPORTEN_CLIENT_JWK: readFileSync(jwkFile, 'utf8'),
  MASKINPORTEN_ISSUER: sim.issuer,
  MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint,
  MASKINPORTEN_SCOPES: 'demo:read',
});

describe('portvakt keygen', () => {
  it('writes the private JWK and PEM with mode 0600 and prints only the public JWK set, with the next step', async () => {
    expect(statSync(jwkFile).mode & 0o777).toBe(0o600);
    expect(statSync(pemFile).mode & 0o777).toBe(0o600);
    const privateJwk = JSON.parse(readFileSync(jwkFile, 'utf8')) as Record<string, string>;
    expect(privateJwk).toMatchObject({ kty: 'RSA', kid: 'app-2026-11', alg: 'RS256', use: 'sig' });
    expect(Buffer.from(privateJwk.n as string, 'base64url').length * 8).toBe(2048);
    const out = tempDir();
    const made = await runCli(['keygen', '--kid', 'other-key', '--out', out, '--json']);
    expect(made.code).toBe(0);
    const result = JSON.parse(made.stdout) as { kid: string; jwks: { keys: Record<string, string>[] }; files: Record<string, string>; next: string[] };
    expect(result.jwks.keys).toHaveLength(1);
    expect(Object.keys(result.jwks.keys[0] as object).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(result.next.join(' ')).toMatch(/self-service/);
    expectNoSecrets(made, secretsOfKeyFile(result.files.privateJwkPath as string));
    const human = await runCli(['keygen', '--kid', 'third-key', '--out', out]);
    expect(human.stderr).toMatch(/Next:/);
    expect(human.stderr).toMatch(/portvakt doctor/);
    expectNoSecrets(human, secretsOfKeyFile(path.join(out, 'third-key.private.jwk.json')));
  });

  it('never overwrites a key, and refuses a missing or malformed kid as a usage error', async () => {
    const again = await runCli(['keygen', '--kid', 'app-2026-11', '--out', dir]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already exists/);
    expect((await runCli(['keygen'])).code).toBe(2);
    const bad = await runCli(['keygen', '--kid', 'no spaces!']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/letters, digits/);
  });
});

describe('portvakt jwks', () => {
  it('gives the same public key from the JWK, the PEM and a PKCS#12 bundle', async () => {
    const fromJwk = await runCli(['jwks', '--key', jwkFile]);
    const fromPem = await runCli(['jwks', '--key', pemFile, '--kid', 'app-2026-11']);
    expect(fromJwk.code).toBe(0);
    expect(fromPem.stdout).toBe(fromJwk.stdout);
    expectNoSecrets(fromJwk, secrets);
    expectNoSecrets(fromPem, secrets);

    const cert = createTestPki().issueEnterpriseCertificate({ orgno: ORG });
    const p12 = path.join(dir, 'cert.p12');
    writeFileSync(p12, cert.toPkcs12('s3cret-pass'), { mode: 0o600 });
    const fromP12 = await runCli(['jwks', '--key', p12, '--kid', 'cert-key', '--passphrase-env', 'P12_PASS', '--json'], { env: { P12_PASS: 's3cret-pass' } });
    expect(fromP12.code).toBe(0);
    const result = JSON.parse(fromP12.stdout) as { form: string; jwks: { keys: { kid: string }[] } };
    expect(result.form).toBe('pkcs12');
    expect(result.jwks.keys[0]?.kid).toBe('cert-key');
    expectNoSecrets(fromP12, ['s3cret-pass', ...secretsOfKeyFile(path.join(dir, 'app-2026-11.private.pem'))]);

    const wrong = await runCli(['jwks', '--key', p12, '--kid', 'cert-key', '--passphrase-env', 'P12_PASS'], { env: { P12_PASS: 'not-the-pass' } });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/passphrase/);
    expectNoSecrets(wrong, ['not-the-pass', 's3cret-pass']);
    expect((await runCli(['jwks', '--key', p12])).code).toBe(2);
  });

  it('refuses a public key file and a missing file with the fix', async () => {
    const missing = await runCli(['jwks', '--key', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/ENOENT/);
    const publicOnly = await runCli(['jwks', '--key', path.join(dir, 'app-2026-11.public.jwks.json')]);
    expect(publicOnly.code).toBe(3);
    expect(publicOnly.stderr).toMatch(/fix:/);
  });
});

describe('portvakt token', () => {
  it('prints the token on stdout only: raw, as a header for curl, and as JSON', async () => {
    const raw = await runCli(['token'], { env: clientEnv() });
    expect(raw.code).toBe(0);
    expect(raw.stderr).toBe('');
    expect(raw.stdout.trim()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expectNoSecrets(raw, secrets, { tokenOnStdout: true });

    const header = await runCli(['token', '--header'], { env: clientEnv() });
    expect(header.stdout).toMatch(/^Authorization: Bearer eyJ[\w.-]+\n$/);
    expect(header.stderr).toBe('');

    const json = await runCli(['token', '--json', '--scope', 'demo:write'], { env: clientEnv() });
    const body = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'demo:write' });
    expect(body.expires_in).toBeGreaterThan(0);
    expect(json.stderr).toBe('');
  });

  it('takes every option from flags or an env file instead of the environment', async () => {
    const byFlags = await runCli(['token', '--client-id', 'app', '--key', pemFile, '--kid', 'app-2026-11', '--issuer', sim.issuer, '--token-endpoint', sim.tokenEndpoint, '--scope', 'demo:read']);
    expect(byFlags.code).toBe(0);
    const file = envFile(dir, 'app.env', clientEnv());
    const byFile = await runCli(['token', '--dotenv', file, '--json']);
    expect(byFile.code).toBe(0);
    expect(JSON.parse(byFile.stdout)).toMatchObject({ scope: 'demo:read' });
    const request = sim.requests.filter((r) => r.path === '/token').at(-1);
    expect(request?.grant?.header.kid).toBe('app-2026-11');
  });

  it('explains a refused request with the MP code and its fix, and shows no secret', async () => {
    const refused = await runCli(['token', '--scope', 'demo:admin'], { env: clientEnv() });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/MP-200/);
    expect(refused.stderr).toMatch(/fix: The scope is not registered on the client/);
    expectNoSecrets(refused, secrets);
    const json = await runCli(['token', '--scope', 'demo:admin', '--json'], { env: clientEnv() });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { exitCode: 1 } });
    expectNoSecrets(json, secrets);
  });

  it('names the missing variable when there is no configuration', async () => {
    const none = await runCli(['token']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/MASKINPORTEN_CLIENT_ID/);
  });
});

describe('the command line', () => {
  it('has --help on every command and documents the exit codes', async () => {
    for (const command of [[], ['keygen'], ['jwks'], ['token'], ['doctor'], ['keys', 'rotate'], ['keys', 'prune'], ['keys', 'list'], ['keys']]) {
      const res = await runCli([...command, '--help']);
      expect(res.code, command.join(' ')).toBe(0);
      expect(res.stdout).toMatch(/^Usage: portvakt/);
      if (command.length > 0 && command[0] !== 'keys' || command.length === 2) expect(res.stdout).toMatch(/Exit codes: 0 ok, 1 check or operation failed, 2 usage error/);
    }
  });

  it('answers an unknown command or flag with one line and exit code 2', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const flag = await runCli(['token', '--scopes', 'x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--scopes'/);
    expect((await runCli([])).code).toBe(2);
  });

  it('uses no colour when stdout is not a terminal', async () => {
    const res = await runCli(['doctor', '--help']);
    expect(res.stdout.includes(String.fromCharCode(27))).toBe(false);
  });
});
