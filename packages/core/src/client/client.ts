// createMaskinportenClient: wires the key, the environment, the transport, the fetch pipeline and
// the cache together. The fetch itself lives in token-pipeline.ts, the cache slots in slots.ts, the
// option rules in options.ts and grant/request.ts.
import { EventEmitter, setMaxListeners } from 'node:events';
import { TokenCache } from '../cache/index.js';
import { assertCertificateUsable, daysUntilExpiry } from '../certificates/index.js';
import type { CertificateInfo } from '../certificates/index.js';
import { channels } from '../diagnostics.js';
import { environmentSourceOf } from '../environments/index.js';
import { ClientClosedError, ConfigurationError } from '../errors.js';
import type { PortvaktError } from '../errors.js';
import { readGetTokenOptions } from '../grant/index.js';
import { followKeyFile, kidUnchanged, loadSigner } from '../keys/index.js';
import type { KeyFollower, LoadedSigner } from '../keys/index.js';
import { createTransport } from '../transport/index.js';
import type { GetTokenOptions, KeyInput } from '../types.js';
import { AccessToken } from './access-token.js';
import { openKey, resolveClientConfiguration } from './configuration.js';
import type { ClientConfiguration, FollowPlan } from './configuration.js';
import type { MaskinportenClientOptions } from './options.js';
import { createScopePayloads } from './event-payloads.js';
import { diagnosticCacheEvents } from './source-events.js';
import { createTokenPipeline, storeKeyOf } from './token-pipeline.js';
import type { ClientSlot } from './token-pipeline.js';
import { clientSlotMaker, createSlotTable } from './slots.js';
import { inspectSymbol } from '../shared/index.js';

/**
 * Payload of the `certificateExpiring` event.
 * @example
 * ```ts
 * client.on('certificateExpiring', (e: CertificateExpiringEvent) => console.warn(`renew: ${e.daysLeft} days left`));
 * ```
 */
export interface CertificateExpiringEvent {
  daysLeft: number;
  notAfter: Date;
  subject: string;
}

/**
 * A Maskinporten client: gets, caches and refreshes access tokens.
 *
 * @example
 * ```ts
 * const client = createMaskinportenClient({ clientId, environment: 'test', key: { jwk }, scope: 'nav:test' });
 * client.on('refreshError', (err) => logger.warn({ code: err.code }, 'token refresh failed'));
 * const token = await client.getToken();
 * ```
 */
export interface MaskinportenClient {
  readonly clientId: string;
  /** The issuer (grant `aud`); undefined until discovered for metadata environments. */
  readonly issuer: string | undefined;
  /** The enterprise certificate of the current key, for certificate clients. */
  readonly certificate: CertificateInfo | undefined;
  /**
   * Switches to another key without a restart (key rotation): validated like the `key` option,
   * then every new token is signed with it. Tokens already handed out stay valid, a fetch in
   * flight finishes with the key it started with, and cached tokens of the old key are not served
   * for the new one. Returns the new key's identity (`kid:<kid>;jkt:<key thumbprint>` or the
   * certificate thumbprint).
   * A `{ file }` key is followed from then on (unless `follow: false`); any other key ends the
   * following of a file.
   */
  setKey(key: KeyInput): string;
  /** A token for the request (defaults from the options); from memory when it is not due. */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** Drops the cached token only if the cache still holds this one (e.g. after a 401). Returns whether it did. */
  invalidate(token: AccessToken | string): boolean;
  on(event: 'certificateExpiring', listener: (event: CertificateExpiringEvent) => void): this;
  on(event: 'refreshError', listener: (error: PortvaktError) => void): this;
  off(event: 'certificateExpiring' | 'refreshError', listener: (...args: never[]) => void): this;
  /** Forgets every token and ends fetches in flight; pending and later getToken() calls reject with ClientClosedError. */
  close(): Promise<void>;
}

/**
 * Creates a Maskinporten client. Every option is validated here, before any network call: a bad
 * option throws a {@link ConfigurationError} naming the field and the fix.
 *
 * @example
 * ```ts
 * import { createMaskinportenClient } from '@portvakt/core';
 * const client = createMaskinportenClient({
 *   clientId: process.env.MASKINPORTEN_CLIENT_ID!,
 *   environment: 'test',
 *   key: { jwk: process.env.MASKINPORTEN_CLIENT_JWK! },
 *   scope: 'skatteetaten:testscope',
 * });
 * const token = await client.getToken();
 * await fetch('https://api.example.no/x', { headers: { authorization: token.authorization } });
 * ```
 */
export function createMaskinportenClient(options: MaskinportenClientOptions): MaskinportenClient {
  return clientFromConfiguration(resolveClientConfiguration(options));
}

/**
 * The client of a configuration that `resolveClientConfiguration` read: it uses that and nothing
 * else of the options it came from.
 *
 * @example
 * ```ts
 * const client = clientFromConfiguration(resolveClientConfiguration(options));
 * ```
 */
export function clientFromConfiguration(configuration: ClientConfiguration): MaskinportenClient {
  const { clientId, cache: policy, store, clock, algorithm, defaults, hasDefaults, grantLifetime, certificateExpiryWarningDays: warningDays } = configuration;
  const transportOptions = configuration.transport;
  const environment = environmentSourceOf(configuration.environment, { fetch: transportOptions.fetch, clock, field: 'environment', attemptTimeout: transportOptions.attemptTimeout });
  const opened = configuration.key;
  let signer = opened.signer;
  // A certificate is checked against a preset or explicit environment at once; against a
  // discovered one at its first fetch (token-pipeline.ts).
  const checkNow = (candidate: typeof signer) => {
    if (candidate.certificate !== undefined && environment.kind !== 'discovered') assertCertificateUsable(candidate.certificate, environment.kind, clock.now());
  };
  checkNow(signer);
  const closing = new AbortController();
  // Read on every getToken(): a plain flag costs less than the signal's `aborted` getter.
  let closed = false;
  // Every fetch in flight listens on it; a busy client has more than the default 10.
  setMaxListeners(0, closing.signal);
  const fetchToken = createTokenPipeline({
    clientId, environment, grantLifetime, store, clock, closing: closing.signal,
    transport: createTransport(transportOptions, clock),
    margin: policy,
  });
  const emitter = new EventEmitter();
  const cache = new TokenCache<AccessToken, ClientSlot>(policy, clock, diagnosticCacheEvents(emitter));
  if (signer.certificate) warnIfExpiring(signer.certificate, clientId, clock.now(), warningDays, emitter);

  const makeSlot = clientSlotMaker({ fetchToken, payloadsOf: createScopePayloads(clientId) });
  // Slots are made for the issuer and key of the moment; a new issuer or key forgets them, and
  // starts a new generation of cache keys.
  let slotIssuer = '';
  let generation = 0;
  const slots = createSlotTable<ClientSlot>({ defaults, hasDefaults, make: (request) => makeSlot(generation, slotIssuer, signer, request) });
  const newGeneration = (): void => {
    slots.reset();
    generation += 1;
  };

  function switchTo(next: LoadedSigner, file: string | undefined): void {
    const previousIdentity = signer.identity;
    // New slots (their cache key holds the key's identity) from now on: tokens of the old key
    // are not served for the new one, and fetches already under way finish with the old key.
    signer = next;
    newGeneration();
    if (next.certificate) warnIfExpiring(next.certificate, clientId, clock.now(), warningDays, emitter);
    if (channels.keyChange.hasSubscribers) channels.keyChange.publish({ clientId, identity: next.identity, previousIdentity, file });
  }

  // A key kept in a file is followed: a new key written there is taken with setKey()'s rules; a
  // file that gives no usable key, or a new key under the kid in use, keeps the key in use and is
  // reported on keyRefused.
  let follower: KeyFollower | undefined;
  function follow(plan: FollowPlan | undefined): void {
    follower?.close();
    follower = plan === undefined ? undefined : followKeyFile(plan.source, plan.settings, plan.digest, {
      apply(contents) {
        const next = loadSigner(contents.key, { alg: algorithm, field: 'key' });
        const refusal = kidUnchanged(signer, next);
        if (refusal !== undefined) return refusal;
        checkNow(next);
        switchTo(next, plan.source.file);
        return undefined;
      },
      refused({ problem, error }) {
        if (channels.keyRefused.hasSubscribers) {
          channels.keyRefused.publish({ clientId, file: plan.source.file, problem, code: error.code, message: error.message, identity: signer.identity });
        }
      },
    });
  }
  follow(opened.plan);

  function getToken(opts?: GetTokenOptions): Promise<AccessToken> {
    if (closed) return Promise.reject(new ClientClosedError());
    const issuer = environment.issuer;
    if (issuer === undefined) {
      return environment.resolve(opts?.signal).then(() => {
        if (environment.issuer === undefined) throw new ConfigurationError('environment', 'the metadata document gave no issuer.');
        return getToken(opts);
      });
    }
    if (slotIssuer !== issuer) {
      newGeneration();
      slotIssuer = issuer;
    }
    try {
      if (opts === undefined) return cache.get(slots.slotOf(undefined), 0, undefined);
      const scoped = slots.scopeOnly(opts);
      if (scoped !== undefined) return cache.get(scoped, 0, undefined);
      const { minValidityMs, signal } = readGetTokenOptions(opts);
      return cache.get(slots.slotOf(opts), minValidityMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  const client: MaskinportenClient = {
    clientId,
    get issuer() {
      return environment.issuer;
    },
    get certificate() {
      return signer.certificate;
    },
    getToken,
    setKey(key) {
      if (closed) throw new ClientClosedError();
      const next = openKey(key, algorithm);
      checkNow(next.signer);
      switchTo(next.signer, next.plan?.source.file);
      follow(next.plan);
      return next.signer.identity;
    },
    invalidate(token) {
      const value = typeof token === 'string' ? token : token instanceof AccessToken ? token.accessToken : undefined;
      const slot = value === undefined ? undefined : cache.slotOf(value);
      if (value === undefined || slot === undefined || !cache.invalidate(slot.key, value)) return false;
      store?.invalidate?.(storeKeyOf(clientId, slot), value).catch(() => undefined);
      return true;
    },
    on(event: string, listener: (...args: never[]) => void) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return client;
    },
    off(event: string, listener: (...args: never[]) => void) {
      emitter.off(event, listener as (...args: unknown[]) => void);
      return client;
    },
    async close() {
      follower?.close();
      follower = undefined;
      closed = true;
      closing.abort(new ClientClosedError());
      cache.close();
      slots.reset();
      emitter.removeAllListeners();
    },
  } as MaskinportenClient;
  Object.defineProperties(client, {
    toJSON: { value: () => ({ clientId, issuer: environment.issuer }), enumerable: false },
    [inspectSymbol]: { value: () => `MaskinportenClient { clientId: '${clientId}', issuer: '${environment.issuer ?? '(not yet discovered)'}', key: '${signer.identity}' }`, enumerable: false },
  });
  return client;
}

function warnIfExpiring(certificate: CertificateInfo, clientId: string, nowMs: number, warningDays: number, emitter: EventEmitter): void {
  const daysLeft = daysUntilExpiry(certificate, nowMs);
  if (daysLeft >= warningDays) return;
  const event: CertificateExpiringEvent = { daysLeft, notAfter: certificate.notAfter, subject: certificate.subject };
  // Deferred, so listeners attached right after construction receive it.
  process.nextTick(() => {
    if (channels.certificateWarning.hasSubscribers) channels.certificateWarning.publish({ clientId, ...event });
    emitter.emit('certificateExpiring', event);
  });
}
