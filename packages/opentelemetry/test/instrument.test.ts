// instrumentPortvakt against the real simulator, read back through the SDK's in-memory exporters.
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, DIAGNOSTICS_CHANNELS } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { createTestPki, generateClientKey } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { instrumentPortvakt, PORTVAKT_ATTRIBUTES as A, PORTVAKT_METRICS as M, PORTVAKT_SPANS } from '@portvakt/opentelemetry';
import type { PortvaktInstrumentation } from '@portvakt/opentelemetry';
import { ORG, clientFor, key, manualClock, startSim, until } from './simulator.ts';
import { startTelemetry } from './telemetry.ts';
import type { Telemetry } from './telemetry.ts';

let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
let telemetry: Telemetry;
let instrumentation: PortvaktInstrumentation;

beforeEach(() => {
  telemetry = startTelemetry();
  instrumentation = instrumentPortvakt({ meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
});
afterEach(async () => {
  instrumentation.uninstrument();
  await client?.close();
  await sim?.close();
  await telemetry.shutdown();
  client = sim = undefined;
});

const fetchSpans = () => telemetry.spans.getFinishedSpans().filter((s) => s.name === PORTVAKT_SPANS.fetch);
const base = { [A.clientId]: 'client-1', [A.scope]: 'test:scope' };

describe('a token fetch', () => {
  it('records its duration, a miss and one span with the attempts', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    const duration = await telemetry.points(M.fetchDuration);
    expect(duration).toHaveLength(1);
    expect(duration[0]?.attributes).toEqual({ ...base, [A.fetchReason]: 'miss', [A.fetchOutcome]: 'success' });
    expect(duration[0]?.value).toBe(1);
    expect(duration[0]?.sum).toBeGreaterThan(0);
    expect(await telemetry.points(M.cacheMisses)).toEqual([{ attributes: base, value: 1 }]);
    const [span, ...others] = fetchSpans();
    expect(others).toEqual([]);
    expect(span?.attributes).toMatchObject({ ...base, [A.issuer]: sim.issuer, [A.fetchReason]: 'miss', [A.fetchAttempts]: 1, [A.fetchFromStore]: false, [A.fetchRetryReasons]: [] });
    expect(span?.attributes[A.tokenExpiresIn]).toBeGreaterThan(100);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('describes the instruments in seconds, with the names the docs list', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    await client.getToken();
    const collected = await telemetry.collect();
    expect(collected.get(M.fetchDuration)?.data.descriptor.unit).toBe('s');
    expect(collected.get(M.cacheHits)?.data.descriptor.unit).toBe('{hit}');
    for (const name of collected.keys()) expect(Object.values(M)).toContain(name);
  });

  it('counts a hit, and a hit makes no span', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    await client.getToken();
    await client.getToken({ scope: 'test:other' });
    await client.getToken({ scope: 'test:other' });
    await client.getToken({ scope: 'test:other' });
    const hits = await telemetry.points(M.cacheHits);
    expect(hits).toEqual(expect.arrayContaining([{ attributes: base, value: 1 }, { attributes: { ...base, [A.scope]: 'test:other' }, value: 2 }]));
    expect(hits).toHaveLength(2);
    expect(fetchSpans()).toHaveLength(2);
  });

  it('counts every hit past the tally publishes, and a late instrumentation counts from when it joined', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    for (let i = 0; i < 2000; i++) await client.getToken();
    const late = startTelemetry();
    const lateInstrumentation = instrumentPortvakt({ meterProvider: late.meterProvider, tracerProvider: late.tracerProvider });
    for (let i = 0; i < 1000; i++) await client.getToken();
    expect(await telemetry.points(M.cacheHits)).toEqual([{ attributes: base, value: 3000 }]);
    // The late one found the tally at hit 2049 (published every 1024 hits): it counts 2049 to 3000.
    expect(await late.points(M.cacheHits)).toEqual([{ attributes: base, value: 952 }]);
    lateInstrumentation.uninstrument();
    await late.shutdown();
  });

  it('counts a refresh-ahead and gives it a span of its own, linked to the caller that started it', async () => {
    const clock = manualClock();
    sim = await startSim({ clock });
    client = clientFor(sim, { clock, cache: { jitter: 0 } });
    await client.getToken();
    clock.advance(70_000); // past the refresh point (60 s of 120), before the safety margin
    const tracer = telemetry.tracerProvider.getTracer('test');
    const caller = await tracer.startActiveSpan('caller', async (span) => {
      await client!.getToken();
      span.end();
      return span;
    });
    await until(() => fetchSpans().length === 2, 'the refresh span');
    expect(await telemetry.points(M.cacheRefreshes)).toEqual([{ attributes: base, value: 1 }]);
    expect(await telemetry.points(M.cacheHits)).toEqual([{ attributes: base, value: 1 }]);
    const refresh = fetchSpans()[1]!;
    expect(refresh.attributes[A.fetchReason]).toBe('refresh');
    expect(refresh.parentSpanContext).toBeUndefined();
    expect(refresh.links.map((l) => l.context.spanId)).toEqual([caller.spanContext().spanId]);
    const duration = await telemetry.points(M.fetchDuration);
    expect(duration.map((p) => p.attributes[A.fetchReason]).sort()).toEqual(['miss', 'refresh']);
  });

  it('records a rejection with its error code and MP code, on the span and the histogram', async () => {
    sim = await startSim();
    client = clientFor(sim, { scope: 'not:registered' });
    await expect(client.getToken()).rejects.toMatchObject({ code: 'ERR_PORTVAKT_TOKEN_REJECTED' });
    const mpCode = sim.requests[0]?.error?.code;
    expect(mpCode).toMatch(/^MP-\d+$/);
    const [point] = await telemetry.points(M.fetchDuration);
    expect(point?.attributes).toEqual({
      [A.clientId]: 'client-1', [A.scope]: 'not:registered', [A.fetchReason]: 'miss', [A.fetchOutcome]: 'failure',
      [A.errorType]: 'ERR_PORTVAKT_TOKEN_REJECTED', [A.mpCode]: mpCode,
    });
    const [span] = fetchSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: `ERR_PORTVAKT_TOKEN_REJECTED (${mpCode})` });
    expect(span?.attributes).toMatchObject({ [A.errorType]: 'ERR_PORTVAKT_TOKEN_REJECTED', [A.mpCode]: mpCode, [A.fetchAttempts]: 1 });
    expect(await telemetry.points(M.cacheRefreshFailures)).toEqual([]);
  });
});

describe('an outage', () => {
  it('shows every attempt and its retry reason on the span of a fetch that gave up', async () => {
    sim = await startSim();
    client = clientFor(sim);
    sim.inject({ kind: 'status', status: 503 }, { times: 10 });
    await expect(client.getToken()).rejects.toMatchObject({ code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' });
    const [span] = fetchSpans();
    expect(span?.attributes).toMatchObject({ [A.fetchAttempts]: 3, [A.fetchRetryReasons]: ['status', 'status'], [A.errorType]: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' });
    expect(span?.attributes[A.mpCode]).toBeUndefined();
    expect(span?.events.map((e) => [e.name, e.attributes?.[A.retryAttempt], e.attributes?.[A.retryReason], e.attributes?.[A.httpStatus]])).toEqual([
      [PORTVAKT_SPANS.retryEvent, 1, 'status', 503],
      [PORTVAKT_SPANS.retryEvent, 2, 'status', 503],
    ]);
    expect(await telemetry.points(M.fetchRetries)).toEqual([{ attributes: { ...base, [A.retryReason]: 'status' }, value: 2 }]);
  });

  it('counts refresh failures while the cached token keeps being served', async () => {
    const clock = manualClock();
    sim = await startSim({ clock });
    client = clientFor(sim, { clock, cache: { jitter: 0 } });
    const first = await client.getToken();
    sim.inject({ kind: 'drop' }, { times: 100 });
    clock.advance(70_000);
    expect((await client.getToken()).accessToken).toBe(first.accessToken);
    await until(() => fetchSpans().length === 2, 'the failed refresh');
    clock.advance(2_000); // past the refresh backoff (1 s after the first failure)
    expect((await client.getToken()).accessToken).toBe(first.accessToken);
    await until(() => fetchSpans().length === 3, 'the second failed refresh');
    expect(await telemetry.points(M.cacheRefreshFailures)).toEqual([{ attributes: { ...base, [A.errorType]: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' }, value: 2 }]);
    expect(await telemetry.points(M.cacheHits)).toEqual([{ attributes: base, value: 2 }]);
    expect(fetchSpans().slice(1).map((s) => [s.attributes[A.fetchRetryReasons], s.status.code])).toEqual([
      [['network', 'network'], SpanStatusCode.ERROR],
      [['network', 'network'], SpanStatusCode.ERROR],
    ]);
  });
});

describe('traces', () => {
  it("nests a miss's fetch span under the caller's active span", async () => {
    sim = await startSim();
    client = clientFor(sim);
    const tracer = telemetry.tracerProvider.getTracer('test');
    const caller = await tracer.startActiveSpan('GET /skatt', async (span) => {
      await client!.getToken();
      span.end();
      return span;
    });
    const [fetch] = fetchSpans();
    expect(fetch?.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(fetch?.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
  });

  it("nests the first fetch under the caller's span when the environment is discovered first", async () => {
    sim = await startSim();
    client = clientFor(sim, { environment: { metadataUrl: sim.metadataUrl } });
    const tracer = telemetry.tracerProvider.getTracer('test');
    const caller = await tracer.startActiveSpan('job', async (span) => {
      await client!.getToken();
      span.end();
      return span;
    });
    expect(fetchSpans()[0]?.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
  });

  it('starts a trace of its own for a fetch outside any span', async () => {
    sim = await startSim();
    client = clientFor(sim);
    expect(trace.getActiveSpan()).toBeUndefined();
    await client.getToken();
    expect(fetchSpans()[0]?.parentSpanContext).toBeUndefined();
  });

  it('gives concurrent callers of one key one fetch span, under the caller that started it', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const tracer = telemetry.tracerProvider.getTracer('test');
    const callers = await Promise.all(['a', 'b', 'c'].map((name) => tracer.startActiveSpan(name, async (span) => {
      await client!.getToken();
      span.end();
      return span;
    })));
    expect(fetchSpans()).toHaveLength(1);
    expect(fetchSpans()[0]?.parentSpanContext?.spanId).toBe(callers[0]?.spanContext().spanId);
    expect(await telemetry.points(M.cacheMisses)).toEqual([{ attributes: base, value: 3 }]);
  });
});

describe('the certificate gauge', () => {
  it('reports the seconds left on the enterprise certificate of a client that fetched', async () => {
    const pki = createTestPki();
    const notAfter = Date.now() + 100 * 86_400_000;
    const cert = pki.issueEnterpriseCertificate({ orgno: ORG, notAfter: new Date(notAfter) });
    sim = await startSim({ trustedCaPems: pki.trustedCaPems });
    sim.addClient({ clientId: 'cert-client', orgno: ORG, scopes: ['test:scope'], acceptCertificates: true });
    client = clientFor(sim, { clientId: 'cert-client', key: { pkcs12: cert.toPkcs12('pw'), passphrase: 'pw' } });
    expect(await telemetry.points(M.certificateTimeToExpiry)).toEqual([]);
    await client.getToken();
    const [point, ...others] = await telemetry.points(M.certificateTimeToExpiry);
    expect(others).toEqual([]);
    expect(point?.attributes).toEqual({ [A.clientId]: 'cert-client' });
    // The certificate's notAfter has second precision; the gauge counts down with the real clock.
    expect(Math.abs(point!.value - (notAfter - Date.now()) / 1000)).toBeLessThan(60);
  });

  it('has a value from creation when the certificate is about to expire', async () => {
    const pki = createTestPki();
    const cert = pki.issueEnterpriseCertificate({ orgno: ORG, notAfter: new Date(Date.now() + 5 * 86_400_000) });
    sim = await startSim({ trustedCaPems: pki.trustedCaPems });
    client = clientFor(sim, { clientId: 'expiring', key: { pkcs12: cert.toPkcs12('pw'), passphrase: 'pw' } });
    await new Promise((r) => setImmediate(r));
    const [point] = await telemetry.points(M.certificateTimeToExpiry);
    expect(point?.attributes).toEqual({ [A.clientId]: 'expiring' });
    expect(point!.value).toBeGreaterThan(4 * 86_400);
    expect(point!.value).toBeLessThanOrEqual(5 * 86_400);
  });
});

describe('uninstrument', () => {
  it('leaves no subscriber on any channel, so core builds no event', async () => {
    // Hits are read from core's tallies: no listener is called per hit.
    const { cacheHit, ...others } = DIAGNOSTICS_CHANNELS;
    expect(diagnostics.hasSubscribers(cacheHit)).toBe(false);
    for (const name of Object.values(others)) expect(diagnostics.hasSubscribers(name)).toBe(true);
    instrumentation.uninstrument();
    for (const name of Object.values(DIAGNOSTICS_CHANNELS)) expect(diagnostics.hasSubscribers(name)).toBe(false);
    instrumentation.uninstrument(); // twice is harmless
  });

  it('stops recording: no spans and no counts after it', async () => {
    sim = await startSim();
    client = clientFor(sim);
    await client.getToken();
    await client.getToken();
    instrumentation.uninstrument();
    await client.getToken({ scope: 'test:other' });
    await client.getToken();
    expect(fetchSpans()).toHaveLength(1);
    expect(await telemetry.points(M.cacheHits)).toEqual([]);
  });

  it('ends the span of a fetch still in flight', async () => {
    sim = await startSim();
    client = clientFor(sim);
    sim.inject({ kind: 'delay', ms: 300 }, { times: 1 });
    const pending = client.getToken(); // the fetch and its span start here, synchronously
    instrumentation.uninstrument();
    expect(fetchSpans()).toHaveLength(1);
    expect(fetchSpans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
    await pending;
    expect(fetchSpans()).toHaveLength(1);
  });

  it('lets two instrumentations run side by side and stop apart', async () => {
    sim = await startSim();
    client = clientFor(sim);
    const second = startTelemetry();
    const other = instrumentPortvakt({ meterProvider: second.meterProvider, tracerProvider: second.tracerProvider });
    await client.getToken();
    other.uninstrument();
    await client.getToken();
    expect(second.spans.getFinishedSpans()).toHaveLength(1);
    expect(await second.points(M.cacheHits)).toEqual([]);
    expect(await telemetry.points(M.cacheHits)).toEqual([{ attributes: base, value: 1 }]);
    await second.shutdown();
  });
});

describe('signing keys', () => {
  it('counts a key taken with setKey() and from a followed file, and a refused file, without the path or the kid', async () => {
    const second = generateClientKey({ kid: 'otel-key-2' });
    sim = await startSim({ clients: [{ clientId: 'client-1', orgno: ORG, scopes: ['test:scope'], jwks: [key.publicJwk, second.publicJwk] }] });
    const dir = mkdtempSync(path.join(tmpdir(), 'portvakt-otel-key-'));
    try {
      const file = path.join(dir, 'key.json');
      writeFileSync(file, JSON.stringify(key.privateJwk));
      client = clientFor(sim, { key: { file, follow: { pollInterval: 50 } } });
      await client.getToken();
      writeFileSync(file, JSON.stringify(second.privateJwk));
      await expect.poll(async () => (await telemetry.points(M.keyChanges)).length, { timeout: 10_000 }).toBe(1);
      writeFileSync(file, '{"kty":"RSA","n":');
      await expect.poll(async () => (await telemetry.points(M.keyRefusals)).length, { timeout: 10_000 }).toBe(1);
      client.setKey({ jwk: key.privateJwk });
      expect(await telemetry.points(M.keyRefusals)).toEqual([{ attributes: { [A.clientId]: 'client-1', [A.keyProblem]: 'incomplete' }, value: 1 }]);
      const changes = await telemetry.points(M.keyChanges);
      expect(changes).toEqual(
        expect.arrayContaining([
          { attributes: { [A.clientId]: 'client-1', [A.keySource]: 'file' }, value: 1 },
          { attributes: { [A.clientId]: 'client-1', [A.keySource]: 'set-key' }, value: 1 },
        ]),
      );
      expect(changes).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it.each([
    [{ meterprovider: {} }, 'meterprovider', /did you mean "meterProvider"/],
    [{ tracerprovider: {} }, 'tracerprovider', /did you mean "tracerProvider"/],
    [{ meterProviders: {} }, 'meterProviders', /did you mean "meterProvider"/],
    [{ meterProvider: { forceFlush() {} } }, 'meterProvider', /getMeter/],
    [{ tracerProvider: 'otel' }, 'tracerProvider', /getTracer/],
    [[], 'options', /must be an object/],
    [null, 'options', /must be an object/],
  ])('refuses %o, naming the field and the fix, and subscribes to nothing', (options, field, fix) => {
    const before = Object.values(DIAGNOSTICS_CHANNELS).filter((name) => diagnostics.channel(name).hasSubscribers).length;
    let caught: unknown;
    try {
      instrumentPortvakt(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).field).toBe(field);
    expect((caught as Error).message).toMatch(fix);
    expect(Object.values(DIAGNOSTICS_CHANNELS).filter((name) => diagnostics.channel(name).hasSubscribers).length).toBe(before);
  });
});
