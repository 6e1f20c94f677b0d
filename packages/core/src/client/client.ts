// createMaskinportenClient: wires the key, the environment, the transport, the fetch pipeline and
// the cache together. The fetch itself lives in token-pipeline.ts, the cache slots in slots.ts, the
// option rules in options.ts and grant/request.ts.
import { EventEmitter, setMaxListeners } from 'node:events';
import { TokenCache } from '../cache/index.js';
import { assertCertificateUsable, daysUntilExpiry } from '../certificates/index.js';
import type { CertificateInfo } from '../certificates/index.js';
import { channels } from '../diagnostics.js';
import { createEnvironmentSource } from '../environments/index.js';
import { ClientClosedError, ConfigurationError } from '../errors.js';
import type { PortvaktError } from '../errors.js';
import { normalizeTokenRequest, readGetTokenOptions, validateGrantLifetime, validateTokenRequest } from '../grant/index.js';
import { checkKeyFileSource, followKeyFile, followSettingsOf, loadSigner, tryReadKeyFile } from '../keys/index.js';
import type { FollowSettings, KeyFollower, LoadedSigner } from '../keys/index.js';
import { createTransport, validateTransportOptions } from '../transport/index.js';
import type { GetTokenOptions, GrantAlgorithm, KeyFileSource, KeyInput, TokenRequest } from '../types.js';
import { AccessToken } from './access-token.js';
import { validateClientFields } from './options.js';
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
   * for the new one. Returns the new key's identity (`kid:<kid>` or the certificate thumbprint).
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
  const { options: o, cache: policy, store, clock, warningDays } = validateClientFields(options);
  const transportOptions = validateTransportOptions(o.transport, 'transport');
  const environment = createEnvironmentSource(o.environment, { fetch: transportOptions.fetch, clock, field: 'environment', attemptTimeout: transportOptions.attemptTimeout });
  const opened = openKey(o.key, o.algorithm);
  let signer = opened.signer;
  const grantLifetime = validateGrantLifetime(o.grantLifetime);
  if (o.scope !== undefined) normalizeTokenRequest({ scope: o.scope }, undefined);
  validateTokenRequest(o.defaults, 'defaults.');
  const defaults: TokenRequest = { ...o.defaults, scope: o.scope };
  const clientId = o.clientId;
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
  const slots = createSlotTable<ClientSlot>({ defaults, hasDefaults: o.defaults !== undefined, make: (request) => makeSlot(generation, slotIssuer, signer, request) });
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
  // file that gives no usable key keeps the key in use and is reported on keyRefused.
  let follower: KeyFollower | undefined;
  function follow(plan: FollowPlan | undefined): void {
    follower?.close();
    follower = plan === undefined ? undefined : followKeyFile(plan.source, plan.settings, plan.digest, {
      apply(contents) {
        const next = loadSigner(contents.key, { alg: o.algorithm, field: 'key' });
        checkNow(next);
        switchTo(next, plan.source.file);
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
      const next = openKey(key, o.algorithm);
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

/** A key file to follow: the client's own copy of the source, and the digest of the key in use. */
interface FollowPlan {
  source: KeyFileSource;
  settings: FollowSettings;
  digest: string;
}

/** Loads the `key` option (or a setKey() argument); for a `{ file }` key, also the plan to follow it. */
function openKey(key: KeyInput, alg: GrantAlgorithm | undefined): { signer: LoadedSigner; plan?: FollowPlan } {
  if (typeof key !== 'object' || key === null || !('file' in key)) return { signer: loadSigner(key, { alg, field: 'key' }) };
  checkKeyFileSource(key, 'key');
  const settings = followSettingsOf(key.follow, 'key.follow');
  // The client's own copy: a caller that changes its object later changes nothing here.
  const source: KeyFileSource = { file: key.file, kid: key.kid, passphrase: key.passphrase, certificateFile: key.certificateFile };
  const read = tryReadKeyFile(source, 'key');
  if (!read.ok) throw read.failure.error;
  const signer = loadSigner(read.contents.key, { alg, field: 'key' });
  return settings === undefined ? { signer } : { signer, plan: { source, settings, digest: read.contents.digest } };
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
