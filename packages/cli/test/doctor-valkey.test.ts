// portvakt doctor --valkey: the built bin against a real redis-server with a TLS port, the
// variables NAIS injects, and the ACL NAIS gives its users (no INFO).
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAIS_READ_ACL, NAIS_READWRITE_ACL, addAclUser, command, createTestTls, freePort, startRedisServer, startSilentServer } from '../../redis/test/redis-server.js';
import type { RedisServer, TestTls } from '../../redis/test/redis-server.js';
import { buildCli, expectNoSecrets, runCli, tempDir } from './helpers.js';

const RW_PASSWORD = 'AVNS_doctor-ReadWrite_0001';
const R_PASSWORD = 'AVNS_doctor-ReadOnly_0002';
const key = generateClientKey({ kid: 'doctor-valkey' });
let tls: TestTls;
let dir: string;
let caFile: string;
let tlsPort: number;
let server: RedisServer;
let silent: { port: number; stop(): Promise<void> };
let sim: MaskinportenSimulator;

interface DoctorReport {
  ok: boolean;
  steps: { name: string; status: string; summary: string; fix?: string; details?: Record<string, unknown> }[];
}

beforeAll(async () => {
  buildCli();
  tls = createTestTls();
  dir = tempDir();
  caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, tls.ca);
  tlsPort = await freePort();
  server = await startRedisServer({ args: tls.serverArgs(tlsPort) });
  await addAclUser(server.port, 'app-rw', RW_PASSWORD, NAIS_READWRITE_ACL);
  await addAclUser(server.port, 'app-r', R_PASSWORD, NAIS_READ_ACL);
  silent = await startSilentServer();
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'app', orgno: '991825827', scopes: ['demo:read'], jwks: [key.publicJwk] }] });
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await silent?.stop();
  await server?.stop();
  tls?.remove();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** A healthy Maskinporten set-up, the test CA for Node, and what NAIS injects for the `sessions` instance. */
const env = (valkey: Record<string, string> = {}): Record<string, string> => ({
  MASKINPORTEN_CLIENT_ID: 'app', MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_CLIENT_JWK: JSON.stringify(key.privateJwk), MASKINPORTEN_WELL_KNOWN_URL: sim.metadataUrl,
  NODE_EXTRA_CA_CERTS: caFile,
  VALKEY_URI_SESSIONS: `valkeys://localhost:${tlsPort}`,
  VALKEY_HOST_SESSIONS: 'localhost',
  VALKEY_PORT_SESSIONS: String(tlsPort),
  VALKEY_USERNAME_SESSIONS: 'app-rw',
  VALKEY_PASSWORD_SESSIONS: RW_PASSWORD,
  ...valkey,
});

/** Runs the doctor with --json and, when asked, once more for people; neither output holds a password. */
async function doctor(variables: Record<string, string>, args: string[], options: { human?: boolean } = {}): Promise<{ report: DoctorReport; code: number | null; human: string }> {
  const json = await runCli(['doctor', '--json', ...args], { env: variables });
  const human = options.human === true ? await runCli(['doctor', ...args], { env: variables }) : undefined;
  for (const result of human === undefined ? [json] : [json, human]) {
    expectNoSecrets(result, [RW_PASSWORD, R_PASSWORD]);
    expect(result.stdout + result.stderr).not.toContain('AVNS_');
  }
  if (human !== undefined) expect(human.code).toBe(json.code);
  return { report: JSON.parse(json.stdout) as DoctorReport, code: json.code, human: human?.stdout ?? '' };
}

const valkeyStep = (report: DoctorReport) => report.steps.find((s) => s.name === 'valkey');

describe('portvakt doctor --valkey', () => {
  it('connects over TLS as the NAIS user, writes, reads and runs a script without INFO, and exits 0', async () => {
    const { report, code, human } = await doctor(env(), ['--valkey', 'sessions'], { human: true });
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['options:ok', 'key:ok', 'metadata:ok', 'clock:ok', 'token:ok', 'scopes:ok', 'valkey:ok']);
    expect(valkeyStep(report)?.details).toMatchObject({ target: 'sessions', host: 'localhost', port: tlsPort, tls: true, username: 'app-rw', server: 'redis', version: expect.stringMatching(/^\d+\./) });
    expect(human).toMatch(new RegExp(`✓ valkey +Connected to valkeys://localhost:${tlsPort} over TLS as user app-rw in \\d+ ms \\(redis [\\d.]+, standalone, master\\); SET NX, GET and a script ran under the user's ACL`));
    expect(human).toMatch(/The setup works/);
    // The check deletes its key (the store's compare-and-delete script): nothing is left.
    expect(await command(server.port, ['KEYS', 'portvakt:*'])).toBe('*0');
  });

  it('takes the instance from PORTVAKT_VALKEY when --valkey is not given, and checks nothing of Valkey without either', async () => {
    const { report, code } = await doctor({ ...env(), PORTVAKT_VALKEY: 'sessions' }, []);
    expect(code).toBe(0);
    expect(valkeyStep(report)?.status).toBe('ok');
    const without = await doctor(env(), []);
    expect(valkeyStep(without.report)).toBeUndefined();
  });

  const broken: { name: string; variables: () => Record<string, string>; args?: string[]; summary: RegExp; fix: RegExp; human?: boolean }[] = [
    {
      name: 'a wrong password', variables: () => env({ VALKEY_PASSWORD_SESSIONS: 'AVNS_rotated-away' }),
      summary: /refused the user name and password of user app-rw \(WRONGPASS\)/, fix: /check VALKEY_USERNAME_SESSIONS and VALKEY_PASSWORD_SESSIONS: NAIS rotates the credentials/,
      human: true,
    },
    {
      name: 'a NAIS read user', variables: () => env({ VALKEY_USERNAME_SESSIONS: 'app-r', VALKEY_PASSWORD_SESSIONS: R_PASSWORD }),
      summary: /user app-r may not write on valkeys:\/\/localhost:\d+: the server refused SET \(NOPERM\)/, fix: /access: readwrite/,
    },
    {
      name: 'an instance NAIS set no variables for', variables: () => env(), args: ['--valkey', 'sesions'],
      summary: /VALKEY_URI_SESIONS.*is not set.*Variables are set for "SESSIONS"/, fix: /set VALKEY_URI_SESIONS/,
    },
    {
      name: 'a certificate the machine does not trust', variables: () => { const { NODE_EXTRA_CA_CERTS: _ca, ...rest } = env(); return rest; },
      summary: /The TLS handshake with valkeys:\/\/localhost:\d+ failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/, fix: /NODE_EXTRA_CA_CERTS/,
    },
    {
      name: 'nothing listening', variables: () => env({ VALKEY_URI_SESSIONS: 'valkeys://127.0.0.1:1' }),
      summary: /Could not connect to valkeys:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/, fix: /check the host and port/,
    },
    {
      name: 'a server that never answers', variables: () => env({ VALKEY_URI_SESSIONS: `valkey://127.0.0.1:${silent.port}` }), args: ['--valkey', 'sessions', '--timeout', '1'],
      summary: /did not answer the connection: no answer in 1000 ms/, fix: /check the host and port/,
    },
  ];

  it.each(broken)('fails the valkey step with what to do, and exits 1: $name', async ({ variables, args, summary, fix, human: asText }) => {
    const { report, code, human } = await doctor(variables(), args ?? ['--valkey', 'sessions'], { human: asText === true });
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    // The Maskinporten steps are not affected.
    expect(report.steps.filter((s) => s.status === 'fail').map((s) => s.name)).toEqual(['valkey']);
    expect(valkeyStep(report)?.summary).toMatch(summary);
    expect(valkeyStep(report)?.fix).toMatch(fix);
    if (asText === true) {
      expect(human).toMatch(/✗ valkey +\S.*\n +fix: \S/);
      expect(human).toMatch(/The valkey step failed/);
    }
  }, 30_000);
});
