// A client declared at module level and created at its first use, one per name in the process.
//
// Frameworks import modules to analyse them: `next build` evaluates route modules while it collects
// page data, where no secret is set, so `createMaskinportenClient(fromEnv())` at module level fails
// the build. And they evaluate one module more than once in a process (Next.js bundles server code
// per layer: route handlers, server components, server actions; `next dev` evaluates it again on
// each reload), so a client per module copy would mean a token cache, and a token request, per
// copy. A declared client validates its options at its first call and keeps the client it creates
// in a registry on `globalThis`, under its name, shared by every copy of this package in the process.
import { ConfigurationError } from '../errors.js';
import type { PortvaktError } from '../errors.js';
import type { KeyInput } from '../types.js';
import { inspectSymbol } from '../shared/index.js';
import { clientFromConfiguration } from './client.js';
import type { CertificateExpiringEvent, MaskinportenClient } from './client.js';
import { resolveClientConfiguration } from './configuration.js';
import type { MaskinportenClientOptions } from './options.js';
import { differingOptions, fingerprintConfiguration } from './fingerprint.js';
import type { OptionsFingerprint } from './fingerprint.js';

/**
 * Settings of {@link defineMaskinportenClient}.
 *
 * @example
 * ```ts
 * const settings: DefineMaskinportenClientSettings = { name: 'nav' };
 * ```
 */
export interface DefineMaskinportenClientSettings {
  /**
   * The client's name in the process: declarations of one name share one client, and must have
   * the same options. Default `'default'`. Give each client its own name when an app has several.
   */
  name?: string | undefined;
}

/**
 * A client from {@link defineMaskinportenClient}: a `MaskinportenClient` whose options are read and
 * validated at its first use, shared by every declaration of its name in the process.
 *
 * @example
 * ```ts
 * export const maskinporten: DeclaredMaskinportenClient = defineMaskinportenClient(fromEnv);
 * maskinporten.name; // 'default'
 * ```
 */
export interface DeclaredMaskinportenClient extends MaskinportenClient {
  /** The name it is registered under in the process. */
  readonly name: string;
  /**
   * Closes the process's client of this name (every declaration of it shares that client): calls
   * in flight reject with `ClientClosedError`, cached tokens are forgotten. A later call creates a
   * new client from the options, so a test can start from an empty cache.
   */
  close(): Promise<void>;
}

/** One client in the process registry: what it was created from, and whether it was closed. */
interface RegistryEntry {
  readonly client: MaskinportenClient;
  readonly fingerprint: OptionsFingerprint;
  closed: boolean;
}

// Versioned: another major of this package keeps its own registry instead of misreading this one.
const REGISTRY_KEY = Symbol.for('@portvakt/core:declared-clients@1');
const NAME_PATTERN = /^[\w.:@/-]{1,100}$/;

function registry(): Map<string, RegistryEntry> {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  const existing = holder[REGISTRY_KEY];
  if (existing instanceof Map) return existing as Map<string, RegistryEntry>;
  const created = new Map<string, RegistryEntry>();
  // Not enumerable: nothing that walks globalThis (a logger, a test runner's leak check) meets the clients.
  Object.defineProperty(globalThis, REGISTRY_KEY, { value: created, configurable: true, enumerable: false, writable: false });
  return created;
}

type ClientEvent = 'certificateExpiring' | 'refreshError';
type Listener = ((event: CertificateExpiringEvent) => void) | ((error: PortvaktError) => void);

/**
 * Declares a Maskinporten client without creating it: the options (an object, or a function that
 * returns them, such as `fromEnv`) are read and validated at the first call, which throws (or, for
 * `getToken()`, rejects with) the same `ConfigurationError` that `createMaskinportenClient` would.
 * So a module can declare its client at the top and still be imported where no secret is set
 * (`next build`, a test that never calls it).
 *
 * One client per name per process: every declaration of a name, in any copy of this package
 * (Next.js' server layers, a `next dev` reload), shares the client the first one created, and its
 * cache. A declaration whose options differ from that client's gets a `ConfigurationError` naming
 * the options that differ, at its first call: give each client its own `name`. What is compared is
 * what the client would use, after validation (the client id, environment, key by its public
 * thumbprint, normalised scope and claims, every setting), however the options were written (a
 * class instance, getters); functions such as a custom `fetch` or clock only by whether they are
 * given. Options that failed validation are read again at the next call; nothing failed is kept.
 *
 * Node.js runtime only, as the rest of the package.
 *
 * @example
 * ```ts
 * // lib/maskinporten.ts, imported by route handlers, server actions and server components
 * import { defineMaskinportenClient, fromEnv } from '@portvakt/core';
 * export const maskinporten = defineMaskinportenClient(fromEnv);
 *
 * // app/api/arbeidsforhold/route.ts
 * export async function GET() {
 *   const token = await maskinporten.getToken(); // the client is created here, once per process
 *   return fetch('https://api.nav.no/aareg', { headers: { authorization: token.authorization } });
 * }
 * ```
 */
export function defineMaskinportenClient(
  options: MaskinportenClientOptions | (() => MaskinportenClientOptions),
  settings: DefineMaskinportenClientSettings = {},
): DeclaredMaskinportenClient {
  if (typeof options !== 'function' && (typeof options !== 'object' || options === null)) {
    throw new ConfigurationError('options', 'must be the client options, or a function that returns them (such as fromEnv).');
  }
  if (typeof settings !== 'object' || settings === null) throw new ConfigurationError('settings', "must be an object such as { name: 'nav' }.");
  const name = settings.name ?? 'default';
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new ConfigurationError('name', 'must be 1 to 100 letters, digits or . _ : @ / -, such as "nav" or "skatt".');
  }
  const readOptions = (): MaskinportenClientOptions => {
    if (typeof options !== 'function') return options;
    const read = options();
    if (typeof (read as { then?: unknown } | null)?.then === 'function') {
      // Refused, so nothing else will ever wait on it: its rejection must not become unhandled.
      (read as unknown as PromiseLike<unknown>).then(undefined, () => undefined);
      throw new ConfigurationError('options', 'the options function returned a Promise: it must return the options themselves. Read what needs awaiting before the first call, or create the client with createMaskinportenClient() after it.');
    }
    return read;
  };
  let entry: RegistryEntry | undefined;
  const listeners: [ClientEvent, Listener][] = [];

  const adopt = (next: RegistryEntry): MaskinportenClient => {
    if (entry !== next) {
      if (entry !== undefined && !entry.closed) for (const [event, listener] of listeners) entry.client.off(event, listener as never);
      for (const [event, listener] of listeners) next.client.on(event as 'refreshError', listener as (error: PortvaktError) => void);
      entry = next;
    }
    return next.client;
  };

  /** The process's client of this name, created from these options if there is none yet. */
  const acquire = (): MaskinportenClient => {
    const clients = registry();
    const current = clients.get(name);
    if (current !== undefined && current === entry && !current.closed) return current.client;
    // Read and validated as construction would, and compared as the client will use it.
    const configuration = resolveClientConfiguration(readOptions());
    const fingerprint = fingerprintConfiguration(configuration);
    if (current !== undefined && !current.closed) {
      const differing = differingOptions(current.fingerprint, fingerprint);
      if (differing.length > 0) {
        throw new ConfigurationError(
          'name',
          `a Maskinporten client named "${name}" already exists in this process with other options (${differing.join(', ')} differ): ` +
            `give this one its own name, as in defineMaskinportenClient(options, { name: 'nav' }). After changing its environment variables, restart the process (next dev included).`,
        );
      }
      return adopt(current);
    }
    const created: RegistryEntry = { client: clientFromConfiguration(configuration), fingerprint, closed: false };
    clients.set(name, created);
    return adopt(created);
  };

  const live = (): MaskinportenClient | undefined => {
    const current = registry().get(name);
    return current !== undefined && !current.closed ? current.client : undefined;
  };

  const declared: DeclaredMaskinportenClient = {
    name,
    get clientId() {
      return acquire().clientId;
    },
    get issuer() {
      return acquire().issuer;
    },
    get certificate() {
      return acquire().certificate;
    },
    getToken(opts) {
      let client: MaskinportenClient;
      try {
        client = acquire();
      } catch (error) {
        return Promise.reject(error);
      }
      return client.getToken(opts);
    },
    invalidate(token) {
      // A token can only have come from the live client: never create one to drop nothing.
      return live()?.invalidate(token) ?? false;
    },
    setKey(key: KeyInput) {
      return acquire().setKey(key);
    },
    on(event: ClientEvent, listener: Listener) {
      listeners.push([event, listener]);
      if (entry !== undefined && !entry.closed) entry.client.on(event as 'refreshError', listener as (error: PortvaktError) => void);
      return declared;
    },
    off(event: ClientEvent, listener: Listener) {
      const index = listeners.findIndex(([e, l]) => e === event && l === listener);
      if (index >= 0) listeners.splice(index, 1);
      if (entry !== undefined && !entry.closed) entry.client.off(event, listener as never);
      return declared;
    },
    async close() {
      const clients = registry();
      const current = clients.get(name);
      entry = undefined;
      if (current === undefined || current.closed) return;
      current.closed = true;
      clients.delete(name);
      await current.client.close();
    },
  } as DeclaredMaskinportenClient;
  Object.defineProperties(declared, {
    toJSON: { value: () => ({ name, created: live() !== undefined }), enumerable: false },
    [inspectSymbol]: {
      value: () => {
        const client = live();
        return client === undefined ? `DeclaredMaskinportenClient { name: '${name}', created: false }` : `DeclaredMaskinportenClient { name: '${name}', client: ${String((client as unknown as Record<symbol, () => string>)[inspectSymbol]?.())} }`;
      },
      enumerable: false,
    },
  });
  return declared;
}
