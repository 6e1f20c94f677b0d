#!/usr/bin/env node
// portvakt-simulator: starts a local Maskinporten on a loopback port with one demo client and
// prints everything a client needs to use it. Runs until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { generateClientKey } from './fixtures/keys.js';
import { startMaskinportenSimulator } from './simulator/server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    issuer: { type: 'string' },
    'client-id': { type: 'string', default: 'portvakt-demo-client' },
    scope: { type: 'string', multiple: true },
    orgno: { type: 'string', default: '991825827' },
    'token-lifetime': { type: 'string', default: '120' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: portvakt-simulator [--port N] [--issuer URL] [--client-id ID] [--scope S]... [--orgno 9DIGITS] [--token-lifetime SECONDS]`);
  process.exit(0);
}

const port = Number(values.port);
const lifetime = Number(values['token-lifetime']);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('--port must be an integer between 0 and 65535');
  process.exit(2);
}
if (!Number.isInteger(lifetime) || lifetime <= 0) {
  console.error('--token-lifetime must be a positive integer (seconds)');
  process.exit(2);
}
const scopes = values.scope && values.scope.length > 0 ? values.scope : ['portvakt:demo'];
const key = generateClientKey({ kid: `${values['client-id']}-key` });
const sim = await startMaskinportenSimulator({
  port,
  ...(values.issuer ? { issuer: values.issuer } : {}),
  tokenLifetimeSeconds: lifetime,
  clients: [{ clientId: values['client-id'], orgno: values.orgno, scopes, jwks: [key.publicJwk] }],
});

console.log(`Maskinporten simulator listening on ${sim.url}`);
console.log(`issuer:         ${sim.issuer}`);
console.log(`token endpoint: ${sim.tokenEndpoint}`);
console.log(`metadata:       ${sim.metadataUrl}`);
console.log(`jwks:           ${sim.jwksUri}`);
console.log('client configuration (for createMaskinportenClient):');
console.log(JSON.stringify({
  clientId: values['client-id'],
  environment: { issuer: sim.issuer, tokenEndpoint: sim.tokenEndpoint },
  key: { jwk: key.privateJwk },
  scope: scopes.join(' '),
}));

const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
