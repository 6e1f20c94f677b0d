// portvakt doctor on a NAIS Texas set-up, against the simulator's Texas: a real token request, and
// what each error means.
import { createServer } from 'node:net';
import { startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, expectNoSecrets, runCli } from './helpers.js';

let sim: MaskinportenSimulator;
let closedPort: number;

interface DoctorReport {
  ok: boolean;
  steps: { name: string; status: string; summary: string; fix?: string; details?: Record<string, unknown> }[];
}

beforeAll(async () => {
  buildCli();
  sim = await startMaskinportenSimulator({ texas: { client: { clientId: 'nais-app', orgno: '889640782', scopes: ['nav:a'] } } });
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(() => sim.close());
afterEach(() => {
  sim.reset();
  sim.texas!.setMaskinportenEnabled(true);
});

const nais = (extra: Record<string, string> = {}) => ({ ...sim.texas!.env(), MASKINPORTEN_SCOPES: 'nav:a', ...extra });

async function doctor(env: Record<string, string>, args: string[] = []): Promise<{ report: DoctorReport; code: number | null }> {
  const json = await runCli(['doctor', '--json', '--timeout', '2', ...args], { env });
  expectNoSecrets(json, []);
  return { report: JSON.parse(json.stdout) as DoctorReport, code: json.code };
}
const step = (report: DoctorReport, name: string) => report.steps.find((s) => s.name === name);

describe('portvakt doctor with NAIS Texas', () => {
  it('passes a working Texas: one token request, no key needed, and no token printed', async () => {
    const { report, code } = await doctor(nais());
    expect(code).toBe(0);
    expect(report.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['options:ok', 'token:ok']);
    expect(step(report, 'options')?.summary).toBe(`NAIS Texas at ${sim.texas!.tokenEndpoint}, scope nav:a.`);
    expect(step(report, 'token')?.details).toMatchObject({ expiresIn: expect.any(Number), tokenType: 'Bearer' });
    expect(sim.texas!.tokenRequestCount()).toBe(1);
    const human = await runCli(['doctor'], { env: nais() });
    expectNoSecrets(human, []);
    expect(human.stdout).toMatch(/✓ token +Texas gave a token in \d+ ms/);
    expect(human.stdout).toMatch(/The setup works\./);
  });

  it('"not enabled": names the manifest setting', async () => {
    sim.texas!.setMaskinportenEnabled(false);
    const { report, code } = await doctor(nais());
    expect(code).toBe(1);
    expect(step(report, 'token')).toMatchObject({ status: 'fail', summary: expect.stringContaining("identity provider 'maskinporten' is not enabled"), fix: expect.stringContaining('spec.maskinporten.enabled: true') });
  });

  it("invalid_scope: Maskinporten's code, and the manifest's scope list", async () => {
    const { report } = await doctor(nais(), ['--scope', 'nav:other']);
    expect(step(report, 'token')).toMatchObject({ status: 'fail', fix: expect.stringContaining('spec.maskinporten.scopes.consumes'), details: { error: 'invalid_scope', mpCode: 'MP-200', status: 400 } });
  });

  it('Maskinporten down behind Texas: Texas answers 500, and the doctor says Texas could not reach Maskinporten', async () => {
    sim.inject({ kind: 'status', status: 503 }, { times: Infinity });
    const { report } = await doctor(nais());
    expect(step(report, 'token')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^Texas answered HTTP 500: it could not get a token from Maskinporten/) });
  });

  it('nothing at NAIS_TOKEN_ENDPOINT: says how to run Texas locally', async () => {
    const { report } = await doctor(nais({ NAIS_TOKEN_ENDPOINT: `http://127.0.0.1:${closedPort}/api/v1/token` }));
    expect(step(report, 'token')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^Nothing answers at/), fix: expect.stringContaining('portvakt-simulator') });
  });

  it('options Texas cannot serve fail before any request: consumerOrg, no scope, a plain-http endpoint', async () => {
    const customer = await doctor(nais(), ['--consumer-org', '910753614']);
    expect(customer.report.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['options:fail', 'token:skipped']);
    expect(step(customer.report, 'options')?.summary).toMatch(/consumer_org.*createMaskinportenClient\(\)/);
    const noScope = await doctor({ ...sim.texas!.env() });
    expect(step(noScope.report, 'options')?.fix).toMatch(/spec\.maskinporten\.scopes\.consumes/);
    const plain = await doctor(nais(), ['--texas-endpoint', 'http://texas.example.no/api/v1/token']);
    expect(step(plain.report, 'options')).toMatchObject({ status: 'fail', summary: expect.stringContaining('must use https') });
    expect(sim.texas!.tokenRequestCount()).toBe(0);
  });

  it('checks the client, not Texas, when a key is named', async () => {
    const { report } = await doctor(nais(), ['--client-id', 'nais-app']);
    expect(report.steps[0]?.summary).not.toMatch(/Texas/);
    expect(sim.texas!.tokenRequestCount()).toBe(0);
  });
});
