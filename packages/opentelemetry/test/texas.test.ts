// instrumentPortvakt sees the Texas token source as it sees the client: the same diagnostics
// channels, so fetches, retries, hits and misses of a NAIS app reach its metrics and traces.
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTexasTokenSource } from '@portvakt/core';
import type { TexasTokenSource } from '@portvakt/core';
import { startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { instrumentPortvakt, PORTVAKT_ATTRIBUTES as A, PORTVAKT_METRICS as M, PORTVAKT_SPANS } from '@portvakt/opentelemetry';
import type { PortvaktInstrumentation } from '@portvakt/opentelemetry';
import { startTelemetry } from './telemetry.ts';
import type { Telemetry } from './telemetry.ts';

let sim: MaskinportenSimulator;
let source: TexasTokenSource;
let telemetry: Telemetry;
let instrumentation: PortvaktInstrumentation;

beforeAll(async () => {
  sim = await startMaskinportenSimulator({ texas: { client: { clientId: 'nais-app', orgno: '889640782', scopes: ['nav:a'] } } });
});
afterAll(() => sim.close());
beforeEach(() => {
  telemetry = startTelemetry();
  instrumentation = instrumentPortvakt({ meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
  source = createTexasTokenSource({ endpoint: sim.texas!.tokenEndpoint, scope: 'nav:a', clientId: 'nais-app', transport: { backoffBase: 1, backoffMax: 2 } });
});
afterEach(async () => {
  instrumentation.uninstrument();
  await source.close();
  await telemetry.shutdown();
  sim.reset();
});

const base = { [A.clientId]: 'nais-app', [A.scope]: 'nav:a' };
const fetchSpans = () => telemetry.spans.getFinishedSpans().filter((s) => s.name === PORTVAKT_SPANS.fetch);

describe('the Texas token source, instrumented', () => {
  it('a fetch from Texas: its duration, a miss, a hit and one span with the attempts, and no issuer', async () => {
    await source.getToken();
    await source.getToken();
    expect(await telemetry.points(M.fetchDuration)).toEqual([expect.objectContaining({ attributes: { ...base, [A.fetchReason]: 'miss', [A.fetchOutcome]: 'success' }, value: 1 })]);
    expect(await telemetry.points(M.cacheMisses)).toEqual([{ attributes: base, value: 1 }]);
    expect(await telemetry.points(M.cacheHits)).toEqual([{ attributes: base, value: 1 }]);
    const [span, ...others] = fetchSpans();
    expect(others).toEqual([]);
    expect(span?.attributes).toMatchObject({ ...base, [A.fetchReason]: 'miss', [A.fetchAttempts]: 1, [A.fetchFromStore]: false });
    expect(span?.attributes[A.issuer]).toBeUndefined();
    expect(sim.texas!.tokenRequestCount()).toBe(1);
  });

  it("Texas failing: its retries and the failure with Maskinporten's code", async () => {
    sim.inject({ kind: 'status', status: 500, body: { error: 'server_error', error_description: 'Upstream request failed' } }, { path: '/api/v1/token', times: Infinity });
    await expect(source.getToken()).rejects.toMatchObject({ code: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE' });
    sim.clearFaults();
    await expect(source.getToken({ scope: 'nav:not-consumed' })).rejects.toMatchObject({ mpCode: 'MP-200' });
    expect(await telemetry.points(M.fetchRetries)).toEqual([expect.objectContaining({ value: 1 })]);
    const [unavailable, rejected] = fetchSpans();
    expect(unavailable?.status.code).toBe(SpanStatusCode.ERROR);
    expect(unavailable?.attributes).toMatchObject({ [A.fetchAttempts]: 2, [A.errorType]: 'ERR_PORTVAKT_ENDPOINT_UNAVAILABLE', [A.fetchRetryReasons]: ['status'] });
    expect(rejected?.attributes).toMatchObject({ [A.scope]: 'nav:not-consumed', [A.errorType]: 'ERR_PORTVAKT_TOKEN_REJECTED', [A.mpCode]: 'MP-200' });
  });
});
