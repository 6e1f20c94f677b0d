// portvakt doctor's Skyporten step against the simulator as Skyporten: it shows the sub and aud
// the cloud will see, compares them with the trust given, and names each cloud's error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCli, expectNoSecrets, runCli, secretsOfKeyFile, tempDir } from './helpers.js';

const AUDIENCE = 'https://skyporten.example.no';
let sky: MaskinportenSimulator;
let env: Record<string, string>;
let secrets: string[];

interface Report {
  ok: boolean;
  steps: { name: string; status: string; summary: string; fix?: string; details?: Record<string, unknown> }[];
}

beforeAll(async () => {
  buildCli();
  const dir = tempDir();
  const made = await runCli(['keygen', '--kid', 'sky-key', '--out', dir, '--json']);
  const { jwks } = JSON.parse(made.stdout) as { jwks: { keys: Record<string, string>[] } };
  const jwkFile = path.join(dir, 'sky-key.private.jwk.json');
  secrets = secretsOfKeyFile(jwkFile);
  sky = await startMaskinportenSimulator({ skyporten: true, clients: [{ clientId: 'sky-app', orgno: '991825827', scopes: ['demo:sky'], jwks: jwks.keys }] });
  env = { MASKINPORTEN_CLIENT_ID: 'sky-app', MASKINPORTEN_SCOPES: 'demo:sky', MASKINPORTEN_CLIENT_JWK: readFileSync(jwkFile, 'utf8'), MASKINPORTEN_WELL_KNOWN_URL: sky.metadataUrl };
});
afterAll(() => sky?.close());

const doctor = async (...args: string[]) => {
  const result = await runCli(['doctor', '--skyporten-audience', AUDIENCE, ...args], { env });
  expectNoSecrets(result, secrets);
  return { code: result.code, stdout: result.stdout, report: args.includes('--json') ? (JSON.parse(result.stdout) as Report) : undefined };
};

it('shows the iss, sub and aud the cloud will see, and passes when the trust matches', async () => {
  const { code, report } = await doctor('--json', '--trust-issuer', sky.issuer, '--trust-subject', '0192:991825827;demo:sky', '--trust-audience', AUDIENCE);
  expect(code).toBe(0);
  const step = report?.steps.find((s) => s.name === 'skyporten');
  expect(step).toMatchObject({ status: 'ok', details: { iss: sky.issuer, sub: '0192:991825827;demo:sky', aud: AUDIENCE } });
  expect(step?.summary).toMatch(/Matches the trust's issuer, subject, audience/);
});

it('fails on an issuer that differs in the trailing slash, naming the error each cloud gives', async () => {
  const { code, stdout } = await doctor('--trust-issuer', `${sky.issuer}/`);
  expect(code).toBe(1);
  expect(stdout).toMatch(/✗ skyporten .*differs only in the trailing slash.*AADSTS70021/);
  expect(stdout).toMatch(/fix: set the trust's issuer to http:\/\/127\.0\.0\.1:\d+, exactly \(Skyporten's issuer has no trailing slash\)/);
});

it('fails on another audience or subject with that cloud\'s error', async () => {
  const audience = await doctor('--json', '--cloud', 'aws', '--trust-audience', 'https://other.example.no');
  expect(audience.report?.steps.at(-1)).toMatchObject({ name: 'skyporten', status: 'fail', details: { mismatch: 'audience' } });
  expect(audience.report?.steps.at(-1)?.summary).toMatch(/Expect AWS: InvalidIdentityToken \("Incorrect token audience"\)\.$/);
  const subject = await doctor('--json', '--cloud', 'google', '--trust-subject', '0192:991825827;demo:other');
  expect(subject.report?.steps.at(-1)?.summary).toMatch(/PERMISSION_DENIED/);
  expect(subject.report?.steps.at(-1)?.fix).toMatch(/must name the subject 0192:991825827;demo:sky/);
});
