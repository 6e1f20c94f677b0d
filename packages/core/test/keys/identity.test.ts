// The identity a key's tokens are cached under: the kid and the RFC 7638 thumbprint of the public
// key, so a token fetched with one key is never served after a switch to another, even under the
// same kid (the owner replaced the key registered under it), and keyChange shows the change.
import { createPrivateKey } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMaskinportenClient, DIAGNOSTICS_CHANNELS, loadSigner } from '@portvakt/core';
import type { DiagnosticsPayloads, MaskinportenClient } from '@portvakt/core';
import { createTestPki, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { identityOf, kidOfToken, rfc7638 } from './harness.js';

const ORG = '991825827';
const before = generateClientKey({ kid: 'same-kid' });
const after = generateClientKey({ kid: 'same-kid' });

let sim: MaskinportenSimulator;
let client: MaskinportenClient | undefined;
const changes: DiagnosticsPayloads['keyChange'][] = [];
const onChange = (message: unknown) => changes.push(message as DiagnosticsPayloads['keyChange']);

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ clients: [{ clientId: 'replaced', orgno: ORG, scopes: ['demo:read'], jwks: [before.publicJwk] }] });
  diagnostics.subscribe(DIAGNOSTICS_CHANNELS.keyChange, onChange);
});
afterAll(async () => {
  diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.keyChange, onChange);
  await sim?.close();
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  changes.length = 0;
});

describe('a key\'s identity', () => {
  it('tells two keys under one kid apart: after setKey() with the other, the old key\'s token is not served', async () => {
    client = createMaskinportenClient({ clientId: 'replaced', environment: sim.environment(), key: { jwk: before.privateJwk }, scope: 'demo:read' });
    const old = await client.getToken();
    // The owner replaces the key registered under the kid, and hands the service the new one.
    sim.addClient({ clientId: 'replaced', orgno: ORG, scopes: ['demo:read'], jwks: [after.publicJwk] });
    const identity = client.setKey({ jwk: after.privateJwk });
    const fresh = await client.getToken();
    expect(fresh.accessToken).not.toBe(old.accessToken);
    expect(sim.tokenRequestCount()).toBe(2);
    expect(kidOfToken(sim, fresh.accessToken)).toBe('same-kid');
    expect(sim.requests.at(-1)?.status).toBe(200);
    // keyChange shows the change.
    expect(identity).toBe(identityOf('same-kid', after.publicJwk));
    expect(changes).toEqual([{ clientId: 'replaced', identity: identityOf('same-kid', after.publicJwk), previousIdentity: identityOf('same-kid', before.publicJwk), file: undefined }]);
  });

  it('is the kid and the RFC 7638 thumbprint of the public key, the same for every form of one key, and nothing more of it', () => {
    const expected = `kid:same-kid;jkt:${rfc7638(before.publicJwk)}`;
    const pem = createPrivateKey({ key: before.privateJwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const signer of [loadSigner({ jwk: before.privateJwk }), loadSigner({ jwk: JSON.stringify(before.privateJwk) }), loadSigner({ pem, kid: 'same-kid' })]) {
      expect(signer.identity).toBe(expected);
      const shown = `${signer.identity} ${inspect(signer)} ${JSON.stringify(signer)}`;
      for (const part of [before.privateJwk.n, before.privateJwk.d, before.privateJwk.p]) expect(shown).not.toContain(String(part).slice(0, 16));
    }
    expect(loadSigner({ jwk: after.privateJwk }).identity).not.toBe(expected);
    // A certificate registered under a kid is known by the kid and its key; one sent as x5c by the certificate.
    const certificate = createTestPki().issueEnterpriseCertificate({ orgno: ORG });
    const certificateKey = createPrivateKey(certificate.privateKeyPem).export({ format: 'jwk' });
    expect(loadSigner({ pkcs12: certificate.toPkcs12('pw'), passphrase: 'pw', kid: 'cert-kid' }).identity).toBe(identityOf('cert-kid', certificateKey));
    expect(loadSigner({ pkcs12: certificate.toPkcs12('pw'), passphrase: 'pw' }).identity).toBe(`x5t#S256:${certificate.thumbprintS256}`);
  });
});
