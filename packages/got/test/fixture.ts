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

/**
 * The paths, from `value`, of every string that contains `secret`: own properties of every object
 * reached, hidden and symbol-keyed ones included (what `util.inspect(value, { showHidden: true })`
 * or a logger that walks objects could show).
 */
export function pathsTo(value: unknown, secret: string): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const stack: [unknown, string][] = [[value, 'value']];
  while (stack.length > 0 && seen.size < 50_000) {
    const [node, path] = stack.pop()!;
    if (node === null || (typeof node !== 'object' && typeof node !== 'function') || seen.has(node)) continue;
    seen.add(node);
    for (const key of Reflect.ownKeys(node)) {
      const descriptor = Object.getOwnPropertyDescriptor(node, key);
      if (descriptor === undefined || !('value' in descriptor)) continue;
      const child: unknown = descriptor.value;
      const childPath = `${path}.${String(key)}`;
      if (typeof child === 'string') {
        if (child.includes(secret)) found.push(childPath);
      } else {
        stack.push([child, childPath]);
      }
    }
  }
  return found;
}

/** `expectRedacted`, and the same with hidden properties shown, and no path to the secret at all. */
export function expectRedactedEverywhere(value: unknown, secret: string): void {
  expectRedacted(value, secret);
  expect(util.inspect(value, { showHidden: true, depth: 6 }).includes(secret), 'util.inspect({ showHidden: true }) shows the token').toBe(false);
  expect(pathsTo(value, secret)).toEqual([]);
}
