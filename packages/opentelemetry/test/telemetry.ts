// The OpenTelemetry SDK as an application would set it up, with its in-memory exporters: a meter
// provider whose reader is flushed on demand, a tracer provider that keeps every ended span, and
// the AsyncLocalStorage context manager so spans follow async calls.
import { context } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface Point {
  attributes: Attributes;
  /** A counter's or gauge's value; a histogram's count. */
  value: number;
  /** A histogram's sum. */
  sum?: number;
}

export interface Telemetry {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  spans: InMemorySpanExporter;
  /** Collects and exports now; the data points of each metric by name. */
  collect(): Promise<Map<string, { data: MetricData; points: Point[] }>>;
  /** The points of one metric after a collection ([] when it has none). */
  points(name: string): Promise<Point[]>;
  shutdown(): Promise<void>;
}

let contextManager: AsyncLocalStorageContextManager | undefined;

export interface TelemetryOptions {
  /**
   * The SDK's own limit of series per instrument (2000 by default), past which it folds series
   * into one `otel.metric.overflow` series. Raised by a test that measures Portvakt's own cap.
   */
  cardinalityLimit?: number;
}

export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  if (contextManager === undefined) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  }
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
    ...(options.cardinalityLimit === undefined ? {} : { cardinalityLimits: { default: options.cardinalityLimit } }),
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });

  async function collect() {
    metricExporter.reset();
    await reader.forceFlush();
    const byName = new Map<string, { data: MetricData; points: Point[] }>();
    for (const resource of metricExporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) {
        for (const data of scope.metrics) {
          const points = data.dataPoints.map((p): Point => {
            if (data.dataPointType === DataPointType.HISTOGRAM) {
              const h = p.value as { count: number; sum?: number };
              return { attributes: p.attributes, value: h.count, ...(h.sum === undefined ? {} : { sum: h.sum }) };
            }
            return { attributes: p.attributes, value: p.value as number };
          });
          byName.set(data.descriptor.name, { data, points });
        }
      }
    }
    return byName;
  }

  return {
    meterProvider,
    tracerProvider,
    spans,
    collect,
    async points(name) {
      return (await collect()).get(name)?.points ?? [];
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}
