// A local Microsoft Entra ID token endpoint for Skyporten tests (docs/maskinporten-rules.md §11.4):
// client credentials with a client assertion, as a user-assigned managed identity's federated
// credential takes a Skyporten token. It speaks https (MSAL refuses an http authority), serves the
// tenant's OpenID configuration, answers Entra's AADSTS errors, and serves one resource that takes
// only an access token it issued.
import { randomBytes, randomUUID } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkIdentityToken, peekClaims, readRequestBody } from './identity-token.js';
import { createLoopbackTlsCertificate } from './loopback-tls.js';

/**
 * A federated identity credential: the token's issuer, subject and audience must each match
 * exactly (a trailing slash included).
 * @example
 * ```ts
 * const credential: EntraFederatedCredential = { issuer: sky.issuer, subject: '0192:991825827;demo:sky', audiences: ['https://skyporten.example.no'] };
 * ```
 */
export interface EntraFederatedCredential {
  issuer: string;
  subject: string;
  audiences: string[];
}

/**
 * A managed identity (or app registration) by its client id, with its federated credentials.
 * @example
 * ```ts
 * const identity: EntraIdentity = { clientId: '44444444-cf66-4934-b34c-444444444444', federatedCredentials: [credential] };
 * ```
 */
export interface EntraIdentity {
  clientId: string;
  federatedCredentials: EntraFederatedCredential[];
}

/**
 * Options of {@link startEntraStandIn}.
 * @example
 * ```ts
 * const options: EntraStandInOptions = { tenantId: '33333333-d105-4b01-aa7c-333333333333', identities: [identity] };
 * ```
 */
export interface EntraStandInOptions {
  tenantId: string;
  identities: EntraIdentity[];
  /** Lifetime of issued access tokens, seconds; default 3600. */
  accessTokenLifetimeSeconds?: number;
  /** Epoch ms for assertion checks and lifetimes; default `Date.now`. */
  now?: () => number;
}

/**
 * A running Entra stand-in. Give `@azure/identity` `authorityHost: entra.authorityHost`,
 * `disableInstanceDiscovery: true` and `tlsOptions: { ca: entra.ca }`.
 * @example
 * ```ts
 * const entra: EntraStandIn = await startEntraStandIn({ tenantId, identities });
 * entra.tokenRequestCount();
 * ```
 */
export interface EntraStandIn {
  /** `https://127.0.0.1:<port>` */
  readonly authorityHost: string;
  /** The stand-in's self-signed certificate (PEM), for the client to trust. */
  readonly ca: string;
  /** `<authorityHost>/resource`: answers 200 with the client id for an access token it issued. */
  readonly resourceUrl: string;
  /** Token requests so far, refused ones included. */
  tokenRequestCount(): number;
  /** The `jti` of each assertion presented, in order. */
  readonly assertionIds: ReadonlyArray<string | undefined>;
  close(): Promise<void>;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Starts a local Entra ID token endpoint on https://127.0.0.1 (a self-signed certificate; `ca`
 * trusts it). A federated credential must match the assertion's issuer, subject and audience
 * exactly, or it answers `AADSTS70021`; an expired assertion gives `AADSTS700024`; an unknown
 * client id `AADSTS700016`.
 *
 * @example
 * ```ts
 * import { startEntraStandIn } from '@portvakt/testing';
 * const entra = await startEntraStandIn({
 *   tenantId: '33333333-d105-4b01-aa7c-333333333333',
 *   identities: [{ clientId: '44444444-cf66-4934-b34c-444444444444', federatedCredentials: [{ issuer: sky.issuer, subject: '0192:991825827;demo:sky', audiences: ['https://skyporten.example.no'] }] }],
 * });
 * ```
 */
export async function startEntraStandIn(options: EntraStandInOptions): Promise<EntraStandIn> {
  const now = options.now ?? (() => Date.now());
  const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
  const tls = createLoopbackTlsCertificate();
  const issuedTokens = new Map<string, { clientId: string; expiresAt: number }>();
  const assertionIds: (string | undefined)[] = [];
  let tokenRequests = 0;
  let origin = '';

  const aadsts = (status: number, error: string, code: number, text: string) => ({
    status,
    body: { error, error_description: `AADSTS${code}: ${text} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date(now()).toISOString()}`, error_codes: [code], timestamp: new Date(now()).toISOString(), trace_id: randomUUID(), correlation_id: randomUUID(), error_uri: `${origin}/error?code=${code}` },
  });

  async function token(form: URLSearchParams): Promise<{ status: number; body: unknown }> {
    tokenRequests += 1;
    const assertion = form.get('client_assertion') ?? '';
    assertionIds.push(peekClaims(assertion)?.jti);
    if (form.get('grant_type') !== 'client_credentials') return aadsts(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) return aadsts(400, 'invalid_request', 50027, 'Invalid client assertion type.');
    const clientId = form.get('client_id') ?? '';
    const identity = options.identities.find((i) => i.clientId === clientId);
    if (identity === undefined) return aadsts(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${options.tenantId}'.`);
    const issuers = [...new Set(identity.federatedCredentials.map((c) => c.issuer))];
    const claims = peekClaims(assertion);
    const check = await checkIdentityToken(assertion, issuers.length === 0 ? [''] : issuers, now());
    const describe = () => {
      const aud = claims?.aud;
      return `Assertion Issuer: '${String(claims?.iss ?? '')}'. Assertion Subject: '${String(claims?.sub ?? '')}'. Assertion Audience: '${Array.isArray(aud) ? aud.join(',') : String(aud ?? '')}'.`;
    };
    if (!check.ok) {
      switch (check.problem) {
        case 'unknown_issuer':
          return aadsts(400, 'invalid_client', 70021, `No matching federated identity record found for presented assertion. ${describe()}`);
        case 'expired':
        case 'not_yet_valid': {
          const from = new Date(Number(claims?.iat ?? claims?.nbf ?? 0) * 1000).toISOString();
          const to = new Date(Number(claims?.exp ?? 0) * 1000).toISOString();
          return aadsts(400, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${new Date(now()).toISOString()}, assertion valid from ${from}, expiry time of assertion ${to}.`);
        }
        default:
          return aadsts(400, 'invalid_client', 700027, 'Client assertion failed signature validation.');
      }
    }
    const audiences = typeof check.claims.aud === 'string' ? [check.claims.aud] : (check.claims.aud ?? []);
    const match = identity.federatedCredentials.some((c) => c.issuer === check.claims.iss && c.subject === check.claims.sub && audiences.some((a) => c.audiences.includes(a)));
    if (!match) return aadsts(400, 'invalid_client', 70021, `No matching federated identity record found for presented assertion. ${describe()}`);
    const accessToken = `entra-${randomBytes(24).toString('base64url')}`;
    issuedTokens.set(accessToken, { clientId, expiresAt: now() + lifetime * 1000 });
    return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken } };
  }

  const tenantPath = `/${options.tenantId}`;
  const sockets = new Set<Duplex>();
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const body = await readRequestBody(req);
      let answer: { status: number; body: unknown };
      if (req.method === 'GET' && path === `${tenantPath}/v2.0/.well-known/openid-configuration`) {
        answer = {
          status: 200,
          body: {
            issuer: `${origin}${tenantPath}/v2.0`,
            authorization_endpoint: `${origin}${tenantPath}/oauth2/v2.0/authorize`,
            token_endpoint: `${origin}${tenantPath}/oauth2/v2.0/token`,
            end_session_endpoint: `${origin}${tenantPath}/oauth2/v2.0/logout`,
            jwks_uri: `${origin}${tenantPath}/discovery/v2.0/keys`,
          },
        };
      } else if (req.method === 'POST' && path === `${tenantPath}/oauth2/v2.0/token`) {
        answer = await token(new URLSearchParams(body));
      } else if (req.method === 'GET' && path === '/resource') {
        const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
        const issued = bearer === undefined ? undefined : issuedTokens.get(bearer);
        answer = issued !== undefined && now() < issued.expiresAt ? { status: 200, body: { clientId: issued.clientId } } : { status: 401, body: { error: 'invalid_token' } };
      } else {
        answer = aadsts(404, 'invalid_request', 90002, `Tenant or path '${path}' not found.`);
      }
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.body));
    })().catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    authorityHost: origin,
    ca: tls.ca,
    resourceUrl: `${origin}/resource`,
    tokenRequestCount: () => tokenRequests,
    assertionIds,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
