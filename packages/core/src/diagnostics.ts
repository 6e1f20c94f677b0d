// Events on node:diagnostics_channel, so OpenTelemetry or a logger can listen without Portvakt
// depending on either. Payloads carry no token, grant, key or pid.
import diagnostics from 'node:diagnostics_channel';

/**
 * The channel names Portvakt publishes on.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * import { DIAGNOSTICS_CHANNELS } from '@portvakt/core';
 * diagnostics.subscribe(DIAGNOSTICS_CHANNELS.fetchError, (event) => console.warn('token fetch failed', event));
 * ```
 */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  /** `{ clientId, issuer, scope, reason: 'miss' | 'refresh' }` */
  fetchStart: 'portvakt:token:fetch:start',
  /** `{ clientId, issuer, scope, attempts, durationMs, expiresIn }` */
  fetchEnd: 'portvakt:token:fetch:end',
  /** `{ clientId, issuer, scope, durationMs, code, mpCode? }` */
  fetchError: 'portvakt:token:fetch:error',
  /** `{ clientId, scope }` */
  cacheHit: 'portvakt:cache:hit',
  /** `{ clientId, scope }` */
  cacheMiss: 'portvakt:cache:miss',
  /** `{ clientId, scope }`: a background refresh-ahead started. */
  cacheRefresh: 'portvakt:cache:refresh',
  /** `{ clientId, subject, notAfter, daysLeft }` */
  certificateWarning: 'portvakt:certificate:warning',
});

export const channels = {
  fetchStart: diagnostics.channel(DIAGNOSTICS_CHANNELS.fetchStart),
  fetchEnd: diagnostics.channel(DIAGNOSTICS_CHANNELS.fetchEnd),
  fetchError: diagnostics.channel(DIAGNOSTICS_CHANNELS.fetchError),
  cacheHit: diagnostics.channel(DIAGNOSTICS_CHANNELS.cacheHit),
  cacheMiss: diagnostics.channel(DIAGNOSTICS_CHANNELS.cacheMiss),
  cacheRefresh: diagnostics.channel(DIAGNOSTICS_CHANNELS.cacheRefresh),
  certificateWarning: diagnostics.channel(DIAGNOSTICS_CHANNELS.certificateWarning),
};
