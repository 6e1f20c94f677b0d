// Which kid a key signs under. A JWK's own kid is the key's kid (it is registered under it); a
// configured kid is for a key form that carries none (a PEM key, a registered certificate). A
// followed file that rotates to a JWK with a new kid is taken under that kid; new key material
// under the unchanged configured kid is refused with `kid-unchanged`, since a client holds one key
// per kid (docs/maskinporten-rules.md §4.2) and Maskinporten refuses that key under that kid
// (MP-124) while the old one is registered. Real files, swapped as kubelet does it, and the real
// simulator, which checks each grant's signature against the key registered under its kid.
import { createPrivateKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, createMaskinportenClient, DIAGNOSTICS_CHANNELS, fromEnv } from '@portvakt/core';
import type { DiagnosticsPayloads, KeyInput, MaskinportenClient } from '@portvakt/core';
import { createTestPki, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { identityOf, kidOfToken, secretMount, waitFor } from './harness.js';

const ORG = '991825827';
const POLL_MS = 2_000;
const key1 = generateClientKey({ kid: 'acme-2026-11' });
const key2 = generateClientKey({ kid: 'acme-2027-11' });
const pki = createTestPki();
const certificate = pki.issueEnterpriseCertificate({ orgno: ORG });
const renewed = pki.issueEnterpriseCertificate({ orgno: ORG });

let sim: MaskinportenSimulator;
let root: string;
const clients: MaskinportenClient[] = [];
const changes: DiagnosticsPayloads['keyChange'][] = [];
const refusals: DiagnosticsPayloads['keyRefused'][] = [];
const onChange = (message: unknown) => changes.push(message as DiagnosticsPayloads['keyChange']);
const onRefused = (message: unknown) => refusals.push(message as DiagnosticsPayloads['keyRefused']);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'portvakt-kid-'));
  // Both keys registered, each under its own kid, as in a rotation; the certificate under its kid.
  sim = await startMaskinportenSimulator({
    trustedCaPems: pki.trustedCaPems,
    clients: [{ clientId: 'rotating', orgno: ORG, scopes: ['demo:read'], jwks: [key1.publicJwk, key2.publicJwk], registeredCertificates: [{ kid: 'cert-kid', certificatePem: certificate.certificatePem }] }],
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
  await Promise.all(clients.splice(0).map((c) => c.close()));
  changes.length = 0;
  refusals.length = 0;
});

function clientWith(key: KeyInput): MaskinportenClient {
  const client = createMaskinportenClient({ clientId: 'rotating', environment: sim.environment(), key, scope: 'demo:read' });
  clients.push(client);
  return client;
}

/** A fresh token (the cached one dropped, as after a 401 or its expiry), and the kid its grant carried. */
async function freshKid(client: MaskinportenClient): Promise<string | undefined> {
  client.invalidate(await client.getToken());
  return kidOfToken(sim, (await client.getToken()).accessToken);
}

const pemOf = (jwk: JsonWebKey) => createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();

function configurationError(attempt: () => unknown): ConfigurationError {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('no error');
}

describe('a followed PEM key with its configured kid', () => {
  it('keeps the key in use when new key material comes under the same kid, says why (kid-unchanged), and takes the new key once it comes as a JWK with its new kid', async () => {
    const mount = secretMount(root, 'pem');
    mount.write({ 'key.pem': pemOf(key1.privateJwk) });
    const client = clientWith({ file: mount.path('key.pem'), kid: 'acme-2026-11', follow: { pollInterval: POLL_MS } });
    expect(await freshKid(client)).toBe('acme-2026-11');

    // The secret rotates to the next key, still as PEM: the configured kid cannot name it.
    mount.write({ 'key.pem': pemOf(key2.privateJwk) });
    await waitFor(() => refusals.length === 1, 'the new PEM key to be refused', POLL_MS + 1_000);
    expect(refusals[0]).toMatchObject({ clientId: 'rotating', file: mount.path('key.pem'), problem: 'kid-unchanged', code: 'ERR_PORTVAKT_KEY', identity: identityOf('acme-2026-11', key1.publicJwk) });
    expect(refusals[0]!.message).toMatch(/new key under the kid in use \("acme-2026-11"\)/);
    expect(refusals[0]!.message).toMatch(/JWK with its own new kid .*portvakt keys rotate.*or restart/);
    expect(changes).toEqual([]);
    // The key in use still works: every token is still signed with the key registered under its kid.
    expect(await freshKid(client)).toBe('acme-2026-11');
    expect(sim.requests.at(-1)?.status).toBe(200);

    // Written the way `portvakt keys rotate` writes it, a JWK with its own kid: taken.
    mount.write({ 'key.pem': JSON.stringify(key2.privateJwk) });
    await waitFor(() => changes.length === 1, 'the JWK with its new kid to be taken', POLL_MS + 1_000);
    expect(changes[0]).toMatchObject({ identity: identityOf('acme-2027-11', key2.publicJwk), previousIdentity: identityOf('acme-2026-11', key1.publicJwk) });
    expect(await freshKid(client)).toBe('acme-2027-11');
    expect(refusals).toHaveLength(1);
  });

  it('refuses a renewed certificate under the kid the old one is registered with (PKCS#12 with kid)', async () => {
    const mount = secretMount(root, 'p12');
    mount.write({ 'virksomhet.p12': certificate.toPkcs12('pw') });
    const client = clientWith({ file: mount.path('virksomhet.p12'), passphrase: 'pw', kid: 'cert-kid', follow: { pollInterval: POLL_MS } });
    expect(await freshKid(client)).toBe('cert-kid');
    mount.write({ 'virksomhet.p12': renewed.toPkcs12('pw') });
    await waitFor(() => refusals.length === 1, 'the renewed certificate to be refused', POLL_MS + 1_000);
    expect(refusals[0]).toMatchObject({ problem: 'kid-unchanged', code: 'ERR_PORTVAKT_KEY' });
    expect(client.certificate?.thumbprintS256).toBe(certificate.thumbprintS256);
    expect(await freshKid(client)).toBe('cert-kid');
    expect(changes).toEqual([]);
  });
});

describe('a JWK\'s own kid', () => {
  it('is taken while following, over MASKINPORTEN_KID: the secret rotates to a JWK with a new kid (fromEnv with MASKINPORTEN_CLIENT_JWK_PATH)', async () => {
    const mount = secretMount(root, 'nais');
    mount.write({ MASKINPORTEN_CLIENT_JWK: JSON.stringify(key1.privateJwk) });
    const options = fromEnv({ MASKINPORTEN_CLIENT_ID: 'rotating', MASKINPORTEN_WELL_KNOWN_URL: sim.metadataUrl, MASKINPORTEN_SCOPES: 'demo:read', MASKINPORTEN_CLIENT_JWK_PATH: mount.path('MASKINPORTEN_CLIENT_JWK'), MASKINPORTEN_KID: 'acme-2026-11' });
    const client = clientWith({ ...(options.key as { file: string }), follow: { pollInterval: POLL_MS } });
    expect(await freshKid(client)).toBe('acme-2026-11');
    mount.write({ MASKINPORTEN_CLIENT_JWK: JSON.stringify(key2.privateJwk) });
    await waitFor(() => changes.length === 1, 'the rotated JWK to be taken', POLL_MS + 1_000);
    expect(changes[0]).toMatchObject({ identity: identityOf('acme-2027-11', key2.publicJwk), previousIdentity: identityOf('acme-2026-11', key1.publicJwk) });
    expect(await freshKid(client)).toBe('acme-2027-11');
    expect(sim.requests.at(-1)?.status).toBe(200);
    expect(refusals).toEqual([]);
  });

  it('is the kid: a configured kid that contradicts it is refused at creation, naming both and the fix', () => {
    for (const attempt of [
      () => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { jwk: key2.privateJwk, kid: 'acme-2026-11' } }),
      () => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { jwk: JSON.stringify(key2.privateJwk), kid: 'acme-2026-11' } }),
    ]) {
      const error = configurationError(attempt);
      expect(error.field).toBe('key.kid');
      expect(error.message).toMatch(/is "acme-2026-11" but the JWK's own kid is "acme-2027-11".*Drop the configured kid, or correct it/);
    }
    const file = join(root, 'contradicted.json');
    writeFileSync(file, JSON.stringify(key2.privateJwk));
    const fromFile = configurationError(() => createMaskinportenClient({ clientId: 'c', environment: 'test', key: { file, kid: 'acme-2026-11' } }));
    expect(fromFile).toMatchObject({ field: 'key.kid', message: expect.stringMatching(/"acme-2026-11" but the JWK's own kid is "acme-2027-11"/) });
    const client = clientWith({ jwk: key2.privateJwk });
    expect(() => client.setKey({ file, kid: 'acme-2026-11' })).toThrow(/own kid is "acme-2027-11"/);
    const env = { MASKINPORTEN_CLIENT_ID: 'c', MASKINPORTEN_ENVIRONMENT: 'test', MASKINPORTEN_KID: 'acme-2026-11' };
    expect(configurationError(() => fromEnv({ ...env, MASKINPORTEN_CLIENT_JWK_PATH: file }))).toMatchObject({ field: 'MASKINPORTEN_KID', message: expect.stringMatching(/Drop MASKINPORTEN_KID, or correct it/) });
    expect(configurationError(() => fromEnv({ ...env, MASKINPORTEN_CLIENT_JWK: JSON.stringify(key2.privateJwk) }))).toMatchObject({ field: 'MASKINPORTEN_KID' });
  });

  it('is absent from some JWKs: then the configured kid is used, and the same kid as the JWK\'s own is accepted', async () => {
    const { kid: _kid, ...withoutKid } = key1.privateJwk;
    const client = clientWith({ jwk: withoutKid, kid: 'acme-2026-11' });
    expect(await freshKid(client)).toBe('acme-2026-11');
    expect(client.setKey({ jwk: key2.privateJwk, kid: 'acme-2027-11' })).toBe(identityOf('acme-2027-11', key2.publicJwk));
    expect(await freshKid(client)).toBe('acme-2027-11');
  });
});
