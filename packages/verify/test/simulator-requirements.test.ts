// The requirements on real tokens: the simulator issues pid, consent and system-user tokens to a
// Portvakt client over HTTP, the verifier reads the simulator's keys through its metadata, and
// verifyRequest() checks plain request objects with the person taken from the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskinportenClient } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator } from '@portvakt/testing';
import { createMaskinportenVerifier, verifyRequest } from '@portvakt/verify';
import type { MaskinportenTokenClaims, MaskinportenVerifier, RequestRequirements, VerifiableRequest } from '@portvakt/verify';

const VENDOR = '991825827';
const CUSTOMER = '910753614';
const PID = '05848998356';
const CONSENT_ID = '0a7d59f8-8c62-4312-9fb4-62456664c96f';
const key = generateClientKey({ kid: 'requirements' });
let sim: MaskinportenSimulator;
let client: MaskinportenClient;
let verifier: MaskinportenVerifier;

interface PersonRequest extends VerifiableRequest {
  params: { pid?: string };
}
const requestFor = (token: string, pid?: string): PersonRequest => ({ headers: { authorization: `Bearer ${token}` }, params: pid === undefined ? {} : { pid } });

beforeAll(async () => {
  sim = await startMaskinportenSimulator({
    clients: [{
      clientId: 'vendor',
      orgno: VENDOR,
      scopes: ['ske:inntekt', 'nav:person'],
      jwks: [key.publicJwk],
      systemUsers: [{ orgno: CUSTOMER, systemId: `${VENDOR}_payroll` }],
      consents: [{ id: CONSENT_ID, from: `urn:altinn:person:identifier-no:${PID}`, rights: [{ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'ske-inntekt' }], metadata: { inntektsaar: '2025' } }] }],
    }],
  });
  client = createMaskinportenClient({ clientId: 'vendor', environment: sim.environment(), key: { jwk: key.privateJwk }, scope: 'nav:person' });
  verifier = createMaskinportenVerifier({ environment: { metadataUrl: sim.metadataUrl } });
});
afterAll(async () => {
  await client.close();
  await sim.close();
});

describe('requirements on tokens the simulator issued', () => {
  it('pid from a request parameter: the same person 200-worthy, another person and no pid refused with 403 person_not_allowed', async () => {
    const token = (await client.getToken({ scope: 'nav:person', pid: PID })).accessToken;
    const plain = (await client.getToken({ scope: 'nav:person' })).accessToken;
    const byPath: RequestRequirements<PersonRequest> = Object.freeze({ scope: 'nav:person', pid: (req: PersonRequest) => req.params.pid });
    await expect(verifyRequest(verifier, requestFor(token, PID), byPath)).resolves.toMatchObject({ pid: PID });
    // Remembered now: answered without a promise, and the person still compared on every request.
    expect(verifyRequest(verifier, requestFor(token, PID), byPath)).toMatchObject({ pid: PID });
    expect(() => verifyRequest(verifier, requestFor(token, '01010199999'), byPath)).toThrow(expect.objectContaining({ requirement: 'pid', status: 403 }));
    expect(() => verifyRequest(verifier, requestFor(token), byPath)).toThrow(expect.objectContaining({ requirement: 'pid' }));
    await expect(Promise.resolve().then(() => verifyRequest(verifier, requestFor(plain, PID), byPath))).rejects.toMatchObject({ requirement: 'pid', status: 403 });
    await expect(Promise.resolve().then(() => verifyRequest(verifier, requestFor(plain), { pid: true }))).rejects.toMatchObject({ toProblem: expect.any(Function), requirement: 'pid' });
  });

  it('consent: the simulator\'s consent token meets its resource and metadata, and no other', async () => {
    const token = (await client.getToken({ scope: 'ske:inntekt', consent: { id: CONSENT_ID, from: `urn:altinn:person:identifier-no:${PID}` } })).accessToken;
    await expect(verifyRequest(verifier, requestFor(token), { consent: { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } } })).resolves.toMatchObject({ consent: { toOrg: VENDOR, fromPid: PID } });
    expect(() => verifyRequest(verifier, requestFor(token), { consent: 'ske-formue' })).toThrow(expect.objectContaining({ requirement: 'consent', status: 403 }));
    // The person the request is about must be the one who consented.
    const fromPath: RequestRequirements<PersonRequest> = Object.freeze({ consent: { resource: 'ske-inntekt', from: (req: PersonRequest) => req.params.pid } });
    expect(verifyRequest(verifier, requestFor(token, PID), fromPath)).toMatchObject({ consent: { fromPid: PID } });
    expect(() => verifyRequest(verifier, requestFor(token, '01010199999'), fromPath)).toThrow(expect.objectContaining({ requirement: 'consent', status: 403 }));
    expect(() => verifyRequest(verifier, requestFor(token), fromPath)).toThrow(expect.objectContaining({ requirement: 'consent' }));
    expect(() => verifyRequest(verifier, requestFor(token, PID), { consent: { resource: 'ske-formue', from: (req: PersonRequest) => req.params.pid } })).toThrow(expect.objectContaining({ requirement: 'consent' }));
  });

  it('system user: the customer in systemUser, the vendor as consumer', async () => {
    const token = (await client.getToken({ scope: 'nav:person', systemUser: { orgno: CUSTOMER } })).accessToken;
    await expect(verifyRequest(verifier, requestFor(token), { systemUser: { systemId: `${VENDOR}_payroll`, customers: CUSTOMER }, consumers: VENDOR })).resolves.toMatchObject({ systemUser: { orgno: CUSTOMER } });
    expect(() => verifyRequest(verifier, requestFor(token), { systemUser: { customers: '974761076' } })).toThrow(expect.objectContaining({ requirement: 'systemUser' }));
  });

  it('an async organisation policy with the request: 403 organization_not_allowed, and the request it was given', async () => {
    const token = (await client.getToken({ scope: 'nav:person' })).accessToken;
    const seen: PersonRequest[] = [];
    const policy: RequestRequirements<PersonRequest> = Object.freeze({
      organizationPolicy: async (claims: MaskinportenTokenClaims, req: PersonRequest) => {
        seen.push(req);
        return claims.consumerOrg === VENDOR && req.params.pid !== '01010199999';
      },
    });
    const allowed = requestFor(token, PID);
    await expect(verifyRequest(verifier, allowed, policy)).resolves.toBeTruthy();
    expect(seen[0]).toBe(allowed);
    const refused = requestFor(token, '01010199999');
    const error = await Promise.resolve().then(() => verifyRequest(verifier, refused, policy)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_PORTVAKT_ORGANIZATION_NOT_ALLOWED', role: 'consumer', status: 403 });
    expect(refused).not.toHaveProperty('maskinportenToken');
  });

  it('a router\'s requirements, then a route\'s with a function of the request: the second pass checks only its own', async () => {
    const token = (await client.getToken({ scope: 'nav:person', pid: PID })).accessToken;
    const request = requestFor(token, PID);
    const claims = await verifyRequest(verifier, request, { scope: 'nav:person' });
    expect(verifyRequest(verifier, request, Object.freeze({ pid: (req: PersonRequest) => req.params.pid }))).toBe(claims);
    request.params.pid = '01010199999';
    expect(() => verifyRequest(verifier, request, Object.freeze({ pid: (req: PersonRequest) => req.params.pid }))).toThrow(expect.objectContaining({ requirement: 'pid' }));
  });
});
