// Events on node:diagnostics_channel, so OpenTelemetry or a logger can listen without Portvakt
// depending on either. Payloads carry no token, grant, key, pid or system-user reference: only
// the client id, the scope, the issuer and numbers. Every publish is guarded by hasSubscribers,
// so a channel nobody listens to costs nothing, not even the payload object.
import diagnostics from 'node:diagnostics_channel';

/**
 * The channel names Portvakt publishes on, and what each payload holds. Nothing is published on a
 * channel nobody subscribes to.
 *
 * | Key | Channel | Published | Payload |
 * |---|---|---|---|
 * | `fetchStart` | `portvakt:token:fetch:start` | a token fetch begins, in the caller's async context for a miss | `{ fetchId, clientId, issuer, scope, reason: 'miss' \| 'refresh' }` |
 * | `fetchRetry` | `portvakt:token:fetch:retry` | an attempt failed and another follows | `{ fetchId, clientId, issuer, scope, attempt, reason: 'timeout' \| 'network' \| 'status' \| 'clock-offset', status?, delayMs }` |
 * | `fetchEnd` | `portvakt:token:fetch:end` | a fetch gave a token | `{ fetchId, clientId, issuer, scope, reason, attempts, fromStore, durationMs, expiresIn }` |
 * | `fetchError` | `portvakt:token:fetch:error` | a fetch failed (`reason: 'refresh'` is a failed background refresh) | `{ fetchId, clientId, issuer, scope, reason, attempts, durationMs, code, mpCode? }` |
 * | `cacheHit` | `portvakt:cache:hit` | `getToken()` answered from memory | `{ clientId, scope }` |
 * | `cacheHitCount` | `portvakt:cache:hit:count` | the first hit of a client and scope, and every 1024th after, while subscribed | `{ clientId, scope, hits }`, live: see below |
 * | `cacheMiss` | `portvakt:cache:miss` | `getToken()` waits for a fetch | `{ clientId, scope }` |
 * | `cacheRefresh` | `portvakt:cache:refresh` | a hit started a background refresh-ahead | `{ clientId, scope }` |
 * | `certificateStatus` | `portvakt:certificate:status` | a client that signs with an enterprise certificate fetches a token | `{ clientId, subject, notAfter, daysLeft }` |
 * | `certificateWarning` | `portvakt:certificate:warning` | at creation, when the certificate expires within `certificateWarningDays` | `{ clientId, subject, notAfter, daysLeft }` |
 * | `keyChange` | `portvakt:key:change` | a client took a new key: from `setKey()`, or from the key file it follows | `{ clientId, identity, previousIdentity, file }` |
 * | `keyRefused` | `portvakt:key:refused` | the key file a client follows gave no usable key; the key in use stays (once per state of the file) | `{ clientId, file, problem, code, message, identity }` |
 * | `redisHit` | `portvakt:redis:hit` | `@portvakt/redis`: a load answered from Redis | `{ keyPrefix, waited }` |
 * | `redisMiss` | `portvakt:redis:miss` | `@portvakt/redis`: a load that fetched from Maskinporten | `{ keyPrefix, reason: 'absent' \| 'unavailable' \| 'wait-timeout' }` |
 * | `redisLockWait` | `portvakt:redis:lock:wait` | `@portvakt/redis`: a load found another replica fetching and stopped waiting | `{ keyPrefix, waitedMs, outcome: 'token' \| 'lock' \| 'timeout' \| 'aborted' \| 'unavailable' }` |
 *
 * `identity` is `kid:<kid>;jkt:<RFC 7638 thumbprint of the public key>`,
 * `x5t#S256:<certificate thumbprint>`, or `kid:<kid>` for a custom signer (whose public key
 * Portvakt does not see: give a new one a new kid): never key material. A
 * `keyRefused` message is Portvakt's own words about the file (`problem`: `missing`, `unreadable`,
 * `too-large`, `empty`, `incomplete` for a write still under way, `invalid`, `kid-unchanged` for a
 * new key under the kid in use), never its content.
 *
 * `fetchId` is a number unique in the process that ties a fetch's start, retries and end or error
 * together. `attempts` counts the token requests sent (0 when the token came from a shared store,
 * or the fetch failed before sending one); `durationMs` is wall time in milliseconds; `expiresIn`
 * is seconds; `code` is the `PortvaktError` code and `mpCode` Maskinporten's `MP-nnn`, when it
 * named one. `notAfter` is a `Date`. The cache events' payload is one frozen object per client and
 * scope, reused by every event so that a hit allocates nothing: a subscriber may key a `WeakMap` by
 * it.
 *
 * `cacheHitCount` is for counting hits without a call per hit (a hit costs about 100 ns; a listener
 * called on each adds a tenth of that or more): its payload is one live tally per client and scope
 * whose `hits` grows by one on each hit while the channel has a subscriber. Keep the tally and
 * read `hits` when you report (say, when metrics are collected); it is published again every 1024
 * hits, so a subscriber that joins late finds it then.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * import { DIAGNOSTICS_CHANNELS } from '@portvakt/core';
 * diagnostics.subscribe(DIAGNOSTICS_CHANNELS.fetchError, (event) => console.warn('token fetch failed', event));
 * ```
 */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  fetchStart: 'portvakt:token:fetch:start',
  fetchRetry: 'portvakt:token:fetch:retry',
  fetchEnd: 'portvakt:token:fetch:end',
  fetchError: 'portvakt:token:fetch:error',
  cacheHit: 'portvakt:cache:hit',
  cacheHitCount: 'portvakt:cache:hit:count',
  cacheMiss: 'portvakt:cache:miss',
  cacheRefresh: 'portvakt:cache:refresh',
  certificateStatus: 'portvakt:certificate:status',
  certificateWarning: 'portvakt:certificate:warning',
  keyChange: 'portvakt:key:change',
  keyRefused: 'portvakt:key:refused',
  redisHit: 'portvakt:redis:hit',
  redisMiss: 'portvakt:redis:miss',
  redisLockWait: 'portvakt:redis:lock:wait',
});

export const channels = {
  fetchStart: diagnostics.channel(DIAGNOSTICS_CHANNELS.fetchStart),
  fetchRetry: diagnostics.channel(DIAGNOSTICS_CHANNELS.fetchRetry),
  fetchEnd: diagnostics.channel(DIAGNOSTICS_CHANNELS.fetchEnd),
  fetchError: diagnostics.channel(DIAGNOSTICS_CHANNELS.fetchError),
  cacheHit: diagnostics.channel(DIAGNOSTICS_CHANNELS.cacheHit),
  cacheHitCount: diagnostics.channel(DIAGNOSTICS_CHANNELS.cacheHitCount),
  cacheMiss: diagnostics.channel(DIAGNOSTICS_CHANNELS.cacheMiss),
  cacheRefresh: diagnostics.channel(DIAGNOSTICS_CHANNELS.cacheRefresh),
  certificateStatus: diagnostics.channel(DIAGNOSTICS_CHANNELS.certificateStatus),
  certificateWarning: diagnostics.channel(DIAGNOSTICS_CHANNELS.certificateWarning),
  keyChange: diagnostics.channel(DIAGNOSTICS_CHANNELS.keyChange),
  keyRefused: diagnostics.channel(DIAGNOSTICS_CHANNELS.keyRefused),
};

/** Why a token fetch runs: a caller missed the cache, or a hit started a background refresh. */
type FetchReason = 'miss' | 'refresh';

/**
 * The payload of each channel in {@link DIAGNOSTICS_CHANNELS}, by key: the types a subscriber casts
 * its message to.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * import { DIAGNOSTICS_CHANNELS } from '@portvakt/core';
 * import type { DiagnosticsPayloads } from '@portvakt/core';
 * diagnostics.subscribe(DIAGNOSTICS_CHANNELS.fetchEnd, (message) => {
 *   const event = message as DiagnosticsPayloads['fetchEnd'];
 *   console.log(`${event.scope}: ${event.attempts} attempts, ${event.durationMs.toFixed(0)} ms`);
 * });
 * ```
 */
export interface DiagnosticsPayloads {
  fetchStart: { fetchId: number; clientId: string; issuer: string | undefined; scope: string; reason: FetchReason };
  fetchRetry: { fetchId: number; clientId: string; issuer: string | undefined; scope: string; attempt: number; reason: 'timeout' | 'network' | 'status' | 'clock-offset'; status: number | undefined; delayMs: number };
  fetchEnd: { fetchId: number; clientId: string; issuer: string | undefined; scope: string; reason: FetchReason; attempts: number; fromStore: boolean; durationMs: number; expiresIn: number };
  fetchError: { fetchId: number; clientId: string; issuer: string | undefined; scope: string; reason: FetchReason; attempts: number; durationMs: number; code: string; mpCode: string | undefined };
  cacheHit: { clientId: string; scope: string };
  cacheHitCount: { readonly clientId: string; readonly scope: string; readonly hits: number };
  cacheMiss: { clientId: string; scope: string };
  cacheRefresh: { clientId: string; scope: string };
  certificateStatus: { clientId: string; subject: string; notAfter: Date; daysLeft: number };
  certificateWarning: { clientId: string; subject: string; notAfter: Date; daysLeft: number };
  keyChange: { clientId: string; identity: string; previousIdentity: string; file: string | undefined };
  keyRefused: { clientId: string; file: string; problem: 'missing' | 'unreadable' | 'too-large' | 'empty' | 'incomplete' | 'invalid' | 'kid-unchanged'; code: string; message: string; identity: string };
  redisHit: { keyPrefix: string; waited: boolean };
  redisMiss: { keyPrefix: string; reason: 'absent' | 'unavailable' | 'wait-timeout' };
  redisLockWait: { keyPrefix: string; waitedMs: number; outcome: 'token' | 'lock' | 'timeout' | 'aborted' | 'unavailable' };
}
