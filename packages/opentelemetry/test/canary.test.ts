// No secret and no personal data reaches a metric or a span: every value that must not leak is a
// canary, looked for in everything the exporters received, on success and on failure paths.
import { afterEach, expect, it } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { instrumentPortvakt } from '@portvakt/opentelemetry';
import { ORG, clientFor, key, startSim } from './simulator.ts';
import { startTelemetry } from './telemetry.ts';

const PID = '13097248422';
const EXTERNAL_REF = 'canary-external-ref-5b1e';
const CUSTOMER = '987654325';
const SYSTEM_USER_ORG = '974761076';

let sim: MaskinportenSimulator | undefined;
let client: MaskinportenClient | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.close();
});

it('puts no token, grant, key, pid, consumerOrg or externalRef in any attribute, event or status', async () => {
  const telemetry = startTelemetry();
  const instrumentation = instrumentPortvakt({ meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider });
  sim = await startSim();
  sim.addClient({
    clientId: 'canary-client', orgno: ORG, scopes: ['test:scope'], jwks: [key.publicJwk],
    delegations: [{ consumerOrg: CUSTOMER, scopes: ['test:scope'] }],
    systemUsers: [{ orgno: SYSTEM_USER_ORG, externalRef: EXTERNAL_REF }],
  });
  client = clientFor(sim, { clientId: 'canary-client' });
  const tokens = [
    await client.getToken({ scope: 'test:scope', pid: PID }),
    await client.getToken({ scope: 'test:scope', pid: PID }),
    await client.getToken({ scope: 'test:scope', consumerOrg: CUSTOMER }),
    await client.getToken({ scope: 'test:scope', systemUser: { orgno: SYSTEM_USER_ORG, externalRef: EXTERNAL_REF } }),
  ];
  // Failures: a rejected scope with a pid, and an outage with a system user.
  await expect(client.getToken({ scope: 'not:granted', pid: PID })).rejects.toThrow();
  sim.inject({ kind: 'status', status: 503 }, { times: 10 });
  await expect(client.getToken({ scope: 'test:other', systemUser: { orgno: SYSTEM_USER_ORG, externalRef: EXTERNAL_REF } })).rejects.toThrow();

  const jtis = sim.requests.map((r) => r.grant?.claims.jti).filter((j): j is string => typeof j === 'string');
  expect(jtis.length).toBeGreaterThanOrEqual(6);
  const canaries = [
    ...tokens.map((t) => t.accessToken),
    ...jtis,
    key.privateJwk.d as string,
    key.privateJwk.p as string,
    PID,
    CUSTOMER,
    SYSTEM_USER_ORG,
    EXTERNAL_REF,
  ];
  expect(canaries.every((c) => typeof c === 'string' && c.length >= 9)).toBe(true);

  const spans = telemetry.spans.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, links: s.links, status: s.status }));
  expect(spans).toHaveLength(5); // one per fetch; the second pid call is a hit
  const metrics = [...(await telemetry.collect()).values()].map(({ data }) => data);
  expect(metrics.length).toBeGreaterThanOrEqual(4);
  const exported = JSON.stringify({ spans, metrics });
  for (const canary of canaries) expect(exported).not.toContain(canary);
  // The same check would catch a leak: the exported text does hold the fields that are meant to be there.
  expect(exported).toContain('canary-client');

  instrumentation.uninstrument();
  await telemetry.shutdown();
});
