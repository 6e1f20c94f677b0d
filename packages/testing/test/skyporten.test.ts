// The simulator as Skyporten (docs/maskinporten-rules.md §5.9), and the three cloud stand-ins
// (§11.4) spoken to over plain HTTP, as the clouds' own clients would: each accepts the token its
// trust names and refuses a wrong audience and a wrong subject with the cloud's own error.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientKey, startAwsStsStandIn, startEntraStandIn, startGoogleStsStandIn, startMaskinportenSimulator } from '../src/index.js';
import type { AwsStsStandIn, EntraStandIn, GoogleStsStandIn, MaskinportenSimulator } from '../src/index.js';
import { baseClaims, postToken, signGrant } from './helpers.js';

const ORGNO = '991825827';
const SCOPE = 'demo:sky';
const AUDIENCE = 'https://skyporten.example.no';
const SUBJECT = `0192:${ORGNO};${SCOPE}`;
const key = generateClientKey({ kid: 'sky-key' });
let sky: MaskinportenSimulator;

beforeAll(async () => {
  sky = await startMaskinportenSimulator({ skyporten: true, clients: [{ clientId: 'sky-client', orgno: ORGNO, scopes: [SCOPE, 'demo:other'], jwks: [key.publicJwk] }] });
});
afterAll(() => sky.close());

async function skyToken(claims: Record<string, unknown> = {}): Promise<string> {
  const grant = signGrant({ alg: 'RS256', kid: 'sky-key' }, { ...baseClaims(sky.issuer, 'sky-client', SCOPE), resource: [AUDIENCE], ...claims }, key.privateKeyPem);
  const res = await postToken(sky.tokenEndpoint, grant);
  expect(res.status).toBe(200);
  return res.json.access_token as string;
}

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

describe('the simulator as Skyporten', () => {
  it('has an issuer without the trailing slash and serves an OpenID configuration (and no RFC 8414 document)', async () => {
    expect(sky.issuer).toBe(sky.url);
    expect(sky.metadataUrl).toBe(`${sky.url}/.well-known/openid-configuration`);
    const metadata = (await (await fetch(sky.metadataUrl)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ issuer: sky.url, token_endpoint: `${sky.url}/token`, jwks_uri: `${sky.url}/jwk`, token_endpoint_auth_methods_supported: ['private_key_jwt'] });
    expect((await fetch(`${sky.url}/.well-known/oauth-authorization-server`)).status).toBe(404);
  });

  it('issues a token with sub "<consumer>;<scope>" and the requested audience as aud', async () => {
    const claims = payloadOf(await skyToken());
    expect(claims).toMatchObject({ iss: sky.issuer, sub: SUBJECT, aud: AUDIENCE, scope: SCOPE, consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${ORGNO}` } });
  });

  it('refuses a grant whose aud has the trailing slash (Invalid JWT claim aud) and one without resource', async () => {
    const slash = await postToken(sky.tokenEndpoint, signGrant({ alg: 'RS256', kid: 'sky-key' }, { ...baseClaims(`${sky.issuer}/`, 'sky-client', SCOPE), resource: [AUDIENCE] }, key.privateKeyPem));
    expect(slash.status).toBe(400);
    expect(slash.json.error_description).toMatch(/MP-110 .*Invalid JWT claim aud/);
    const noResource = await postToken(sky.tokenEndpoint, signGrant({ alg: 'RS256', kid: 'sky-key' }, baseClaims(sky.issuer, 'sky-client', SCOPE), key.privateKeyPem));
    expect(noResource.status).toBe(400);
    expect(noResource.json.error_description).toMatch(/needs resource/);
  });
});

describe('AWS STS stand-in', () => {
  let sts: AwsStsStandIn;
  beforeAll(async () => {
    sts = await startAwsStsStandIn({ providers: [{ issuer: sky.issuer, clientIds: [AUDIENCE] }], roles: [{ name: 'reader', issuer: sky.issuer, subjects: [SUBJECT] }] });
  });
  afterAll(() => sts.close());

  const assume = async (token: string, role = 'reader') => {
    const res = await fetch(sts.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: sts.roleArn(role), RoleSessionName: 'test', WebIdentityToken: token, DurationSeconds: '900' }) });
    return { status: res.status, text: await res.text() };
  };

  it('assumes the role for the trusted audience and subject, with an expiry DurationSeconds ahead', async () => {
    const { status, text } = await assume(await skyToken());
    expect(status).toBe(200);
    expect(text).toMatch(/<AccessKeyId>ASIA[A-Z2-7]{16}<\/AccessKeyId>/);
    expect(text).toContain(`<SubjectFromWebIdentityToken>${SUBJECT}</SubjectFromWebIdentityToken>`);
    const expiration = Date.parse(/<Expiration>([^<]+)<\/Expiration>/.exec(text)?.[1] ?? '');
    expect(Math.abs(expiration - Date.now() - 900_000)).toBeLessThan(5_000);
  });

  it('refuses a wrong audience with InvalidIdentityToken: Incorrect token audience', async () => {
    const token = await skyToken({ resource: ['https://other.example.no'] });
    const { status, text } = await assume(token);
    expect(status).toBe(400);
    expect(text).toContain('<Code>InvalidIdentityToken</Code><Message>Incorrect token audience</Message>');
  });

  it('refuses a subject the role does not trust with AccessDenied, and a forged token', async () => {
    const other = await skyToken({ scope: 'demo:other' });
    expect(await assume(other)).toMatchObject({ status: 403, text: expect.stringContaining('<Code>AccessDenied</Code>') });
    const token = await skyToken();
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('x'.repeat(256)).toString('base64url')}`;
    expect((await assume(forged)).text).toContain('<Code>InvalidIdentityToken</Code>');
  });
});

describe('Google stand-in', () => {
  const PROVIDER = '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/sky/providers/maskinporten';
  const EMAIL = 'reader@demo.iam.gserviceaccount.com';
  let google: GoogleStsStandIn;
  beforeAll(async () => {
    google = await startGoogleStsStandIn({ providers: [{ name: PROVIDER, issuer: sky.issuer, allowedAudiences: [AUDIENCE] }], serviceAccounts: [{ email: EMAIL, members: [{ consumer: `0192:${ORGNO}`, scope: SCOPE }] }] });
  });
  afterAll(() => google.close());

  const exchange = async (token: string) => {
    const res = await fetch(google.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', audience: PROVIDER, scope: 'https://www.googleapis.com/auth/cloud-platform', requested_token_type: 'urn:ietf:params:oauth:token-type:access_token', subject_token: token, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const impersonate = async (federated: string) => {
    const res = await fetch(google.impersonationUrl(EMAIL), { method: 'POST', headers: { authorization: `Bearer ${federated}`, 'content-type': 'application/json' }, body: JSON.stringify({ scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '3600s' }) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('exchanges a trusted token, then lets the trusted consumer and scope impersonate the service account', async () => {
    const sts = await exchange(await skyToken());
    expect(sts.status).toBe(200);
    const sa = await impersonate(sts.json.access_token as string);
    expect(sa.status).toBe(200);
    const resource = await fetch(google.resourceUrl, { headers: { authorization: `Bearer ${String(sa.json.accessToken)}` } });
    expect(await resource.json()).toEqual({ kind: 'storage#objects', serviceAccount: EMAIL });
  });

  it('refuses a wrong audience at STS (invalid_grant) and a wrong subject at impersonation (PERMISSION_DENIED)', async () => {
    const wrongAudience = await exchange(await skyToken({ resource: ['https://other.example.no'] }));
    expect(wrongAudience).toMatchObject({ status: 400, json: { error: 'invalid_grant', error_description: expect.stringMatching(/audience/) } });
    const other = await exchange(await skyToken({ scope: 'demo:other' }));
    expect(other.status).toBe(200);
    expect(await impersonate(other.json.access_token as string)).toMatchObject({ status: 403, json: { error: { status: 'PERMISSION_DENIED' } } });
  });
});

describe('Entra stand-in', () => {
  const TENANT = '33333333-d105-4b01-aa7c-333333333333';
  const CLIENT_ID = '44444444-cf66-4934-b34c-444444444444';
  let entra: EntraStandIn;
  beforeAll(async () => {
    entra = await startEntraStandIn({ tenantId: TENANT, identities: [{ clientId: CLIENT_ID, federatedCredentials: [{ issuer: sky.issuer, subject: SUBJECT, audiences: [AUDIENCE] }] }] });
  });
  afterAll(() => entra.close());

  const request = (path: string, body?: string) =>
    new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = https.request(`${entra.authorityHost}${path}`, { method: body === undefined ? 'GET' : 'POST', ca: entra.ca, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const token = (assertion: string, clientId = CLIENT_ID) =>
    request(`/${TENANT}/oauth2/v2.0/token`, new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, scope: 'https://storage.azure.com/.default', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString());

  it('serves the tenant\'s OpenID configuration over https (with a certificate for 127.0.0.1) and issues a token for the matching federated credential', async () => {
    expect((await request(`/${TENANT}/v2.0/.well-known/openid-configuration`)).json).toMatchObject({ issuer: `${entra.authorityHost}/${TENANT}/v2.0` });
    expect(await token(await skyToken())).toMatchObject({ status: 200, json: { token_type: 'Bearer', expires_in: 3600 } });
  });

  it('answers AADSTS70021 for a wrong audience or subject, naming what the assertion carried, and AADSTS700016 for an unknown client id', async () => {
    const wrongAudience = await token(await skyToken({ resource: ['https://other.example.no'] }));
    expect(wrongAudience).toMatchObject({ status: 400, json: { error: 'invalid_client', error_codes: [70021] } });
    expect(wrongAudience.json.error_description).toContain("Assertion Audience: 'https://other.example.no'");
    const wrongSubject = await token(await skyToken({ scope: 'demo:other' }));
    expect(wrongSubject.json.error_description).toMatch(/^AADSTS70021: .*Assertion Subject: '0192:991825827;demo:other'/);
    expect((await token(await skyToken(), '55555555-0000-0000-0000-000000000000')).json.error_codes).toEqual([700016]);
  });
});
