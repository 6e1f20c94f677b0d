// A cache-hit getToken() with @portvakt/opentelemetry installed against the same hit without it,
// in the same run (goal: at most 1.1x, since hits are the hot path). The instrumentation listens on
// process-wide diagnostics channels, so the two sides cannot run side by side: the subject installs
// it before its timed loop and removes it after, and the baseline runs with no subscriber at all.
//
// @portvakt/opentelemetry and the OpenTelemetry SDK are resolved from packages/opentelemetry (its
// build and its devDependencies), so this benchmark needs `pnpm --filter @portvakt/opentelemetry build`.
import { createRequire } from 'node:module';
import { createMaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import { asyncLoop, createBench } from './harness.mjs';

const otelPackage = new URL('../../packages/opentelemetry/', import.meta.url);
const requireFromOtel = createRequire(new URL('package.json', otelPackage));
const { instrumentPortvakt } = await import(new URL('dist/esm/index.js', otelPackage).href);
const { MeterProvider, InMemoryMetricExporter, PeriodicExportingMetricReader, AggregationTemporality } = requireFromOtel('@opentelemetry/sdk-metrics');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = requireFromOtel('@opentelemetry/sdk-trace-base');

const bench = createBench('otel', 'a warm getToken() with @portvakt/opentelemetry installed against one without');
const key = generateClientKey({ kid: 'bench' });
const sim = await startMaskinportenSimulator({ clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:a'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const client = createMaskinportenClient({ clientId: 'bench', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'bench:a' });

// The SDK as an application has it: a metric reader and a span processor behind the providers.
const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });

// The first fetch goes through the instrumentation, so its span and metrics are known to work here.
const check = instrumentPortvakt({ meterProvider, tracerProvider });
await client.getToken();
await client.getToken();
check.uninstrument();
if (spans.getFinishedSpans().length !== 1) throw new Error(`expected 1 fetch span, saw ${spans.getFinishedSpans().length}`);

// Slices of 200 000 hits: installing and removing the instrumentation changes the channels' shape,
// and V8 re-optimises the hit path after it; a long slice keeps that one-off cost out of the figure.
const N = 200_000; // per slice; 6 slices a round
const hits = asyncLoop(() => client.getToken(), N);
const instrumented = async () => {
  const instrumentation = instrumentPortvakt({ meterProvider, tracerProvider });
  try {
    return await hits();
  } finally {
    instrumentation.uninstrument();
  }
};
await bench.compare({
  baseline: { label: 'client.getToken() cache hit, not instrumented', run: hits },
  subjects: [{ label: 'client.getToken() cache hit, instrumentPortvakt() installed', run: instrumented, figure: 'cache-hit getToken() instrumented vs not', goal: { max: 1.1 } }],
  ops: N,
  chunks: 6,
  kind: 'time',
  rounds: 9,
  warmup: 2,
});

// What an operator sees for the run: the hits were counted, and no hit made a span.
await reader.forceFlush();
if (spans.getFinishedSpans().length !== 1) throw new Error(`a cache hit made a span: ${spans.getFinishedSpans().length} spans`);
if (sim.tokenRequestCount() !== 1) throw new Error(`expected 1 token request, saw ${sim.tokenRequestCount()}`);
await client.close();
await sim.close();
await meterProvider.shutdown();
await tracerProvider.shutdown();
bench.finish();
