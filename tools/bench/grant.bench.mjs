// Grant creation against a raw node:crypto RS256 signature of the same bytes by the same key
// (goal: at least 0.9x the raw throughput).
//
// Both sides sign with one RSA-2048 key, each through the KeyObject it would use: the baseline
// with createPrivateKey(jwk), Portvakt through loadSigner({ jwk }) as the client does. The
// baseline signs the exact header.claims string of a grant createGrant made (same header, same
// claim order, same length; only jti and iat differ from call to call on Portvakt's side) and
// joins the base64url signature to it, so the difference is claims, jti, JSON, base64url and
// the async signer call: what createGrant adds on top of the signature.
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { loadSigner } from '@portvakt/core';
import { createGrant, normalizeTokenRequest } from '@portvakt/core/internal';
import { generateClientKey } from '@portvakt/testing';
import { asyncLoop, createBench } from './harness.mjs';

const bench = createBench('grant', 'createGrant() against raw crypto.sign of the same bytes, same key');
const key = generateClientKey({ kid: 'bench' });
const keyObject = createPrivateKey({ key: key.privateJwk, format: 'jwk' });
const signer = loadSigner({ jwk: key.privateJwk });
const request = normalizeTokenRequest({ scope: 'skatteetaten:testscope' }, undefined);
const input = { issuer: 'https://test.maskinporten.no/', clientId: '238259d7-f0ab-4bd5-b253-0f0159375096', request, lifetimeSeconds: 60, signer };

const sample = await createGrant({ ...input, nowMs: Date.now() });
const signingInput = sample.split('.').slice(0, 2).join('.');
const bytes = Buffer.from(signingInput);
async function rawRs256() {
  return `${signingInput}.${sign('sha256', bytes, keyObject).toString('base64url')}`;
}
// The two sides make the same thing: a compact JWS over header.claims of the same shape, which
// the public key verifies.
const publicKey = createPublicKey(keyObject);
for (const jws of [await rawRs256(), await createGrant({ ...input, nowMs: Date.now() })]) {
  const [h, c, s] = jws.split('.');
  if (!verify('sha256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, 'base64url'))) throw new Error('signature does not verify');
  if (h !== signingInput.split('.')[0] || c.length !== signingInput.split('.')[1].length) throw new Error('not the same header and claims shape');
}
bench.log(`signed bytes: ${bytes.length} (header ${JSON.stringify(JSON.parse(Buffer.from(signingInput.split('.')[0], 'base64url')))}, claims ${Object.keys(JSON.parse(Buffer.from(signingInput.split('.')[1], 'base64url'))).join(',')})`);

const N = 50; // per slice; 20 slices a round
await bench.compare({
  baseline: { label: 'raw crypto.sign(sha256) of the same bytes + base64url', run: asyncLoop(rawRs256, N) },
  subjects: [{ label: 'createGrant() (claims, jti, header, sign)', run: asyncLoop(() => createGrant({ ...input, nowMs: Date.now() }), N), figure: 'grant creation vs raw RS256 sign', goal: { min: 0.9 } }],
  ops: N,
  chunks: 20,
  kind: 'throughput',
  rounds: 7,
});
bench.finish();
