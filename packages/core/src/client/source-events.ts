// The diagnostics events of a token source (docs in diagnostics.ts): its cache's hits, misses and
// refreshes, and the start, retries, end or error of each fetch. The Maskinporten client and the
// Texas source publish the same events on the same channels, so a listener (OpenTelemetry, a
// logger) sees both alike.
import type { EventEmitter } from 'node:events';
import type { CacheEvents } from '../cache/index.js';
import { channels } from '../diagnostics.js';
import { EndpointUnavailableError, isPortvaktError } from '../errors.js';
import type { AnyPortvaktError } from '../errors.js';
import type { TransportObserver } from '../transport/index.js';
import type { Clock } from '../types.js';
import type { AccessToken } from './access-token.js';
import { countHit } from './event-payloads.js';
import type { ScopePayloads } from './event-payloads.js';

/** Wraps anything thrown by a fetch as the PortvaktError callers and listeners get. */
export function toPortvaktError(error: unknown): AnyPortvaktError {
  return isPortvaktError(error) ? error : new EndpointUnavailableError('Token refresh failed', { attempts: 0, cause: error });
}

/**
 * The cache events of a source whose slots carry their payloads: published when someone listens,
 * and a failed background refresh emitted as `refreshError` on `emitter`.
 */
export function diagnosticCacheEvents<S extends { readonly payloads: ScopePayloads }>(emitter: EventEmitter): CacheEvents<S> {
  return {
    hit: (slot) => {
      if (channels.cacheHit.hasSubscribers) channels.cacheHit.publish(slot.payloads.event);
      if (channels.cacheHitCount.hasSubscribers) countHit(slot.payloads.tally);
    },
    miss: (slot) => channels.cacheMiss.hasSubscribers && channels.cacheMiss.publish(slot.payloads.event),
    refresh: (slot) => channels.cacheRefresh.hasSubscribers && channels.cacheRefresh.publish(slot.payloads.event),
    refreshError: (_slot, error) => {
      if (emitter.listenerCount('refreshError') > 0) emitter.emit('refreshError', toPortvaktError(error));
    },
  };
}

/** Numbers the fetches of the process, so listeners can tie a fetch's events together. */
let lastFetchId = 0;

/** A transport observer that counts attempts and publishes retries; made only when someone listens. */
export type FetchObserver = TransportObserver & { attempts: number };

/** What a fetch is about, for its events. */
export interface FetchSubject {
  readonly clientId: string;
  readonly issuer: string | undefined;
  readonly scope: string;
  readonly reason: 'miss' | 'refresh';
}

/**
 * Runs one fetch and publishes its events: `fetchStart` before the first await (so a listener
 * runs in the caller's async context on a miss), `fetchRetry` through the observer, then
 * `fetchEnd` or `fetchError`. `run` returns the token and the requests it sent (`undefined` when a
 * shared store answered). `closing` turns any failure after close() into `closed()`.
 */
export async function publishFetch(
  subject: FetchSubject,
  parts: { clock: Clock; closing: AbortSignal; closed: () => Error },
  run: (observer: FetchObserver | undefined) => Promise<{ token: AccessToken; attempts: number | undefined }>,
): Promise<AccessToken> {
  const started = performance.now();
  const fetchId = ++lastFetchId;
  const { clientId, issuer, scope, reason } = subject;
  if (channels.fetchStart.hasSubscribers) channels.fetchStart.publish({ fetchId, clientId, issuer, scope, reason });
  const observer: FetchObserver | undefined =
    channels.fetchRetry.hasSubscribers || channels.fetchError.hasSubscribers
      ? {
          attempts: 0,
          attempt(n) {
            this.attempts = n;
          },
          retry({ attempt, reason: why, status, delayMs }) {
            if (channels.fetchRetry.hasSubscribers) channels.fetchRetry.publish({ fetchId, clientId, issuer, scope, attempt, reason: why, status, delayMs });
          },
        }
      : undefined;
  try {
    const { token, attempts } = await run(observer);
    if (channels.fetchEnd.hasSubscribers) {
      channels.fetchEnd.publish({ fetchId, clientId, issuer, scope, reason, attempts: attempts ?? 0, fromStore: attempts === undefined, durationMs: performance.now() - started, expiresIn: token.expiresIn(parts.clock.now()) });
    }
    return token;
  } catch (error) {
    const failure = parts.closing.aborted ? parts.closed() : error;
    if (channels.fetchError.hasSubscribers) {
      const e = toPortvaktError(failure);
      channels.fetchError.publish({ fetchId, clientId, issuer, scope, reason, attempts: observer?.attempts ?? 0, durationMs: performance.now() - started, code: e.code, mpCode: e.code === 'ERR_PORTVAKT_TOKEN_REJECTED' ? e.mpCode : undefined });
    }
    throw failure;
  }
}
