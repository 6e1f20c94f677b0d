// createMaskinportenClient: wires the key, the environment, the transport and the cache together.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { TokenCache } from '../cache/index.js';
import type { TokenFetcher } from '../cache/index.js';
import { assertCertificateUsable, daysUntilExpiry } from '../certificates/index.js';
import type { CertificateInfo } from '../certificates/index.js';
import { channels } from '../diagnostics.js';
import { createEnvironmentSource } from '../environments/index.js';
import { ClientClosedError, ConfigurationError, PortvaktError } from '../errors.js';
import { cacheKeyOf, createGrant, normalizeTokenRequest, validateGrantLifetime } from '../grant/index.js';
import type { NormalizedTokenRequest } from '../grant/index.js';
import { loadSigner } from '../keys/index.js';
import { createTransport, validateTransportOptions } from '../transport/index.js';
import type { GetTokenOptions, StoredToken, TokenRequest } from '../types.js';
import { AccessToken } from './access-token.js';
import { validateClientFields } from './options.js';
import type { MaskinportenClientOptions } from './options.js';

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
  /** The enterprise certificate, for x5c clients. */
  readonly certificate: CertificateInfo | undefined;
  /** A token for the request (defaults from the options); from memory when it is not due. */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** Drops the cached token only if the cache still holds this one (e.g. after a 401). Returns whether it did. */
  invalidate(token: AccessToken | string): boolean;
  on(event: 'certificateExpiring', listener: (event: CertificateExpiringEvent) => void): this;
  on(event: 'refreshError', listener: (error: PortvaktError) => void): this;
  off(event: 'certificateExpiring' | 'refreshError', listener: (...args: never[]) => void): this;
  /** Forgets every token; later getToken() calls reject with ClientClosedError. Starts no timers. */
  close(): Promise<void>;
}

interface Prepared {
  key: string;
  request: NormalizedTokenRequest;
  fetch: TokenFetcher;
  storeKey: string;
}

const inspect = Symbol.for('nodejs.util.inspect.custom');
const MAX_SCOPE_MEMO = 1_000;

function toPortvaktError(error: unknown): PortvaktError {
  return error instanceof PortvaktError ? error : new PortvaktError('ERR_PORTVAKT_ENDPOINT_UNAVAILABLE', 'Token refresh failed', { cause: error });
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
  const environment = createEnvironmentSource(o.environment, {
    fetch: transportOptions.fetch,
    clock,
    field: 'environment',
    attemptTimeout: transportOptions.attemptTimeout,
  });
  const signer = loadSigner(o.key, { alg: o.algorithm, field: 'key' });
  const grantLifetime = validateGrantLifetime(o.grantLifetime);
  if (o.scope !== undefined) normalizeTokenRequest({ scope: o.scope }, undefined);
  if (o.defaults !== undefined) normalizeTokenRequest({ ...o.defaults, scope: 'placeholder' }, undefined, 'defaults.');
  const defaults: TokenRequest = { ...o.defaults, scope: o.scope };
  const certificate = signer.certificate;
  let certificateChecked = false;
  if (certificate && environment.kind !== 'discovered') {
    assertCertificateUsable(certificate, environment.kind, clock.now());
    certificateChecked = true;
  }

  const clientId = o.clientId;
  const transport = createTransport(transportOptions, clock);
  const emitter = new EventEmitter();
  const scopeOf = (key: string) => (JSON.parse(key) as string[])[3];
  const cache = new TokenCache(policy, clock, {
    hit: (key) => channels.cacheHit.hasSubscribers && channels.cacheHit.publish({ clientId, scope: scopeOf(key) }),
    miss: (key) => channels.cacheMiss.hasSubscribers && channels.cacheMiss.publish({ clientId, scope: scopeOf(key) }),
    refresh: (key) => channels.cacheRefresh.hasSubscribers && channels.cacheRefresh.publish({ clientId, scope: scopeOf(key) }),
    refreshError: (_key, error) => {
      if (emitter.listenerCount('refreshError') > 0) emitter.emit('refreshError', toPortvaktError(error));
    },
  });
  let closed = false;
  let defaultPrepared: { issuer: string; prepared: Prepared } | undefined;
  const scopeMemo = new Map<string, Prepared>();
  let scopeMemoIssuer: string | undefined;

  if (certificate) {
    const daysLeft = daysUntilExpiry(certificate, clock.now());
    if (daysLeft < warningDays) {
      const event: CertificateExpiringEvent = { daysLeft, notAfter: certificate.notAfter, subject: certificate.subject };
      // Deferred, so listeners attached right after construction receive it.
      process.nextTick(() => {
        if (channels.certificateWarning.hasSubscribers) channels.certificateWarning.publish({ clientId, ...event });
        emitter.emit('certificateExpiring', event);
      });
    }
  }

  async function requestFromMaskinporten(request: NormalizedTokenRequest): Promise<StoredToken> {
    const env = await environment.resolve();
    if (certificate && !certificateChecked) {
      assertCertificateUsable(certificate, env.kind, clock.now());
      certificateChecked = true;
    }
    const { response, sentAt } = await transport.requestToken({
      tokenEndpoint: env.tokenEndpoint,
      createAssertion: (nowMs) => createGrant({ issuer: env.issuer, clientId, request, nowMs, lifetimeSeconds: grantLifetime, signer }),
    });
    return {
      accessToken: response.accessToken,
      tokenType: response.tokenType,
      // Anchored on when the request was sent; the token itself is opaque (protocol.md section 10).
      expiresAt: sentAt + response.expiresIn * 1000,
      issuedAt: sentAt,
      scope: response.scope ?? request.scope,
    };
  }

  async function viaStore(prepared: Prepared): Promise<StoredToken> {
    if (!store) return requestFromMaskinporten(prepared.request);
    let fetched: StoredToken | undefined;
    const fetchOnce = async () => (fetched ??= await requestFromMaskinporten(prepared.request));
    try {
      const minValidUntil = clock.now() + policy.minMargin * 1000;
      const shared = await store.load(prepared.storeKey, fetchOnce, { minValidUntil });
      if (typeof shared?.accessToken === 'string' && shared.expiresAt > clock.now()) return shared;
      return await fetchOnce();
    } catch (error) {
      // A store that fails never fails the call: fetch on our own (unless the fetch itself failed).
      if (error instanceof PortvaktError) throw error;
      return fetched ?? (await fetchOnce());
    }
  }

  function prepare(issuer: string, request: NormalizedTokenRequest): Prepared {
    const key = cacheKeyOf({ issuer, clientId, signerIdentity: signer.identity, request });
    const prepared: Prepared = {
      key,
      request,
      storeKey: createHash('sha256').update(key).digest('hex'),
      fetch: async (reason) => {
        const started = performance.now();
        if (channels.fetchStart.hasSubscribers) channels.fetchStart.publish({ clientId, issuer, scope: request.scope, reason });
        try {
          const stored = await viaStore(prepared);
          const token = new AccessToken(stored.accessToken, stored);
          if (channels.fetchEnd.hasSubscribers) {
            channels.fetchEnd.publish({ clientId, issuer, scope: request.scope, durationMs: performance.now() - started, expiresIn: token.expiresIn(clock.now()) });
          }
          return token;
        } catch (error) {
          if (channels.fetchError.hasSubscribers) {
            const e = toPortvaktError(error);
            channels.fetchError.publish({ clientId, issuer, scope: request.scope, durationMs: performance.now() - started, code: e.code, mpCode: (e as { mpCode?: string }).mpCode });
          }
          throw error;
        }
      },
    };
    return prepared;
  }

  function preparedFor(issuer: string, opts: GetTokenOptions | undefined): Prepared {
    const onlyScope = opts === undefined || (opts.resource === undefined && opts.consumerOrg === undefined && opts.pid === undefined && opts.systemUser === undefined);
    if (onlyScope && (opts === undefined || opts.scope === undefined)) {
      if (defaultPrepared?.issuer !== issuer) defaultPrepared = { issuer, prepared: prepare(issuer, normalizeTokenRequest(undefined, defaults)) };
      return defaultPrepared.prepared;
    }
    if (onlyScope && typeof opts?.scope === 'string' && o.defaults === undefined) {
      if (scopeMemoIssuer !== issuer) {
        scopeMemo.clear();
        scopeMemoIssuer = issuer;
      }
      let prepared = scopeMemo.get(opts.scope);
      if (prepared === undefined) {
        prepared = prepare(issuer, normalizeTokenRequest(opts, defaults));
        if (scopeMemo.size >= MAX_SCOPE_MEMO) scopeMemo.clear();
        scopeMemo.set(opts.scope, prepared);
      }
      return prepared;
    }
    return prepare(issuer, normalizeTokenRequest(opts, defaults));
  }

  function getToken(opts?: GetTokenOptions): Promise<AccessToken> {
    if (closed) return Promise.reject(new ClientClosedError());
    const issuer = environment.issuer;
    if (issuer === undefined) {
      return environment.resolve(opts?.signal).then(() => {
        if (environment.issuer === undefined) throw new ConfigurationError('environment', 'the metadata document gave no issuer.');
        return getToken(opts);
      });
    }
    let prepared: Prepared;
    let minValidityMs = 0;
    try {
      prepared = preparedFor(issuer, opts);
      if (opts?.minValidity !== undefined) {
        if (typeof opts.minValidity !== 'number' || !Number.isFinite(opts.minValidity) || opts.minValidity < 0) {
          throw new ConfigurationError('minValidity', 'must be a number of seconds of at least 0.');
        }
        minValidityMs = opts.minValidity * 1000;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return cache.get(prepared.key, prepared.fetch, minValidityMs, opts?.signal);
  }

  const client: MaskinportenClient = {
    clientId,
    get issuer() {
      return environment.issuer;
    },
    certificate,
    getToken,
    invalidate(token) {
      const value = typeof token === 'string' ? token : token instanceof AccessToken ? token.accessToken : undefined;
      if (value === undefined) return false;
      const key = cache.keyOf(value);
      if (key === undefined) return false;
      const dropped = cache.invalidate(key, value);
      if (dropped && store?.invalidate) {
        store.invalidate(createHash('sha256').update(key).digest('hex'), value).catch(() => undefined);
      }
      return dropped;
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
      closed = true;
      cache.close();
      scopeMemo.clear();
      defaultPrepared = undefined;
      emitter.removeAllListeners();
    },
  } as MaskinportenClient;
  Object.defineProperties(client, {
    toJSON: { value: () => ({ clientId, issuer: environment.issuer }), enumerable: false },
    [inspect]: { value: () => `MaskinportenClient { clientId: '${clientId}', issuer: '${environment.issuer ?? '(not yet discovered)'}', key: '${signer.identity}' }`, enumerable: false },
  });
  return client;
}
