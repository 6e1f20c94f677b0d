// A key that follows its file: a Kubernetes secret remounted the way kubelet does it (new
// timestamped folder, `..data` swapped), editors writing in place, files cut short or deleted, and
// file systems that cannot be watched (the poll). Real files, the real simulator; the watcher needs
// real time, so each wait is bounded and short, and the poll is tested on fake timers.
import diagnostics from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, createMaskinportenClient, DIAGNOSTICS_CHANNELS, fromEnv, KeyError, readKeyFile } from '@portvakt/core';
import type { DiagnosticsPayloads, MaskinportenClient } from '@portvakt/core';
import { createTestPki, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { identityOf, kidOfToken as kidOf, secretMount as mountIn, waitFor } from './harness.js';

const ORG = '991825827';
const NAME = 'MASKINPORTEN_CLIENT_JWK';
const key1 = generateClientKey({ kid: 'mounted-key-1' });
const key2 = generateClientKey({ kid: 'mounted-key-2' });
const key3 = generateClientKey({ kid: 'mounted-key-3' });
const small = generateClientKey({ kid: 'too-small', modulusLength: 1024 });
const pki = createTestPki();
const certificate = pki.issueEnterpriseCertificate({ orgno: ORG });
/** The delay the docs promise in every case: the poll. The watcher is much quicker. */
const POLL_MS = 2_000;

let sim: MaskinportenSimulator;
let root: string;
const clients: MaskinportenClient[] = [];
const changes: DiagnosticsPayloads['keyChange'][] = [];
const refusals: DiagnosticsPayloads['keyRefused'][] = [];
const onChange = (message: unknown) => changes.push(message as DiagnosticsPayloads['keyChange']);
const onRefused = (message: unknown) => refusals.push(message as DiagnosticsPayloads['keyRefused']);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'portvakt-follow-'));
  sim = await startMaskinportenSimulator({
    trustedCaPems: pki.trustedCaPems,
    clients: [{ clientId: 'mounted', orgno: ORG, scopes: ['demo:read'], jwks: [key1.publicJwk, key2.publicJwk, key3.publicJwk], registeredCertificates: [{ kid: 'cert-kid', certificatePem: certificate.certificatePem }] }],
  });
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.keyChange, onChange);
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.keyRefused, onRefused);
});
afterAll(async () => {
  diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.keyChange, onChange);
  diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.keyRefused, onRefused);
  await sim?.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  changes.length = 0;
  refusals.length = 0;
});

const kidOfToken = (accessToken: string) => kidOf(sim, accessToken);

function follow(key: Parameters<typeof createMaskinportenClient>[0]['key']): MaskinportenClient {
  const client = createMaskinportenClient({ clientId: 'mounted', environment: sim.environment(), key, scope: 'demo:read' });
  clients.push(client);
  return client;
}

describe('a key that follows its Kubernetes secret', () => {
  it('1,000 calls a second while kubelet remounts the secret: every call succeeds, the new key is used within the documented delay, never a token of the old key for the new one; a half-written and a deleted file keep the key', async () => {
    const mount = mountIn(root, 'nais');
    mount.write({ [NAME]: JSON.stringify(key1.privateJwk), MASKINPORTEN_CLIENT_ID: 'mounted' });
    const options = fromEnv({ MASKINPORTEN_CLIENT_ID: 'mounted', MASKINPORTEN_ISSUER: sim.issuer, MASKINPORTEN_TOKEN_ENDPOINT: sim.tokenEndpoint, MASKINPORTEN_CLIENT_JWK_PATH: mount.path(NAME) });
    const client = follow({ ...options.key, follow: { pollInterval: POLL_MS } } as typeof options.key);

    // The load: 1,000 calls a second (each tick makes up for timer lag); every 50th call drops its
    // token, so fetches go on all along.
    const calls: { startedAt: number; kid?: string | undefined; error?: unknown }[] = [];
    let running = true;
    let n = 0;
    const inFlight = new Set<Promise<void>>();
    const loadStart = performance.now();
    const tick = setInterval(() => {
      if (!running) return;
      const due = Math.floor(performance.now() - loadStart) - n;
      for (let i = 0; i < due; i++) {
        const call: (typeof calls)[number] = { startedAt: performance.now() };
        calls.push(call);
        const index = (n += 1);
        const done = client.getToken().then(
          (token) => {
            call.kid = kidOfToken(token.accessToken);
            if (index % 50 === 0) client.invalidate(token);
          },
          (error: unknown) => {
            call.error = error;
          },
        );
        inFlight.add(done);
        void done.finally(() => inFlight.delete(done));
      }
    }, 10);

    try {
      await waitFor(() => calls.some((c) => c.kid === 'mounted-key-1'), 'the first token of the first key');
      await new Promise((resolve) => setTimeout(resolve, 300));

      // kubelet remounts the secret with the next key.
      const swappedAt = performance.now();
      mount.write({ [NAME]: JSON.stringify(key2.privateJwk), MASKINPORTEN_CLIENT_ID: 'mounted' });
      await waitFor(() => changes.length === 1, 'the client to take the new key', POLL_MS + 1_000);
      const takenAt = performance.now();
      expect(changes[0]).toEqual({ clientId: 'mounted', identity: identityOf('mounted-key-2', key2.publicJwk), previousIdentity: identityOf('mounted-key-1', key1.publicJwk), file: mount.path(NAME) });
      await waitFor(() => calls.some((c) => c.kid === 'mounted-key-2'), 'the first token of the new key');
      const firstNew = Math.min(...calls.filter((c) => c.kid === 'mounted-key-2').map((c) => c.startedAt));
      // Within the documented delay (the poll interval in every case; the watcher is far quicker).
      expect(takenAt - swappedAt).toBeLessThanOrEqual(POLL_MS + 500);
      console.info(`key file followed: new key taken ${Math.round(takenAt - swappedAt)} ms after the swap; first call served with it started ${Math.round(firstNew - swappedAt)} ms after`);

      // A writer cuts the file short in place: the key stays, one event says why.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const text = JSON.stringify(key3.privateJwk);
      mount.writeInPlace(NAME, text.slice(0, Math.floor(text.length / 2)));
      await waitFor(() => refusals.length === 1, 'the refusal of the half-written file', POLL_MS + 1_000);
      expect(refusals[0]).toMatchObject({ clientId: 'mounted', file: mount.path(NAME), problem: 'incomplete', code: 'ERR_PORTVAKT_KEY', identity: identityOf('mounted-key-2', key2.publicJwk) });

      // The key is removed from the secret: the key stays, one event says why.
      await new Promise((resolve) => setTimeout(resolve, 200));
      mount.remove(NAME);
      await waitFor(() => refusals.length === 2, 'the refusal of the deleted file', POLL_MS + 1_000);
      expect(refusals[1]).toMatchObject({ problem: 'missing', code: 'ERR_PORTVAKT_CONFIGURATION', identity: identityOf('mounted-key-2', key2.publicJwk) });
      const fetchesBefore = sim.tokenRequestCount();
      await waitFor(() => sim.tokenRequestCount() >= fetchesBefore + 3 && performance.now() - loadStart > 2_000, 'more fetches after the file was deleted');
    } finally {
      running = false;
      clearInterval(tick);
      await Promise.all(inFlight);
    }

    const failed = calls.filter((c) => c.error !== undefined);
    expect(failed).toEqual([]);
    const seconds = (calls.at(-1)!.startedAt - calls[0]!.startedAt) / 1000;
    expect(calls.length).toBeGreaterThan(1_500);
    console.info(`key file followed: ${calls.length} calls in ${seconds.toFixed(1)} s (${Math.round(calls.length / seconds)} a second), ${sim.tokenRequestCount()} token requests, none failed`);
    // No call that started once the new key was taken got a token of the old key.
    const switchedAt = calls.find((c) => c.kid === 'mounted-key-2')!.startedAt;
    const kidsAfter = new Set(calls.filter((c) => c.startedAt > switchedAt + 1).map((c) => c.kid));
    expect(kidsAfter).toEqual(new Set(['mounted-key-2']));
    expect(changes).toHaveLength(1);
    // The events carry no key material.
    const published = JSON.stringify([changes, refusals]);
    for (const secret of [key1, key2, key3].flatMap((k) => [k.privateJwk.d, k.privateJwk.p, k.privateJwk.q])) expect(published).not.toContain(String(secret));
  }, 20_000);
});

describe('following a key file', () => {
  it('where the folder cannot be watched, the poll takes the new key after pollInterval (fake timers)', async () => {
    const dir = join(root, 'polled');
    mkdirSync(dir);
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(key1.privateJwk));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const client = follow({ file, follow: { pollInterval: 60_000, watch: false } });
    expect((await client.getToken()).accessToken).toBeTruthy();
    writeFileSync(file, JSON.stringify(key2.privateJwk));
    vi.advanceTimersByTime(59_999);
    expect(changes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(changes.map((c) => c.identity)).toEqual([identityOf('mounted-key-2', key2.publicJwk)]);
    const token = await client.getToken();
    expect(kidOfToken(token.accessToken)).toBe('mounted-key-2');
    // Nothing changed: the next poll reads the file and does nothing.
    vi.advanceTimersByTime(60_000);
    expect(changes).toHaveLength(1);
  });

  it('reports each bad state once (empty, cut short, not a key Maskinporten takes, deleted), keeps the key, and takes an editor\'s in-place write', async () => {
    const dir = join(root, 'edited');
    mkdirSync(dir);
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(key1.privateJwk));
    const client = follow({ file, follow: { pollInterval: POLL_MS } });
    await client.getToken();
    const states: [text: string, problem: string][] = [
      ['', 'empty'],
      [JSON.stringify(key3.privateJwk).slice(0, 300), 'incomplete'],
      [JSON.stringify(small.privateJwk), 'invalid'],
    ];
    for (const [text, problem] of states) {
      writeFileSync(file, text);
      await waitFor(() => refusals.some((r) => r.problem === problem), `the ${problem} file to be reported`, POLL_MS + 1_000);
      expect(refusals.at(-1)).toMatchObject({ problem, code: 'ERR_PORTVAKT_KEY', identity: identityOf('mounted-key-1', key1.publicJwk) });
    }
    rmSync(file);
    await waitFor(() => refusals.some((r) => r.problem === 'missing'), 'the deleted file to be reported', POLL_MS + 1_000);
    // Once each, though the poll and the watcher read the file again and again.
    expect(refusals.map((r) => r.problem)).toEqual(['empty', 'incomplete', 'invalid', 'missing']);
    expect(changes).toEqual([]);
    client.invalidate(await client.getToken());
    expect(kidOfToken((await client.getToken()).accessToken)).toBe('mounted-key-1');
    // An editor writes the next key in place.
    writeFileSync(file, JSON.stringify(key2.privateJwk));
    await waitFor(() => changes.length === 1, 'the edited key to be taken', POLL_MS + 1_000);
    expect(changes[0]).toMatchObject({ identity: identityOf('mounted-key-2', key2.publicJwk), previousIdentity: identityOf('mounted-key-1', key1.publicJwk), file });
    expect(kidOfToken((await client.getToken()).accessToken)).toBe('mounted-key-2');
    expect(JSON.stringify(refusals)).not.toContain(String(key3.privateJwk.d).slice(0, 20));
  });

  it('follows a certificate chain and its key in two files, and a PKCS#12 bundle with its passphrase', async () => {
    const dir = join(root, 'certificates');
    mkdirSync(dir);
    const keyFile = join(dir, 'tls.key');
    const chainFile = join(dir, 'tls.crt');
    writeFileSync(keyFile, certificate.privateKeyPem);
    writeFileSync(chainFile, certificate.chainPem);
    const chained = follow({ file: keyFile, certificateFile: chainFile, kid: 'cert-kid', follow: { pollInterval: POLL_MS } });
    await chained.getToken();
    const renewed = pki.issueEnterpriseCertificate({ orgno: ORG });
    writeFileSync(chainFile, renewed.chainPem);
    // The chain no longer matches the key: refused, the old pair stays.
    await waitFor(() => refusals.length === 1, 'the mismatched chain to be refused', POLL_MS + 1_000);
    expect(refusals[0]).toMatchObject({ problem: 'invalid', code: 'ERR_PORTVAKT_CERTIFICATE' });

    const p12 = join(dir, 'virksomhet.p12');
    writeFileSync(p12, certificate.toPkcs12('pw'));
    const bundle = follow({ file: p12, passphrase: 'pw', kid: 'cert-kid' });
    expect(bundle.certificate?.orgno).toBe(ORG);
    await bundle.getToken();
    writeFileSync(p12, certificate.toPkcs12('pw').subarray(0, 300));
    await waitFor(() => refusals.length === 2, 'the cut PKCS#12 file to be refused', POLL_MS + 1_000);
    expect(refusals[1]).toMatchObject({ problem: 'incomplete', file: p12 });
  });

  it('setKey() with a { file } key follows it; another key and close() end the following', async () => {
    const dir = join(root, 'set-key');
    mkdirSync(dir);
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(key2.privateJwk));
    const client = follow({ jwk: key1.privateJwk });
    expect(client.setKey({ file, follow: { pollInterval: POLL_MS } })).toBe(identityOf('mounted-key-2', key2.publicJwk));
    expect(changes.at(-1)).toMatchObject({ identity: identityOf('mounted-key-2', key2.publicJwk), previousIdentity: identityOf('mounted-key-1', key1.publicJwk), file });
    writeFileSync(file, JSON.stringify(key3.privateJwk));
    await waitFor(() => changes.length === 2, 'the file to be followed after setKey()', POLL_MS + 1_000);
    client.setKey({ jwk: key1.privateJwk });
    expect(changes.at(-1)).toMatchObject({ identity: identityOf('mounted-key-1', key1.publicJwk), file: undefined });
    writeFileSync(file, JSON.stringify(key2.privateJwk));
    const second = follow({ file, follow: { pollInterval: POLL_MS } });
    await second.close();
    writeFileSync(file, JSON.stringify(key3.privateJwk));
    // Neither the client that stopped following nor the closed one takes it (a bounded wait).
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(changes).toHaveLength(3);
  });

  it('is the client\'s own copy of the option: changing the object later changes nothing', async () => {
    const dir = join(root, 'copied');
    mkdirSync(dir);
    const file = join(dir, 'key.json');
    const other = join(dir, 'other.json');
    writeFileSync(file, JSON.stringify(key1.privateJwk));
    writeFileSync(other, JSON.stringify(key2.privateJwk));
    const option = { file, kid: undefined as string | undefined, follow: { pollInterval: POLL_MS } };
    const client = follow(option);
    option.file = other;
    option.kid = 'mounted-key-3';
    option.follow.pollInterval = 1;
    writeFileSync(file, JSON.stringify(key3.privateJwk));
    await waitFor(() => changes.length === 1, 'the original file to be followed', POLL_MS + 1_000);
    expect(changes[0]).toMatchObject({ identity: identityOf('mounted-key-3', key3.publicJwk), file });
    expect(kidOfToken((await client.getToken()).accessToken)).toBe('mounted-key-3');
  });

  it('refuses a bad key file option at construction, naming the field and the fix', () => {
    const file = join(root, 'options.json');
    writeFileSync(file, JSON.stringify(key1.privateJwk));
    const fieldOf = (key: unknown) => {
      try {
        createMaskinportenClient({ clientId: 'c', environment: 'test', key: key as never });
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        return [(error as ConfigurationError).field ?? (error as Error).name, (error as Error).message] as const;
      }
      throw new Error('no error');
    };
    expect(fieldOf({ file: join(root, 'absent.json') })).toEqual(['key.file', expect.stringMatching(/ENOENT/)]);
    expect(fieldOf({ file, follow: { pollIntervall: 10 } })).toEqual(['key.follow.pollIntervall', expect.stringMatching(/did you mean "pollInterval"/)]);
    expect(fieldOf({ file, follow: { pollInterval: 10 } })).toEqual(['key.follow.pollInterval', expect.stringMatching(/from 50 to 86400000/)]);
    expect(fieldOf({ file, follow: 'yes' })).toEqual(['key.follow', expect.any(String)]);
    expect(fieldOf({ file, certificate: 'x' })).toEqual(['key.certificate', expect.stringMatching(/not a field/)]);
    expect(fieldOf({ file: '' })).toEqual(['key.file', expect.any(String)]);
    const pem = join(root, 'options.pem');
    writeFileSync(pem, key1.privateKeyPem);
    expect(fieldOf({ file: pem })).toEqual(['key.kid', expect.stringMatching(/registered with Digdir/)]);
  });
});

describe('readKeyFile()', () => {
  it('reads every form from the content, and never quotes the file in an error', () => {
    const dir = join(root, 'forms');
    mkdirSync(dir);
    const write = (name: string, data: string | Uint8Array) => {
      writeFileSync(join(dir, name), data);
      return join(dir, name);
    };
    expect(readKeyFile({ file: write('k.json', JSON.stringify(key1.privateJwk)) })).toMatchObject({ form: 'jwk', key: { jwk: { kid: 'mounted-key-1' } } });
    expect(readKeyFile({ file: write('set.json', JSON.stringify({ keys: [key1.publicJwk, key1.privateJwk] })) }).form).toBe('jwk');
    expect(readKeyFile({ file: write('k.pem', key1.privateKeyPem), kid: 'k' })).toMatchObject({ form: 'pem', key: { kid: 'k' } });
    expect(readKeyFile({ file: write('c.pem', `${certificate.chainPem}\n${certificate.privateKeyPem}`) }).form).toBe('certificate');
    expect(readKeyFile({ file: write('b.p12', certificate.toPkcs12('pw')), passphrase: 'pw' }).form).toBe('pkcs12');
    const broken = `${JSON.stringify(key1.privateJwk).slice(0, -1)},}`;
    const errors = [
      () => readKeyFile({ file: write('broken.json', broken) }),
      () => readKeyFile({ file: write('public.json', JSON.stringify(key1.publicJwk)) }),
      () => readKeyFile({ file: write('cut.json', JSON.stringify(key1.privateJwk).slice(0, 100)) }),
      () => readKeyFile({ file: write('nopass.p12', certificate.toPkcs12('pw')) }),
    ];
    for (const attempt of errors) {
      let caught: unknown;
      try {
        attempt();
      } catch (error) {
        caught = error;
      }
      expect(caught instanceof KeyError || caught instanceof ConfigurationError).toBe(true);
      const shown = `${(caught as Error).message} ${inspect(caught)} ${JSON.stringify(caught)}`;
      expect(shown).not.toContain(String(key1.privateJwk.d).slice(0, 20));
      expect(shown).not.toContain(String(key1.privateJwk.n).slice(0, 20));
    }
  });
});
