#!/usr/bin/env node
// portvakt-simulator: starts a local Maskinporten on a loopback port with one demo client, and a
// NAIS Texas stand-in that gets tokens for the same client, and prints everything a client needs. Runs until SIGINT/SIGTERM. Errors (bad arguments, a
// port in use, an unreadable key) are one line on stderr, never a stack trace.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateClientKey } from './fixtures/keys.js';
import { startMaskinportenSimulator } from './simulator/server.js';

const USAGE = `Usage: portvakt-simulator [options]

  --port N                 port on 127.0.0.1 (default 0: a free one)
  --issuer URL             the issuer string (default: its own URL with a trailing slash)
  --client-id ID           the demo client's id (default portvakt-demo-client)
  --scope S                a scope the client may ask for; repeat for more (default portvakt:demo)
  --orgno 9DIGITS          the client's organisation (default 991825827)
  --token-lifetime SECONDS lifetime of issued tokens (default 120)
  --key-file FILE          a private JWK (as \`portvakt keygen\` writes it) to register, so the key stays the same across restarts
  --public-jwk JSON|FILE   register only this public JWK (you keep the private key)
  --propagation-ms N       delay before a key written through /clients/{id}/jwks is accepted (default 0)
  --env                    print the MASKINPORTEN_* variables fromEnv() reads and the NAIS_TOKEN_*
                           variables NAIS sets for Texas, and nothing else
  -h, --help               show this help

Texas (NAIS' token sidecar) is served at <url>/api/v1/token and <url>/api/v1/introspect, getting
tokens for the demo client with a key of its own (kid nais-texas, registered on the client).

Give the client the scope idporten:dcr.modify to let it manage its own keys through the
self-service API at <url>/clients/<client-id>/jwks.`;

function fail(message: string, code = 2): never {
  console.error(`portvakt-simulator: ${message}`);
  process.exit(code);
}

function parse() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        issuer: { type: 'string' },
        'client-id': { type: 'string', default: 'portvakt-demo-client' },
        scope: { type: 'string', multiple: true },
        orgno: { type: 'string', default: '991825827' },
        'token-lifetime': { type: 'string', default: '120' },
        'key-file': { type: 'string' },
        'public-jwk': { type: 'string' },
        'propagation-ms': { type: 'string', default: '0' },
        env: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    return fail(`${(error as Error).message.split('. To specify')[0]?.replace(/\.$/, '')}. See --help.`);
  }
}

type PublicJwk = JsonWebKey & { kid: string; alg: string; use: 'sig' };

function readJson(label: string, text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  return fail(`${label} is not a JWK object.`);
}

/** The key to register: from --key-file (private, kept), --public-jwk (public only), or a new one. */
function clientKey(values: ReturnType<typeof parse>): { publicJwk: PublicJwk; privateJwk: JsonWebKey | undefined } {
  if (values['key-file'] !== undefined && values['public-jwk'] !== undefined) fail('give --key-file or --public-jwk, not both.');
  let jwk: Record<string, unknown> | undefined;
  let label = '';
  if (values['key-file'] !== undefined) {
    label = `--key-file ${values['key-file']}`;
    let text: string;
    try {
      text = readFileSync(values['key-file'], 'utf8');
    } catch (error) {
      return fail(`cannot read ${label} (${(error as { code?: string }).code ?? 'error'}).`);
    }
    jwk = readJson(label, text);
    if (!('d' in jwk)) fail(`${label} holds no private key: give the private JWK, or use --public-jwk for a public one.`);
  } else if (values['public-jwk'] !== undefined) {
    const given = values['public-jwk'];
    label = '--public-jwk';
    let text = given;
    if (!given.trimStart().startsWith('{')) {
      try {
        text = readFileSync(given, 'utf8');
      } catch (error) {
        return fail(`cannot read --public-jwk ${given} (${(error as { code?: string }).code ?? 'error'}).`);
      }
    }
    jwk = readJson(label, text);
    const keys = (jwk as { keys?: unknown }).keys;
    if (Array.isArray(keys)) {
      if (keys.length !== 1) fail('--public-jwk must hold one key.');
      jwk = readJson(label, JSON.stringify(keys[0]));
    }
    if ('d' in jwk) fail('--public-jwk holds a private key: give only the public half (or use --key-file).');
  }
  if (jwk === undefined) {
    const key = generateClientKey({ kid: `${values['client-id']}-key` });
    return { publicJwk: key.publicJwk, privateJwk: key.privateJwk };
  }
  if (typeof jwk.kid !== 'string' || jwk.kid === '') fail(`${label} has no "kid".`);
  let n: unknown;
  let e: unknown;
  try {
    const object = 'd' in jwk ? createPublicKey(createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })) : createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    if (object.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    ({ n, e } = object.export({ format: 'jwk' }));
  } catch {
    return fail(`${label} is not an RSA key.`);
  }
  const publicJwk = { kty: 'RSA', n, e, kid: jwk.kid, alg: typeof jwk.alg === 'string' ? jwk.alg : 'RS256', use: 'sig' } as PublicJwk;
  return { publicJwk, privateJwk: 'd' in jwk ? (jwk as JsonWebKey) : undefined };
}

const values = parse();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const port = Number(values.port);
const lifetime = Number(values['token-lifetime']);
const propagationMs = Number(values['propagation-ms']);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be an integer between 0 and 65535.');
if (!Number.isInteger(lifetime) || lifetime <= 0) fail('--token-lifetime must be a positive integer (seconds).');
if (!Number.isFinite(propagationMs) || propagationMs < 0) fail('--propagation-ms must be 0 or more.');
if (!/^\d{9}$/.test(values.orgno)) fail('--orgno must be a 9-digit organisation number.');
const scopes = values.scope && values.scope.length > 0 ? values.scope : ['portvakt:demo'];
const key = clientKey(values);

let sim: Awaited<ReturnType<typeof startMaskinportenSimulator>>;
try {
  sim = await startMaskinportenSimulator({
    port,
    ...(values.issuer ? { issuer: values.issuer } : {}),
    tokenLifetimeSeconds: lifetime,
    selfServicePropagationMs: propagationMs,
    clients: [{ clientId: values['client-id'], orgno: values.orgno, scopes, jwks: [key.publicJwk] }],
    texas: { client: values['client-id'] },
  });
} catch (error) {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') fail(`port ${port} is in use on 127.0.0.1: choose another with --port, or --port 0 for a free one.`, 1);
  if (code === 'EACCES') fail(`port ${port} needs privileges on this machine: choose one above 1023, or --port 0.`, 1);
  fail(`could not start: ${error instanceof Error ? error.message : String(error)}`, 1);
}

if (values.env) {
  // The variables fromEnv() reads (docs/configuration.md); single quotes keep the JWK's JSON as it is in env files.
  console.log(`MASKINPORTEN_CLIENT_ID=${values['client-id']}`);
  if (key.privateJwk !== undefined) console.log(`MASKINPORTEN_CLIENT_JWK='${JSON.stringify(key.privateJwk)}'`);
  else console.log(`# MASKINPORTEN_CLIENT_JWK: the private half of the --public-jwk key (kid ${key.publicJwk.kid})`);
  console.log(`MASKINPORTEN_SCOPES='${scopes.join(' ')}'`);
  console.log(`MASKINPORTEN_WELL_KNOWN_URL=${sim.metadataUrl}`);
  console.log(`MASKINPORTEN_ISSUER=${sim.issuer}`);
  console.log(`MASKINPORTEN_TOKEN_ENDPOINT=${sim.tokenEndpoint}`);
  // What NAIS sets when Texas is the app's token source (tokenSourceFromEnv() then picks Texas).
  for (const [name, value] of Object.entries(sim.texas?.env() ?? {})) console.log(`${name}=${value}`);
  // Where `portvakt keys rotate|prune|list` finds the self-service API.
  console.log(`PORTVAKT_SELF_SERVICE_URL=${sim.selfServiceUrl}`);
} else {
  console.log(`Maskinporten simulator listening on ${sim.url}`);
  console.log(`issuer:         ${sim.issuer}`);
  console.log(`token endpoint: ${sim.tokenEndpoint}`);
  console.log(`metadata:       ${sim.metadataUrl}`);
  console.log(`jwks:           ${sim.jwksUri}`);
  console.log(`self-service:   ${sim.selfServiceUrl}/clients/${values['client-id']}/jwks`);
  console.log(`texas token:    ${sim.texas?.tokenEndpoint ?? ''}`);
  console.log(`texas introspection: ${sim.texas?.introspectionEndpoint ?? ''}`);
  console.log('client configuration (for createMaskinportenClient):');
  console.log(JSON.stringify({
    clientId: values['client-id'],
    environment: { issuer: sim.issuer, tokenEndpoint: sim.tokenEndpoint },
    ...(key.privateJwk !== undefined ? { key: { jwk: key.privateJwk } } : {}),
    scope: scopes.join(' '),
  }));
}

const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
