// instrumentPortvakt: subscribes to core's diagnostics channels (and the Redis store's) and turns
// their events into OpenTelemetry metrics and spans. Until it is called nothing subscribes, and
// core builds no event at all.
import diagnostics from 'node:diagnostics_channel';
import { metrics, trace } from '@opentelemetry/api';
import type { Attributes, MeterProvider, ObservableCallback, ObservableResult, TracerProvider } from '@opentelemetry/api';
import { ConfigurationError, DIAGNOSTICS_CHANNELS } from '@portvakt/core';
import { refuseUnknownOptions } from '@portvakt/core/internal';
import type { DiagnosticsPayloads } from '@portvakt/core';
import { HitTallies, PairCap, PairCounts } from './counts.js';
import { FetchSpans } from './fetch-spans.js';
import { PORTVAKT_ATTRIBUTES as A, PORTVAKT_METRICS as M } from './names.js';

const SCOPE_NAME = '@portvakt/opentelemetry';

/** Token fetches take milliseconds to the deadline's tens of seconds. */
const FETCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A Redis lock wait polls every 20–200 ms up to `waitTimeout` (5 s by default). */
const LOCK_WAIT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Options of {@link instrumentPortvakt}.
 *
 * @example
 * ```ts
 * const options: PortvaktInstrumentationOptions = { meterProvider, tracerProvider };
 * ```
 */
export interface PortvaktInstrumentationOptions {
  /** Where metrics go; default the global provider (`metrics.getMeterProvider()`) at the time of the call. */
  meterProvider?: MeterProvider | undefined;
  /** Where spans go; default the global provider (`trace.getTracerProvider()`) at the time of the call. */
  tracerProvider?: TracerProvider | undefined;
}

/**
 * What {@link instrumentPortvakt} returns: `uninstrument()` unsubscribes from every channel, ends the
 * spans still open and stops reporting the observable metrics.
 *
 * @example
 * ```ts
 * const instrumentation: PortvaktInstrumentation = instrumentPortvakt();
 * process.once('SIGTERM', () => instrumentation.uninstrument());
 * ```
 */
export interface PortvaktInstrumentation {
  uninstrument(): void;
}

type Key = keyof DiagnosticsPayloads;

const OPTION_NAMES = ['meterProvider', 'tracerProvider'] as const;

/** A misspelt provider (`meterprovider`) would otherwise send everything to the global no-op provider, silently. */
function checkOptions(options: PortvaktInstrumentationOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigurationError('options', 'must be an object such as { meterProvider, tracerProvider }, or left out.');
  refuseUnknownOptions(options, OPTION_NAMES, '', { owner: 'instrumentPortvakt()' });
  if (options.meterProvider !== undefined && typeof (options.meterProvider as Partial<MeterProvider>).getMeter !== 'function') {
    throw new ConfigurationError('meterProvider', 'must be an OpenTelemetry MeterProvider (an object with getMeter()), such as the SDK\'s MeterProvider.');
  }
  if (options.tracerProvider !== undefined && typeof (options.tracerProvider as Partial<TracerProvider>).getTracer !== 'function') {
    throw new ConfigurationError('tracerProvider', 'must be an OpenTelemetry TracerProvider (an object with getTracer()), such as the SDK\'s BasicTracerProvider.');
  }
}

/**
 * Records Portvakt's token fetches, cache and Redis store as OpenTelemetry metrics, and each token
 * fetch as a span that joins the caller's trace. Call it once at start-up, after the OpenTelemetry
 * SDK (NAIS's auto-instrumentation sets the global providers). It listens on
 * `node:diagnostics_channel`, so clients created before or after the call are both seen, and
 * Portvakt itself does not depend on OpenTelemetry.
 *
 * The certificate gauge is fed by the clients' own events: a client that signs with an enterprise
 * certificate reports its expiry at each token fetch (and at creation when it expires within
 * `certificateWarningDays`), so the gauge has a value from the first token on.
 *
 * @example
 * ```ts
 * import { instrumentPortvakt } from '@portvakt/opentelemetry';
 * import { createMaskinportenClient, fromEnv } from '@portvakt/core';
 *
 * const instrumentation = instrumentPortvakt(); // the global meter and tracer providers
 * const client = createMaskinportenClient(fromEnv());
 * await client.getToken(); // a portvakt.token.fetch span and a portvakt.token.fetch.duration sample
 * instrumentation.uninstrument();
 * ```
 */
export function instrumentPortvakt(options: PortvaktInstrumentationOptions = {}): PortvaktInstrumentation {
  checkOptions(options);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME);
  // One cap for every instrument and the spans: a pair is named everywhere or `(other)` everywhere.
  const cap = new PairCap();
  const pairOf = (e: { clientId: string; scope: string }) => cap.attributesOf(e.clientId, e.scope);
  const spans = new FetchSpans((options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE_NAME), cap);

  const fetchDuration = meter.createHistogram(M.fetchDuration, {
    unit: 's',
    description: 'Duration of a Maskinporten token fetch, success or failure.',
    advice: { explicitBucketBoundaries: FETCH_BUCKETS },
  });
  const fetchRetries = meter.createCounter(M.fetchRetries, { unit: '{retry}', description: 'Token request attempts that failed transiently and were tried again.' });
  const refreshFailures = meter.createCounter(M.cacheRefreshFailures, { unit: '{failure}', description: 'Background refreshes that failed; the cached token stays in service.' });
  const redisHits = meter.createCounter(M.redisHits, { unit: '{hit}', description: 'Token store loads answered from Redis.' });
  const redisMisses = meter.createCounter(M.redisMisses, { unit: '{miss}', description: 'Token store loads that fetched from Maskinporten.' });
  const keyChanges = meter.createCounter(M.keyChanges, { unit: '{change}', description: 'Signing keys a client took: from setKey() or the key file it follows.' });
  const keyRefusals = meter.createCounter(M.keyRefusals, { unit: '{refusal}', description: 'Times the key file a client follows gave no usable key (the key in use stays).' });
  const redisLockWaits = meter.createCounter(M.redisLockWaits, { unit: '{wait}', description: "Token store loads that waited for another replica's fetch." });
  const redisLockWaitDuration = meter.createHistogram(M.redisLockWaitDuration, {
    unit: 's',
    description: "How long a token store load waited for another replica's fetch.",
    advice: { explicitBucketBoundaries: LOCK_WAIT_BUCKETS },
  });

  const hits = new HitTallies(cap);
  const misses = new PairCounts(cap);
  const refreshes = new PairCounts(cap);
  /** Each certificate client's notAfter (epoch ms), by client id. */
  const certificates = new Map<string, number>();
  const observables: [{ removeCallback(cb: ObservableCallback): void }, ObservableCallback][] = [];
  const observe = (instrument: { addCallback(cb: ObservableCallback): void; removeCallback(cb: ObservableCallback): void }, cb: ObservableCallback) => {
    instrument.addCallback(cb);
    observables.push([instrument, cb]);
  };
  observe(meter.createObservableCounter(M.cacheHits, { unit: '{hit}', description: 'getToken() calls answered from memory.' }), (r) => hits.observe(r));
  observe(meter.createObservableCounter(M.cacheMisses, { unit: '{miss}', description: 'getToken() calls that waited for a token fetch.' }), (r) => misses.observe(r));
  observe(meter.createObservableCounter(M.cacheRefreshes, { unit: '{refresh}', description: 'Background refresh-ahead fetches started.' }), (r) => refreshes.observe(r));
  observe(
    meter.createObservableGauge(M.certificateTimeToExpiry, { unit: 's', description: "Time left until the client's enterprise certificate expires." }),
    (r: ObservableResult) => {
      const now = Date.now();
      for (const [clientId, notAfter] of certificates) r.observe((notAfter - now) / 1000, { [A.clientId]: clientId });
    },
  );

  const onCertificate = (e: DiagnosticsPayloads['certificateStatus']) => void certificates.set(e.clientId, e.notAfter.getTime());
  const handlers: { [K in Key]?: (event: DiagnosticsPayloads[K]) => void } = {
    // Hits are counted by core and read at collection: nothing runs per hit here.
    cacheHitCount: (tally) => hits.see(tally),
    cacheMiss: (e) => misses.increment(e),
    cacheRefresh: (e) => refreshes.increment(e),
    fetchStart: (e) => spans.start(e),
    fetchRetry: (e) => {
      spans.retry(e);
      fetchRetries.add(1, { ...pairOf(e), [A.retryReason]: e.reason });
    },
    fetchEnd: (e) => {
      spans.end(e);
      fetchDuration.record(e.durationMs / 1000, { ...pairOf(e), [A.fetchReason]: e.reason, [A.fetchOutcome]: 'success' });
    },
    fetchError: (e) => {
      spans.error(e);
      const failure: Attributes = { ...pairOf(e), [A.errorType]: e.code, ...(e.mpCode === undefined ? {} : { [A.mpCode]: e.mpCode }) };
      fetchDuration.record(e.durationMs / 1000, { ...failure, [A.fetchReason]: e.reason, [A.fetchOutcome]: 'failure' });
      if (e.reason === 'refresh') refreshFailures.add(1, failure);
    },
    certificateStatus: onCertificate,
    certificateWarning: onCertificate,
    // Neither carries the file's path, the kid or the message: the client id and a word each.
    keyChange: (e) => keyChanges.add(1, { [A.clientId]: e.clientId, [A.keySource]: e.file === undefined ? 'set-key' : 'file' }),
    keyRefused: (e) => keyRefusals.add(1, { [A.clientId]: e.clientId, [A.keyProblem]: e.problem }),
    redisHit: (e) => redisHits.add(1, { [A.redisKeyPrefix]: e.keyPrefix, [A.redisWaited]: e.waited }),
    redisMiss: (e) => redisMisses.add(1, { [A.redisKeyPrefix]: e.keyPrefix, [A.redisMissReason]: e.reason }),
    redisLockWait: (e) => {
      const attributes = { [A.redisKeyPrefix]: e.keyPrefix, [A.redisLockOutcome]: e.outcome };
      redisLockWaits.add(1, attributes);
      redisLockWaitDuration.record(e.waitedMs / 1000, attributes);
    },
  };

  const subscriptions: [string, (message: unknown) => void][] = [];
  for (const key of Object.keys(handlers) as Key[]) {
    const listener = handlers[key] as (message: unknown) => void;
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS[key], listener);
    subscriptions.push([DIAGNOSTICS_CHANNELS[key], listener]);
  }

  let active = true;
  return {
    uninstrument() {
      if (!active) return;
      active = false;
      for (const [name, listener] of subscriptions) diagnostics.unsubscribe(name, listener);
      for (const [instrument, cb] of observables) instrument.removeCallback(cb);
      spans.close();
      certificates.clear();
    },
  };
}
