import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient, MaskinportenClientOptions } from '@portvakt/core';
import { createManualClock, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator, SimulatorOptions } from '@portvakt/testing';

export const ORG = '991825827';
export const CUSTOMER = '910753614';
export const key = generateClientKey({ kid: 'client-key' });

/** A clock the test moves by hand; the simulator and the client share it. */
export const manualClock = createManualClock;

export async function startSim(options: SimulatorOptions = {}): Promise<MaskinportenSimulator> {
  return startMaskinportenSimulator({
    clients: [{
      clientId: 'client-1', orgno: ORG, scopes: ['a', 'b', 'c', 'd', 'e', 'test:scope'], jwks: [key.publicJwk],
      delegations: [{ consumerOrg: CUSTOMER, scopes: ['a'] }],
    }],
    ...options,
  });
}

export function clientFor(sim: MaskinportenSimulator, overrides: Partial<MaskinportenClientOptions> = {}): MaskinportenClient {
  return createMaskinportenClient({
    clientId: 'client-1',
    environment: sim.environment(),
    key: { jwk: key.privateJwk },
    scope: 'test:scope',
    transport: { backoffBase: 1, backoffMax: 5 },
    ...overrides,
  });
}

export const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};
