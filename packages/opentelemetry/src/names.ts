// The names Portvakt's telemetry is found by, in OpenTelemetry's semantic-convention style:
// lower-case dotted namespaces, units in UCUM (`s`, `{hit}`), no `_total` suffix (exporters add it).

/**
 * The metric names `instrumentPortvakt` records, with their units in the docs
 * (docs/observability.md). Exported to Prometheus with dots as underscores and the unit appended:
 * `portvakt.token.fetch.duration` becomes `portvakt_token_fetch_duration_seconds`.
 *
 * @example
 * ```ts
 * import { PORTVAKT_METRICS } from '@portvakt/opentelemetry';
 * const hits = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === PORTVAKT_METRICS.cacheHits);
 * ```
 */
export const PORTVAKT_METRICS = Object.freeze({
  /** Histogram, `s`: one token fetch from Maskinporten (or a shared store), success or failure. */
  fetchDuration: 'portvakt.token.fetch.duration',
  /** Counter, `{retry}`: attempts that failed transiently and were tried again. */
  fetchRetries: 'portvakt.token.fetch.retries',
  /** Counter, `{hit}`: `getToken()` answered from memory. */
  cacheHits: 'portvakt.cache.hits',
  /** Counter, `{miss}`: `getToken()` calls that waited for a fetch. */
  cacheMisses: 'portvakt.cache.misses',
  /** Counter, `{refresh}`: background refresh-ahead fetches started. */
  cacheRefreshes: 'portvakt.cache.refreshes',
  /** Counter, `{failure}`: background refreshes that failed (the cached token stays in service). */
  cacheRefreshFailures: 'portvakt.cache.refresh.failures',
  /** Gauge, `s`: time left until the client's enterprise certificate expires. */
  certificateTimeToExpiry: 'portvakt.certificate.time_to_expiry',
  /** Counter, `{hit}`: `@portvakt/redis` loads answered from Redis. */
  redisHits: 'portvakt.redis.hits',
  /** Counter, `{miss}`: `@portvakt/redis` loads that fetched from Maskinporten. */
  redisMisses: 'portvakt.redis.misses',
  /** Counter, `{wait}`: `@portvakt/redis` loads that waited for another replica's fetch. */
  redisLockWaits: 'portvakt.redis.lock.waits',
  /** Histogram, `s`: how long such a wait lasted. */
  redisLockWaitDuration: 'portvakt.redis.lock.wait.duration',
  /** Counter, `{change}`: a client took a new signing key (from `setKey()` or the key file it follows). */
  keyChanges: 'portvakt.key.changes',
  /** Counter, `{refusal}`: the key file a client follows gave no usable key; the key in use stays. */
  keyRefusals: 'portvakt.key.refusals',
});

/** The name of the span around each token fetch, and of the event each retry adds to it. */
export const PORTVAKT_SPANS = Object.freeze({
  fetch: 'portvakt.token.fetch',
  retryEvent: 'portvakt.token.fetch.retry',
});

/**
 * The attribute keys on Portvakt's metrics and spans. None carries a token, grant, key, `pid`,
 * `consumerOrg` or system-user reference: only the client id, the scope, the issuer, codes and
 * numbers.
 *
 * @example
 * ```ts
 * import { PORTVAKT_ATTRIBUTES } from '@portvakt/opentelemetry';
 * span.attributes[PORTVAKT_ATTRIBUTES.mpCode]; // 'MP-130'
 * ```
 */
export const PORTVAKT_ATTRIBUTES = Object.freeze({
  clientId: 'portvakt.client.id',
  scope: 'portvakt.scope',
  issuer: 'portvakt.issuer',
  /** `miss` (a caller waits) or `refresh` (background refresh-ahead). */
  fetchReason: 'portvakt.fetch.reason',
  /** `success` or `failure`. */
  fetchOutcome: 'portvakt.fetch.outcome',
  /** Token requests sent, retries included. */
  fetchAttempts: 'portvakt.fetch.attempts',
  /** Whether the token came from a shared store (Redis) instead of Maskinporten. */
  fetchFromStore: 'portvakt.fetch.from_store',
  /** The reason of each retry, in order. */
  fetchRetryReasons: 'portvakt.fetch.retry_reasons',
  /** Seconds the fetched token is valid for. */
  tokenExpiresIn: 'portvakt.token.expires_in',
  /** The `PortvaktError` code of a failure (OpenTelemetry's general `error.type`). */
  errorType: 'error.type',
  /** Maskinporten's `MP-nnn` code, when it named one. */
  mpCode: 'portvakt.maskinporten.code',
  /** `timeout`, `network`, `status` or `clock-offset`. */
  retryReason: 'portvakt.retry.reason',
  /** The attempt that failed (1-based). */
  retryAttempt: 'portvakt.retry.attempt',
  /** Seconds waited before the next attempt. */
  retryDelay: 'portvakt.retry.delay',
  /** The HTTP status of the failed attempt, when it had one. */
  httpStatus: 'http.response.status_code',
  redisKeyPrefix: 'portvakt.redis.key_prefix',
  /** Whether the token was found after waiting for another replica's fetch. */
  redisWaited: 'portvakt.redis.waited',
  /** `absent`, `unavailable` or `wait-timeout`. */
  redisMissReason: 'portvakt.redis.miss.reason',
  /** `token`, `lock`, `timeout`, `aborted` or `unavailable`. */
  redisLockOutcome: 'portvakt.redis.lock.outcome',
  /** Where a new key came from: `file` (the key file the client follows) or `set-key` (`setKey()`). */
  keySource: 'portvakt.key.source',
  /** Why a key file gave no key: `missing`, `unreadable`, `too-large`, `empty`, `incomplete`, `invalid` or `kid-unchanged`. */
  keyProblem: 'portvakt.key.problem',
});
