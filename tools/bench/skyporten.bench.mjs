// Skyporten: a cached cloud credential against a hand-written Map lookup with an expiry check,
// awaited the same way. The AWS provider is what the AWS SDK calls before each request (its own
// memo aside); the Azure credential is what every @azure/* client calls before each request.
import { createMaskinportenClient } from '@portvakt/core';
import { fromSkyporten } from '@portvakt/skyporten/aws';
import { createSkyportenAzureCredential } from '@portvakt/skyporten/azure';
import { generateClientKey, startAwsStsStandIn, startEntraStandIn, startMaskinportenSimulator } from '@portvakt/testing';
import { asyncLoop, createBench } from './harness.mjs';

const bench = createBench('skyporten', 'a cached cloud credential against Map.get + expiry check');
const key = generateClientKey({ kid: 'bench' });
const AUDIENCE = 'https://skyporten.example.no';
const SUBJECT = '0192:991825827;bench:sky';
const sky = await startMaskinportenSimulator({ skyporten: true, clients: [{ clientId: 'bench', orgno: '991825827', scopes: ['bench:sky'], jwks: [key.publicJwk] }], tokenLifetimeSeconds: 3600 });
const sts = await startAwsStsStandIn({ providers: [{ issuer: sky.issuer, clientIds: [AUDIENCE] }], roles: [{ name: 'bench', issuer: sky.issuer, subjects: [SUBJECT], maxSessionDuration: 43_200 }] });
const entra = await startEntraStandIn({ tenantId: 'bench-tenant', identities: [{ clientId: 'bench-identity', federatedCredentials: [{ issuer: sky.issuer, subject: SUBJECT, audiences: [AUDIENCE] }] }] });
const client = createMaskinportenClient({ clientId: 'bench', environment: sky.environment(), key: { jwk: key.privateJwk } });
const common = { client, scope: 'bench:sky', audience: AUDIENCE };
const aws = fromSkyporten({ ...common, roleArn: sts.roleArn('bench'), durationSeconds: 43_200, region: 'eu-north-1', stsClientConfig: { endpoint: sts.url } });
const azure = createSkyportenAzureCredential({ ...common, tenantId: 'bench-tenant', clientId: 'bench-identity', credentialOptions: { authorityHost: entra.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: entra.ca } } });
await aws();
await azure.getToken('https://storage.azure.com/.default');

const map = new Map([['aws', { value: { accessKeyId: 'x' }, expiresAt: Date.now() + 3_600_000 }]]);
async function handWritten() {
  const e = map.get('aws');
  if (e && e.expiresAt > Date.now()) return e.value;
  throw new Error('miss');
}
const N = 10_000;
await bench.compare({
  baseline: { label: 'Map.get + expiry check (awaited)', run: asyncLoop(handWritten, N) },
  subjects: [
    { label: 'fromSkyporten() provider, cached credentials', run: asyncLoop(() => aws(), N), figure: 'Skyporten AWS credentials hit vs Map.get', goal: { max: 3 } },
    { label: "Azure credential getToken(scope), cached", run: asyncLoop(() => azure.getToken('https://storage.azure.com/.default'), N), figure: 'Skyporten Azure getToken() hit vs Map.get', goal: { max: 5 } },
  ],
  ops: N,
  chunks: 20,
  kind: 'time',
  rounds: 9,
  warmup: 2,
});
if (sky.tokenRequestCount() !== 1 || aws.exchanges !== 1 || azure.exchanges !== 1) throw new Error(`expected one token and one exchange per cloud, saw ${sky.tokenRequestCount()} tokens, ${aws.exchanges} AWS and ${azure.exchanges} Azure exchanges`);
await client.close();
await Promise.all([sts.close(), entra.close(), sky.close()]);
bench.finish();
