// Grant creation against a raw node:crypto RS256 sign of the same bytes (goal: >= 0.9x throughput).
import { createPrivateKey, sign } from 'node:crypto';
import { createGrant, loadSigner, normalizeTokenRequest } from '@portvakt/core';
import { generateClientKey } from '@portvakt/testing';
import { measure } from './lib.mjs';

const key = generateClientKey({ kid: 'bench' });
const keyObject = createPrivateKey({ key: key.privateJwk, format: 'jwk' });
const signer = loadSigner({ jwk: key.privateJwk });
const request = normalizeTokenRequest({ scope: 'skatteetaten:testscope' }, undefined);
const input = { issuer: 'https://test.maskinporten.no/', clientId: '238259d7-f0ab-4bd5-b253-0f0159375096', request, lifetimeSeconds: 60, signer };
const sample = await createGrant({ ...input, nowMs: Date.now() });
const bytes = Buffer.from(sample.split('.').slice(0, 2).join('.'));

const N = 3_000;
const base = await measure('raw crypto.sign(sha256) of the same bytes', N, async () => sign('sha256', bytes, keyObject), { warmup: 300 });
const ours = await measure('createGrant() (claims, jti, header, sign)', N, () => createGrant({ ...input, nowMs: Date.now() }), { warmup: 300 });
for (const r of [base, ours]) console.log(`${r.name.padEnd(52)} ${Math.round(r.opsPerSec).toLocaleString('en').padStart(8)} grants/s`);
console.log(`throughput ratio (Portvakt / raw sign): ${(ours.opsPerSec / base.opsPerSec).toFixed(3)}   goal: >= 0.9`);
