// The real Maskinporten simulator and a real core client, shared by the test files.
import util from 'node:util';
import { expect } from 'vitest';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';

export const CLIENT_ID = 'got-client';
export const CLIENT_KEY = generateClientKey({ kid: 'got-key' });
const key = CLIENT_KEY;

/** A simulator that knows our client, with scopes api:read and api:write. */
export function startSimulator(): Promise<MaskinportenSimulator> {
  return startMaskinportenSimulator({ clients: [{ clientId: CLIENT_ID, orgno: '991825827', scopes: ['api:read', 'api:write'], jwks: [key.publicJwk] }] });
}

/** A real core client against the simulator, default scope api:read. */
export function createClient(sim: MaskinportenSimulator): MaskinportenClient {
  return createMaskinportenClient({ clientId: CLIENT_ID, environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'api:read', transport: { maxAttempts: 1 } });
}

/** The bearer token of an Authorization header. */
export const tokenOf = (header: string | undefined): string | undefined => header?.split(' ')[1];

/** Every way a caller or logger might print an error; none may contain the secret. */
export function expectRedacted(value: unknown, secret: string): void {
  expect(secret.length).toBeGreaterThan(20);
  const views: Record<string, string> = { 'String()': String(value), 'JSON.stringify()': JSON.stringify(value) ?? '', 'util.inspect()': util.inspect(value, { depth: Infinity }) };
  for (const [name, view] of Object.entries(views)) expect(view.includes(secret), `${name} shows the token`).toBe(false);
}
