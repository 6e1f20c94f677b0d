// A local Maskinporten (the @portvakt/testing simulator) and clients of it, as in core's tests.
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient, MaskinportenClientOptions } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator, SimulatorOptions } from '@portvakt/testing';

export const ORG = '991825827';
export const key = generateClientKey({ kid: 'otel-key' });

/** A clock the test moves by hand; the simulator and the client share it. */
export function manualClock(start = Date.now()) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

export async function startSim(options: SimulatorOptions = {}): Promise<MaskinportenSimulator> {
  return startMaskinportenSimulator({
    clients: [{ clientId: 'client-1', orgno: ORG, scopes: ['test:scope', 'test:other'], jwks: [key.publicJwk] }],
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

export async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  for (let i = 0; i < timeoutMs / 10; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
