// Maskinporten tokens from NAIS Texas, the token sidecar NAIS runs in the app's pod
// (docs/maskinporten-rules.md §11.1): the app posts what it needs to NAIS_TOKEN_ENDPOINT and never
// holds a key. The source has the client's getToken/invalidate shape, so every adapter takes it,
// and it uses the client's machinery: the same cache (one request per herd, served from memory,
// a still-valid token served while Texas is down), slots, transport (timeouts, bounded retries,
// no redirects) and diagnostics events. What differs is Texas': the refresh is timed after Texas'
// own cache lets the token go (refresh.ts), and a token an API refused is asked for again with
// `skip_cache: true`, once.
import { EventEmitter, setMaxListeners } from 'node:events';
import { TokenCache } from '../cache/index.js';
import type { CacheSlot } from '../cache/index.js';
import { AccessToken } from '../client/access-token.js';
import { createScopePayloads } from '../client/event-payloads.js';
import type { ScopePayloads } from '../client/event-payloads.js';
import { createSlotTable } from '../client/slots.js';
import { diagnosticCacheEvents, publishFetch } from '../client/source-events.js';
import type { FetchObserver } from '../client/source-events.js';
import { ClientClosedError } from '../errors.js';
import type { AnyPortvaktError } from '../errors.js';
import { readGetTokenOptions } from '../grant/index.js';
import { inspectSymbol } from '../shared/index.js';
import type { TokenSource } from '../token-source.js';
import { createTransport } from '../transport/index.js';
import type { GetTokenOptions } from '../types.js';
import { validateTexasOptions } from './options.js';
import type { TexasTokenSourceOptions } from './options.js';
import { afterTexasEviction } from './refresh.js';
import { texasRequestBody } from './request.js';
import { readTexasOutcome } from './response.js';

/**
 * A source of Maskinporten tokens from NAIS Texas, with the shape every adapter takes
 * (`getToken`, `invalidate`), plus `close()`. `getToken()` takes the client's options; those Texas
 * cannot send (`consumerOrg`, `pid`, `onBehalfOf`, more than one `resource`) are refused before any
 * request.
 *
 * @example
 * ```ts
 * const texas: TexasTokenSource = createTexasTokenSource({ scope: 'nav:aareg/v1/arbeidsforhold' });
 * const token = await texas.getToken();
 * ```
 */
export interface TexasTokenSource extends TokenSource<AccessToken> {
  /** Texas' token endpoint in use. */
  readonly endpoint: string;
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /**
   * Drops `token` if it is still the cached one (after an API answered 401 to it), and makes the
   * next request for it ask Texas for a new one (`skip_cache: true`), once. Returns whether it did.
   */
  invalidate(token: AccessToken | string): boolean;
  on(event: 'refreshError', listener: (error: AnyPortvaktError) => void): this;
  off(event: 'refreshError', listener: (...args: never[]) => void): this;
  /** Forgets every token and ends requests in flight; later getToken() calls reject with ClientClosedError. */
  close(): Promise<void>;
}

interface TexasSlot extends CacheSlot<AccessToken> {
  /** The JSON body, and the same with `skip_cache: true`, made once. */
  readonly body: string;
  readonly skipCacheBody: string;
  readonly payloads: ScopePayloads;
}

/**
 * Creates a token source that gets Maskinporten tokens from NAIS Texas. Only the endpoint is
 * needed, and it defaults to `NAIS_TOKEN_ENDPOINT`; every option is checked here, before any
 * request. Texas' refusals keep its `error` and `error_description` (a {@link TokenEndpointError}
 * with `via: 'texas'` and a hint in NAIS' terms) and are never retried; `server_error`, other 5xx
 * and network errors are retried a bounded number of times (Texas retries Maskinporten as well).
 *
 * @example
 * ```ts
 * import axios from 'axios';
 * import { createTexasTokenSource } from '@portvakt/core';
 * import { withMaskinporten } from '@portvakt/axios';
 *
 * const texas = createTexasTokenSource({ scope: 'nav:aareg/v1/arbeidsforhold' }); // NAIS_TOKEN_ENDPOINT
 * const aareg = axios.create({ baseURL: 'https://aareg.example.no' });
 * withMaskinporten(aareg, { client: texas });
 * ```
 */
export function createTexasTokenSource(options?: TexasTokenSourceOptions): TexasTokenSource {
  const settings = validateTexasOptions(options);
  const { endpoint, policy, clock, clientId } = settings;
  const transport = createTransport(settings.transport, clock);
  const closing = new AbortController();
  // Read on every getToken(): a plain flag costs less than the signal's `aborted` getter.
  let closed = false;
  setMaxListeners(0, closing.signal);
  const emitter = new EventEmitter();
  const payloadsOf = createScopePayloads(clientId);
  // Tokens an API refused, by slot key: the next request for the slot asks Texas to skip its cache.
  const refused = new Map<string, string>();

  async function ask(slot: TexasSlot, skipCache: boolean, observer: FetchObserver | undefined): Promise<{ token: AccessToken; attempts: number }> {
    const { response, sentAt, attempts } = await transport.post({
      endpoint,
      contentType: 'application/json',
      body: skipCache ? slot.skipCacheBody : slot.body,
      readOutcome: readTexasOutcome,
      signal: closing.signal,
      observer,
    });
    // `expires_in` is what is left on Texas' cached token, counted from when we asked.
    const token = new AccessToken(response.accessToken, { tokenType: response.tokenType, scope: slot.scope, issuedAt: sentAt, expiresAt: sentAt + response.expiresIn * 1000 });
    return { token, attempts };
  }

  function fetchFor(slot: TexasSlot, reason: 'miss' | 'refresh'): Promise<AccessToken> {
    return publishFetch({ clientId, issuer: undefined, scope: slot.scope, reason }, { clock, closing: closing.signal, closed: () => new ClientClosedError() }, async (observer) => {
      const stale = refused.get(slot.key);
      refused.delete(slot.key);
      try {
        const first = await ask(slot, stale !== undefined, observer);
        // A request sent before the token was refused can bring that very token back from Texas'
        // cache: ask once more, skipping it.
        const late = refused.get(slot.key);
        refused.delete(slot.key);
        if (stale !== undefined || late !== first.token.accessToken) return first;
        const second = await ask(slot, true, observer);
        return { token: second.token, attempts: first.attempts + second.attempts };
      } catch (error) {
        // Until a request gets through, the next one still asks Texas to skip the refused token.
        if (stale !== undefined && !refused.has(slot.key)) refused.set(slot.key, stale);
        throw error;
      }
    });
  }

  // One function for every slot (the cache calls it as the slot's method): no closure per slot.
  function fetchSlot(this: TexasSlot, reason: 'miss' | 'refresh'): Promise<AccessToken> {
    return fetchFor(this, reason);
  }
  const slots = createSlotTable<TexasSlot>({
    defaults: settings.defaults,
    hasDefaults: settings.hasDefaults,
    make(request) {
      const body = texasRequestBody(request);
      const json = JSON.stringify(body);
      return {
        key: json,
        scope: request.scope,
        body: json,
        skipCacheBody: JSON.stringify({ ...body, skip_cache: true }),
        payloads: payloadsOf(request.scope),
        fetch: fetchSlot,
        entry: undefined,
      };
    },
  });
  const cache = new TokenCache<AccessToken, TexasSlot>(policy, clock, diagnosticCacheEvents(emitter), Math.random, afterTexasEviction);

  const source: TexasTokenSource = {
    endpoint,
    getToken(opts?: GetTokenOptions): Promise<AccessToken> {
      if (closed) return Promise.reject(new ClientClosedError());
      try {
        if (opts === undefined) return cache.get(slots.slotOf(undefined), 0, undefined);
        const scoped = slots.scopeOnly(opts);
        if (scoped !== undefined) return cache.get(scoped, 0, undefined);
        const { minValidityMs, signal } = readGetTokenOptions(opts);
        return cache.get(slots.slotOf(opts), minValidityMs, signal);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    invalidate(token) {
      const value = typeof token === 'string' ? token : token instanceof AccessToken ? token.accessToken : undefined;
      const slot = value === undefined ? undefined : cache.slotOf(value);
      if (value === undefined || slot === undefined || !cache.invalidate(slot.key, value)) return false;
      if (refused.size >= policy.maxEntries) refused.delete(refused.keys().next().value as string);
      refused.set(slot.key, value);
      return true;
    },
    on(event: string, listener: (...args: never[]) => void) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return source;
    },
    off(event: string, listener: (...args: never[]) => void) {
      emitter.off(event, listener as (...args: unknown[]) => void);
      return source;
    },
    async close() {
      closed = true;
      closing.abort(new ClientClosedError());
      cache.close();
      slots.reset();
      refused.clear();
      emitter.removeAllListeners();
    },
  } as TexasTokenSource;
  Object.defineProperties(source, {
    toJSON: { value: () => ({ endpoint }), enumerable: false },
    [inspectSymbol]: { value: () => `TexasTokenSource { endpoint: '${endpoint}' }`, enumerable: false },
  });
  return source;
}
