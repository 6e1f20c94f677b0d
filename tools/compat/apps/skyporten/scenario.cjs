// The Skyporten scenario both index files run, given the modules each loaded its own way. With
// COMPAT_SKYPORTEN_SDKS=all the cloud SDKs are installed, and each cloud entry gets credentials
// from the local stand-ins; with none, every entry still loads and each cloud's first use fails
// with SkyportenSdkMissingError naming the SDK to install.
'use strict';
const assert = require('node:assert/strict');
const https = require('node:https');

const AUDIENCE = 'https://skyporten.example.no';
const SUBJECT = '0192:991825827;compat:sky';

async function run(how, mods, sdks) {
  const { createMaskinportenClient } = mods.core;
  const { SkyportenSdkMissingError, SkyportenExchangeError } = mods.skyporten;
  const { fromSkyporten } = mods.aws;
  const { createSkyportenGoogleClient } = mods.google;
  const { createSkyportenAzureCredential } = mods.azure;
  const { generateClientKey, startMaskinportenSimulator, startAwsStsStandIn, startGoogleStsStandIn, startEntraStandIn } = mods.testing;
  for (const [name, fn] of Object.entries({ fromSkyporten, createSkyportenGoogleClient, createSkyportenAzureCredential })) assert.equal(typeof fn, 'function', `${name} is missing`);
  assert.equal(mods.aws.SkyportenExchangeError, SkyportenExchangeError, 'the entries share one error class');

  const key = generateClientKey({ kid: 'compat-sky' });
  const sky = await startMaskinportenSimulator({ skyporten: true, clients: [{ clientId: 'compat-sky', orgno: '991825827', scopes: ['compat:sky'], jwks: [key.publicJwk] }] });
  const PROVIDER = '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/sky/providers/mp';
  const EMAIL = 'reader@compat.iam.gserviceaccount.com';
  const sts = await startAwsStsStandIn({ providers: [{ issuer: sky.issuer, clientIds: [AUDIENCE] }], roles: [{ name: 'reader', issuer: sky.issuer, subjects: [SUBJECT] }] });
  const google = await startGoogleStsStandIn({ providers: [{ name: PROVIDER, issuer: sky.issuer, allowedAudiences: [AUDIENCE] }], serviceAccounts: [{ email: EMAIL, members: [{ consumer: '0192:991825827' }] }] });
  const entra = await startEntraStandIn({ tenantId: 'compat-tenant', identities: [{ clientId: 'compat-identity', federatedCredentials: [{ issuer: sky.issuer, subject: SUBJECT, audiences: [AUDIENCE] }] }] });
  const client = createMaskinportenClient({ clientId: 'compat-sky', environment: { metadataUrl: sky.metadataUrl }, key: { jwk: key.privateJwk } });
  const common = { client, scope: 'compat:sky', audience: AUDIENCE };
  try {
    const aws = fromSkyporten({ ...common, roleArn: sts.roleArn('reader'), durationSeconds: 900, region: 'eu-north-1', stsClientConfig: { endpoint: sts.url, maxAttempts: 1 } });
    const googleClient = () => createSkyportenGoogleClient({ ...common, workloadProvider: PROVIDER, serviceAccount: EMAIL, tokenUrl: google.tokenUrl, impersonationUrl: google.impersonationUrl(EMAIL) });
    const azure = createSkyportenAzureCredential({ ...common, tenantId: 'compat-tenant', clientId: 'compat-identity', credentialOptions: { authorityHost: entra.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: entra.ca } } });
    if (sdks === 'none') {
      for (const [sdk, attempt] of [['@aws-sdk/client-sts', () => aws()], ['google-auth-library', googleClient], ['@azure/identity', () => azure.getToken('https://storage.azure.com/.default')]]) {
        await assert.rejects(attempt(), (err) => err instanceof SkyportenSdkMissingError && err.sdk === sdk && err.message.includes(`npm install ${sdk}`));
      }
      console.log(`skyporten (${how}, no SDKs): every entry loads; each cloud names the SDK to install`);
      return;
    }
    const credentials = await aws();
    assert.match(credentials.accessKeyId, /^ASIA/);
    const { STSClient, GetCallerIdentityCommand } = sdks.sts;
    const identity = await new STSClient({ region: 'eu-north-1', endpoint: sts.url, credentials: aws, maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, 'arn:aws:sts::123456789012:assumed-role/reader/portvakt-skyporten');
    const auth = await googleClient();
    const listed = await auth.request({ url: google.resourceUrl });
    assert.equal(listed.data.serviceAccount, EMAIL);
    const token = await azure.getToken('https://storage.azure.com/.default');
    const status = await new Promise((resolve, reject) => https.get(entra.resourceUrl, { ca: entra.ca, headers: { authorization: `Bearer ${token.token}` } }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject));
    assert.equal(status, 200);
    const refused = await fromSkyporten({ ...common, audience: 'https://wrong.example.no', roleArn: sts.roleArn('reader'), region: 'eu-north-1', stsClientConfig: { endpoint: sts.url, maxAttempts: 1 } })().catch((e) => e);
    assert.ok(refused instanceof SkyportenExchangeError && refused.cloudCode === 'InvalidIdentityToken', String(refused));
    console.log(`skyporten (${how}, with the SDKs): AWS, Google Cloud and Azure credentials from Skyporten tokens`);
  } finally {
    await client.close();
    await Promise.all([sts.close(), google.close(), entra.close(), sky.close()]);
  }
}

module.exports = { run };
