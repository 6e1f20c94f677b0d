// What every Skyporten test starts from: the simulator as Skyporten, a Portvakt client that
// discovers it through its OpenID configuration, and the trust the clouds' stand-ins are given.
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';

export const ORGNO = '991825827';
export const SCOPE = 'demo:skyporten';
export const OTHER_SCOPE = 'demo:other';
export const AUDIENCE = 'https://skyporten.example.no';
export const SUBJECT = `0192:${ORGNO};${SCOPE}`;

const key = generateClientKey({ kid: 'sky-key' });

export async function startSkyporten(): Promise<MaskinportenSimulator> {
  // A clock read at each call, so a test's fake Date moves the simulator too.
  return startMaskinportenSimulator({ skyporten: true, clock: { now: () => Date.now() }, clients: [{ clientId: 'sky-client', orgno: ORGNO, scopes: [SCOPE, OTHER_SCOPE], jwks: [key.publicJwk] }] });
}

/** A client as a consumer configures one: Skyporten found through its metadata document. */
export function skyportenClient(sky: MaskinportenSimulator): MaskinportenClient {
  return createMaskinportenClient({ clientId: 'sky-client', environment: { metadataUrl: sky.metadataUrl }, key: { jwk: key.privateJwk } });
}

/** The public claims of a JWT, for assertions about what the cloud saw. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export const JWT = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
