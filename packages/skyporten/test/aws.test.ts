// The AWS entry against the AWS SDK's own STS client, pointed at the STS stand-in, with the
// simulator as Skyporten: real signatures, real trust checks, the SDK's own credential handling.
import { inspect } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MaskinportenClient } from '@portvakt/core';
import { startAwsStsStandIn } from '@portvakt/testing';
import type { AwsStsStandIn, MaskinportenSimulator } from '@portvakt/testing';
import { fromSkyporten, SkyportenExchangeError } from '../src/aws/index.js';
import type { SkyportenAwsOptions } from '../src/aws/index.js';
import { AUDIENCE, JWT, OTHER_SCOPE, SCOPE, SUBJECT, skyportenClient, startSkyporten } from './clouds.js';

let sky: MaskinportenSimulator;
let sts: AwsStsStandIn;
const clients: MaskinportenClient[] = [];

beforeAll(async () => {
  sky = await startSkyporten();
  sts = await startAwsStsStandIn({ providers: [{ issuer: sky.issuer, clientIds: [AUDIENCE] }], roles: [{ name: 'reader', issuer: sky.issuer, subjects: [SUBJECT], maxSessionDuration: 3600 }] });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sts.close();
  await sky.close();
});
afterEach(() => {
  vi.useRealTimers();
  sky.reset();
});

function provider(extra: Partial<SkyportenAwsOptions> = {}) {
  const client = skyportenClient(sky);
  clients.push(client);
  return fromSkyporten({ client, scope: SCOPE, audience: AUDIENCE, roleArn: sts.roleArn('reader'), durationSeconds: 900, region: 'eu-north-1', stsClientConfig: { endpoint: sts.url, maxAttempts: 1 }, ...extra });
}
const stsWith = (credentials: ReturnType<typeof provider>) => new STSClient({ region: 'eu-north-1', endpoint: sts.url, credentials, maxAttempts: 1 });

describe('fromSkyporten() with the AWS SDK', () => {
  it('gives an SDK client credentials it signs with, from AssumeRoleWithWebIdentity with a Skyporten token', async () => {
    const before = sts.authenticatedCallCount();
    const identity = await stsWith(provider()).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe('arn:aws:sts::123456789012:assumed-role/reader/portvakt-skyporten');
    expect(sts.authenticatedCallCount()).toBe(before + 1);
    expect(sts.assumeRoleRequests.at(-1)).toMatchObject({ roleArn: sts.roleArn('reader'), durationSeconds: 900, status: 200 });
  });

  it('returns expiration, and at the next refresh gets a fresh token instead of replaying the first', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const credentials = provider();
    const client = stsWith(credentials);
    const start = Date.now();
    await client.send(new GetCallerIdentityCommand({}));
    const first = await credentials();
    expect(first.expiration.getTime() - start).toBeGreaterThan(890_000);
    const requests = sts.assumeRoleRequests.length;
    // 16 minutes on: the 900 s credentials and the 120 s Skyporten token have both expired.
    vi.setSystemTime(start + 16 * 60_000);
    await client.send(new GetCallerIdentityCommand({}));
    const [a, b] = sts.assumeRoleRequests.slice(requests - 1);
    expect(sts.assumeRoleRequests.length).toBe(requests + 1);
    expect(b?.status).toBe(200);
    expect(b?.tokenId).not.toBe(a?.tokenId);
    expect(sky.tokenRequestCount()).toBe(2);
    expect((await credentials()).accessKeyId).not.toBe(first.accessKeyId);
  });

  it('serves cached credentials until the SDK would refresh them, whatever the token does', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const credentials = provider();
    const start = Date.now();
    const first = await credentials();
    // Past the token's 120 s, before the credentials' refresh point (900 s - 310 s).
    vi.setSystemTime(start + 500_000);
    expect(await credentials()).toBe(first);
    expect(credentials.exchanges).toBe(1);
    vi.setSystemTime(start + 600_000);
    expect(await credentials()).not.toBe(first);
    expect(credentials.exchanges).toBe(2);
  });

  it('lets 500 concurrent callers share one token request and one exchange', async () => {
    const credentials = provider();
    const before = sts.assumeRoleRequests.length;
    const all = await Promise.all(Array.from({ length: 500 }, () => credentials()));
    expect(new Set(all).size).toBe(1);
    expect(Object.isFrozen(all[0])).toBe(true);
    expect(sky.tokenRequestCount()).toBe(1);
    expect(sts.assumeRoleRequests.length - before).toBe(1);
  });

  it('turns a wrong audience into InvalidIdentityToken as a typed error naming the audience and the ClientIDList', async () => {
    const error = await stsWith(provider({ audience: 'https://wrong.example.no' })).send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SkyportenExchangeError);
    expect(error).toMatchObject({ cloud: 'aws', cloudCode: 'InvalidIdentityToken', cloudMessage: 'Incorrect token audience', problem: 'audience', status: 400 });
    expect((error as SkyportenExchangeError).fix).toMatch(/aud is "https:\/\/wrong\.example\.no".*ClientIDList/);
    expect((error as Error).message).toMatch(/^AWS refused the Skyporten token \(InvalidIdentityToken: Incorrect token audience\)\. Fix: /);
    for (const text of [(error as Error).message, JSON.stringify(error), inspect(error, { depth: 5 })]) expect(text).not.toMatch(JWT);
  });

  it('turns a subject the role does not trust into AccessDenied, naming the sub the trust policy must have', async () => {
    const error = await provider({ scope: OTHER_SCOPE })().catch((e: unknown) => e);
    expect(error).toMatchObject({ cloud: 'aws', cloudCode: 'AccessDenied', problem: 'subject', status: 403 });
    expect((error as SkyportenExchangeError).fix).toContain(`:sub" = "0192:991825827;${OTHER_SCOPE}"`);
  });

  it('replaces a token STS saw expired once, then names the clock', async () => {
    // An STS whose clock runs 10 minutes ahead sees every 120 s token expired.
    const late = await startAwsStsStandIn({ now: () => Date.now() + 600_000, providers: [{ issuer: sky.issuer, clientIds: [AUDIENCE] }], roles: [{ name: 'reader', issuer: sky.issuer, subjects: [SUBJECT] }] });
    try {
      const error = await provider({ roleArn: late.roleArn('reader'), stsClientConfig: { endpoint: late.url, maxAttempts: 1 } })().catch((e: unknown) => e);
      expect(error).toMatchObject({ cloud: 'aws', cloudCode: 'ExpiredTokenException', problem: 'expired' });
      expect((error as SkyportenExchangeError).fix).toMatch(/clock/);
      expect(late.assumeRoleRequests.map((r) => r.errorCode)).toEqual(['ExpiredTokenException', 'ExpiredTokenException']);
      // The second attempt had a new token: the first was dropped from the client's cache.
      expect(sky.tokenRequestCount()).toBe(2);
      expect(late.assumeRoleRequests[1]?.tokenId).not.toBe(late.assumeRoleRequests[0]?.tokenId);
    } finally {
      await late.close();
    }
  });

  it('backs off while STS is unreachable: a caller inside the back-off gets the last failure without a new exchange', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const credentials = provider({ stsClientConfig: { endpoint: 'http://127.0.0.1:9', maxAttempts: 1 } });
    const first = await credentials().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    expect(await credentials().catch((e: unknown) => e)).toBe(first);
    expect(credentials.exchanges).toBe(1);
    vi.setSystemTime(Date.now() + 1_001);
    await credentials().catch(() => undefined);
    expect(credentials.exchanges).toBe(2);
    // The back-off doubles: 2 s after the second failure, not 1 s.
    vi.setSystemTime(Date.now() + 1_500);
    await credentials().catch(() => undefined);
    expect(credentials.exchanges).toBe(2);
  });

  it('keeps its own copy of the options: a caller who reuses the object for another role changes nothing', async () => {
    const client = skyportenClient(sky);
    clients.push(client);
    const options = { client, scope: SCOPE, audience: AUDIENCE, roleArn: sts.roleArn('reader'), durationSeconds: 900, region: 'eu-north-1', stsClientConfig: { endpoint: sts.url, maxAttempts: 1 } };
    const credentials = fromSkyporten(options);
    Object.assign(options, { scope: OTHER_SCOPE, audience: 'https://wrong.example.no', roleArn: sts.roleArn('other') });
    options.stsClientConfig.endpoint = 'http://127.0.0.1:9';
    await expect(credentials()).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
    expect(sts.assumeRoleRequests.at(-1)).toMatchObject({ roleArn: sts.roleArn('reader'), status: 200 });
  });

  it('refuses bad options at creation, naming the field', () => {
    const client = skyportenClient(sky);
    clients.push(client);
    const base = { client, scope: SCOPE, audience: AUDIENCE, roleArn: sts.roleArn('reader') };
    expect(() => fromSkyporten({ ...base, roleArn: 'reader' })).toThrow(/"roleArn"/);
    expect(() => fromSkyporten({ ...base, audience: 'https://test.sky.maskinporten.no' })).toThrow(/"audience".*Skyporten's issuer/);
    expect(() => fromSkyporten({ ...base, scope: 'a b' })).toThrow(/"scope"/);
    expect(() => fromSkyporten({ ...base, durationSeconds: 60 })).toThrow(/"durationSeconds"/);
    expect(() => fromSkyporten({ ...base, role_arn: 'x' } as never)).toThrow(/"role_arn".*did you mean "roleArn"/);
    expect(() => fromSkyporten({ ...base, client: {} as never })).toThrow(/"client"/);
  });
});
