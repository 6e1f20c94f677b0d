import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createTestPki, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, expectNoSecrets, runCli, secretsOfKeyFile, tempDir } from './helpers.js';

const ORG = '991825827';
let dir: string;
let jwkFile: string;
let secrets: string[];
let sim: MaskinportenSimulator;
/** Serves with the production issuer name, so a test certificate is out of place. */
let prodSim: MaskinportenSimulator;
/** Its clock runs 30 s ahead of this machine's. */
let skewedSim: MaskinportenSimulator;
let expiredCertFile: string;
let testCertFile: string;
let closedPort: number;

interface DoctorReport {
  ok: boolean;
  steps: { name: string; status: string; summary: string; fix?: string; details?: Record<string, unknown> }[];
}

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  const made = await runCli(['keygen', '--kid', 'app-key', '--out', dir, '--json']);
  const { jwks } = JSON.parse(made.stdout) as { jwks: { keys: Record<string, string>[] } };
  jwkFile = path.join(dir, 'app-key.private.jwk.json');
  const pki = createTestPki({ environment: 'test' });
  const expired = pki.issueEnterpriseCertificate({ orgno: ORG, notBefore: new Date(Date.now() - 400 * 86_400_000), notAfter: new Date(Date.now() - 3 * 86_400_000) });
  const current = pki.issueEnterpriseCertificate({ orgno: ORG });
  expiredCertFile = path.join(dir, 'expired.pem');
  testCertFile = path.join(dir, 'test-cert.pem');
  writeFileSync(expiredCertFile, `${expired.chainPem}\n${expired.privateKeyPem}`, { mode: 0o600 });
  writeFileSync(testCertFile, `${current.chainPem}\n${current.privateKeyPem}`, { mode: 0o600 });
  secrets = [...secretsOfKeyFile(jwkFile), ...secretsOfKeyFile(expiredCertFile).filter((l) => !expired.chainPem.includes(l)), ...secretsOfKeyFile(testCertFile).filter((l) => !current.chainPem.includes(l))];
  const clients = [
    { clientId: 'app', orgno: ORG, scopes: ['demo:read'], jwks: jwks.keys },
    { clientId: 'cert-app', orgno: ORG, scopes: ['demo:read'], acceptCertificates: true },
  ];
  sim = await startMaskinportenSimulator({ clients, trustedCaPems: pki.trustedCaPems });
  prodSim = await startMaskinportenSimulator({ clients, trustedCaPems: pki.trustedCaPems, issuer: 'https://maskinporten.no/' });
  skewedSim = await startMaskinportenSimulator({ clients, clock: { offsetMs: 30_000 } });
  // A port nothing listens on: taken, then given back.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  await Promise.all([sim?.close(), prodSim?.close(), skewedSim?.close()]);
});

const keyEnv = () => ({ MASKINPORTEN_CLIENT_JWK: readFileSync(jwkFile, 'utf8') });
const simEnv = (s: MaskinportenSimulator) => ({ MASKINPORTEN_WELL_KNOWN_URL: s.metadataUrl });
const healthy = () => ({ MASKINPORTEN_CLIENT_ID: 'app', MASKINPORTEN_SCOPES: 'demo:read', ...keyEnv(), ...simEnv(sim) });

async function doctor(env: Record<string, string>, args: string[] = []): Promise<{ report: DoctorReport; code: number | null; human: string }> {
  const json = await runCli(['doctor', '--json', ...args], { env });
  expectNoSecrets(json, secrets);
  const human = await runCli(['doctor', ...args], { env });
  expectNoSecrets(human, secrets);
  expect(human.code).toBe(json.code);
  return { report: JSON.parse(json.stdout) as DoctorReport, code: json.code, human: human.stdout };
}

describe('portvakt doctor', () => {
  it('passes a healthy setup: every step ok, with the kid, thumbprint, timings, clock offset and granted scopes', async () => {
    const { report, code, human } = await doctor(healthy());
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['options:ok', 'key:ok', 'metadata:ok', 'clock:ok', 'token:ok', 'scopes:ok']);
    const key = report.steps.find((s) => s.name === 'key');
    expect(key?.details).toMatchObject({ kind: 'key', kid: 'app-key' });
    expect(key?.details?.thumbprint).toMatch(/^[\w-]{43}$/);
    expect(report.steps.find((s) => s.name === 'metadata')?.details?.ms).toEqual(expect.any(Number));
    expect(report.steps.find((s) => s.name === 'scopes')?.details).toEqual({ requested: ['demo:read'], granted: ['demo:read'] });
    expect(human).toMatch(/The setup works/);
  });

  it('shows a certificate\'s organisation number, CA environment and days left', async () => {
    const { report, code } = await doctor({ MASKINPORTEN_CLIENT_ID: 'cert-app', MASKINPORTEN_SCOPES: 'demo:read', ...simEnv(sim) }, ['--key', testCertFile]);
    expect(code).toBe(0);
    expect(report.steps.find((s) => s.name === 'key')?.details).toMatchObject({ kind: 'certificate', organizationNumber: ORG, ca: 'test', daysLeft: expect.any(Number) });
  });

  const broken: { name: string; env: () => Record<string, string>; args?: () => string[]; step: string; summary: RegExp; fix: RegExp }[] = [
    {
      // A PEM key carries no kid: the one given is sent, and Maskinporten knows no key by it.
      name: 'a wrong kid',
      env: () => ({ MASKINPORTEN_CLIENT_ID: 'app', MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_PRIVATE_KEY: readFileSync(jwkFile.replace(/\.jwk\.json$/, '.pem'), 'utf8'), MASKINPORTEN_KID: 'not-registered', ...simEnv(sim) }),
      step: 'token', summary: /MP-124/, fix: /kid matches the key you sign with/,
    },
    {
      // A JWK is registered under its own kid: another one beside it is refused before any request.
      name: 'a kid that contradicts the JWK', env: () => ({ ...healthy(), MASKINPORTEN_KID: 'not-registered' }),
      step: 'options', summary: /MASKINPORTEN_KID.*"not-registered" but the JWK's own kid is "app-key"/, fix: /MASKINPORTEN_KID/,
    },
    {
      name: 'a wrong client', env: () => ({ ...healthy(), MASKINPORTEN_CLIENT_ID: 'no-such-client' }),
      step: 'token', summary: /MP-100/, fix: /check clientId/,
    },
    {
      name: 'an expired certificate', env: () => ({ MASKINPORTEN_CLIENT_ID: 'cert-app', MASKINPORTEN_SCOPES: 'demo:read', ...simEnv(sim) }), args: () => ['--key', expiredCertFile],
      step: 'key', summary: /expired/, fix: /order a new enterprise certificate/,
    },
    {
      name: 'a test certificate against production',
      env: () => ({ MASKINPORTEN_CLIENT_ID: 'cert-app', MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_ISSUER: prodSim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: prodSim.tokenEndpoint }),
      args: () => ['--key', testCertFile],
      step: 'key', summary: /cannot be used against production Maskinporten \(MP-120\)/, fix: /use your production enterprise certificate/,
    },
    {
      name: 'unreachable metadata', env: () => ({ ...healthy(), MASKINPORTEN_WELL_KNOWN_URL: `http://127.0.0.1:${closedPort}/.well-known/oauth-authorization-server` }),
      step: 'metadata', summary: /could not be reached: the connection failed \(ECONNREFUSED\)/, fix: /check the URL .*firewall/,
    },
    {
      name: 'a clock 30 s off', env: () => ({ ...healthy(), ...simEnv(skewedSim) }),
      step: 'clock', summary: /clock is (29|30|31)\.\d s behind Maskinporten's/, fix: /synchronise the clock with NTP/,
    },
    {
      name: 'a missing scope', env: () => ({ ...healthy(), MASKINPORTEN_SCOPES: 'demo:read demo:admin' }),
      step: 'token', summary: /MP-200/, fix: /add it in Digdir self-service/,
    },
    {
      name: 'a malformed key', env: () => ({ ...healthy(), MASKINPORTEN_CLIENT_JWK: JSON.stringify({ kty: 'RSA', kid: 'app-key', n: 'AQAB', e: 'AQAB', d: 'AQAB' }) }),
      step: 'key', summary: /key/i, fix: /portvakt keygen/,
    },
  ];

  it.each(broken)('stops at the broken step and names the fix: $name', async ({ env, args, step, summary, fix }) => {
    const { report, code, human } = await doctor(env(), args?.() ?? []);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    const failed = report.steps.filter((s) => s.status === 'fail');
    expect(failed.map((s) => s.name)).toEqual([step]);
    expect(failed[0]?.summary).toMatch(summary);
    expect(failed[0]?.fix).toMatch(fix);
    // Every step after the broken one is reported as not run.
    const at = report.steps.findIndex((s) => s.status === 'fail');
    expect(report.steps.slice(at + 1).every((s) => s.status === 'skipped')).toBe(true);
    expect(report.steps).toHaveLength(6);
    expect(human).toMatch(new RegExp(`✗ ${step}`));
    expect(human).toMatch(/fix: /);
  });

  it('reports an options problem first, naming the variable', async () => {
    const { report, code } = await doctor({ MASKINPORTEN_SCOPES: 'demo:read', ...keyEnv(), ...simEnv(sim) });
    expect(code).toBe(1);
    expect(report.steps[0]).toMatchObject({ name: 'options', status: 'fail' });
    expect(report.steps[0]?.summary).toMatch(/MASKINPORTEN_CLIENT_ID/);
  });
});
