// The real Maskinporten simulator and a real core client, shared by the test files.
import util from 'node:util';
import { expect } from 'vitest';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';

export const CLIENT_ID = 'axios-client';
export const CUSTOMER = '910753614';
const key = generateClientKey({ kid: 'axios-key' });

/** A simulator that knows our client, with scopes api:read and api:write and one delegation. */
export function startSimulator(): Promise<MaskinportenSimulator> {
  return startMaskinportenSimulator({
    clients: [
      {
        clientId: CLIENT_ID,
        orgno: '991825827',
        scopes: ['api:read', 'api:write'],
        jwks: [key.publicJwk],
        delegations: [{ consumerOrg: CUSTOMER, scopes: ['api:read'] }],
        systemUsers: [{ orgno: CUSTOMER }],
      },
    ],
  });
}

/** A real core client against the simulator, default scope api:read. */
export function createClient(sim: MaskinportenSimulator, scope = 'api:read'): MaskinportenClient {
  return createMaskinportenClient({ clientId: CLIENT_ID, environment: { issuer: sim.issuer, tokenEndpoint: sim.tokenEndpoint }, key: { jwk: key.privateJwk }, scope });
}

/** An Axios `lookup` that resolves every name to 127.0.0.1, so look-alike names (`api.localhost`) reach a loopback server. */
export const loopbackLookup = (_hostname: string, _options: object, callback: (error: Error | null, address: string, family?: 4 | 6) => void): void => callback(null, '127.0.0.1', 4);

/** The bearer token in an Authorization header. */
export const tokenOf = (header: string | undefined): string | undefined => header?.split(' ')[1];

/** Every way a caller or logger might print an error; none may contain a secret. */
export function expectRedacted(value: unknown, secrets: readonly string[], options: { showHidden?: boolean } = {}): void {
  const error = value as { toJSON?: () => unknown };
  const views: Record<string, string> = {
    'String()': String(value),
    'JSON.stringify()': JSON.stringify(value) ?? '',
    'toJSON()': typeof error.toJSON === 'function' ? JSON.stringify(error.toJSON()) : '',
    'util.inspect()': util.inspect(value, { depth: Infinity }),
    'util.inspect(showHidden)': options.showHidden === true ? util.inspect(value, { depth: Infinity, showHidden: true }) : '',
  };
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(20);
    for (const [name, view] of Object.entries(views)) expect(view.includes(secret), `${name} shows the token`).toBe(false);
  }
}
