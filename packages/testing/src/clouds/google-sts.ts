// A local Google Cloud for Skyporten tests (docs/maskinporten-rules.md §11.4): the Security Token
// Service exchanges a Skyporten token for a federated token (RFC 8693) when a workload identity
// pool provider trusts its issuer and audience; IAM Credentials' generateAccessToken turns that
// into a service account's token when the service account lets the token's consumer (and scope)
// impersonate it; and one storage-like resource accepts only such a token.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { checkIdentityToken, peekClaims, readRequestBody } from './identity-token.js';
import type { SkyportenClaims } from './identity-token.js';

/**
 * A workload identity pool provider: its full name (what a client sends as `audience`), the
 * issuer it trusts and the audiences it allows (`--allowed-audiences`).
 * @example
 * ```ts
 * const provider: GoogleWorkloadProvider = {
 *   name: '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/sky/providers/maskinporten',
 *   issuer: sky.issuer,
 *   allowedAudiences: ['https://skyporten.example.no'],
 * };
 * ```
 */
export interface GoogleWorkloadProvider {
  name: string;
  issuer: string;
  allowedAudiences: string[];
}

/**
 * A service account and who may impersonate it: a consumer (the token's `consumer.ID`, Digdir's
 * `google.subject` mapping) and, when given, only with that scope (the `attribute.clientaccess`
 * mapping `client::<consumer>::<scope>`).
 * @example
 * ```ts
 * const account: GoogleServiceAccount = { email: 'reader@demo.iam.gserviceaccount.com', members: [{ consumer: '0192:991825827', scope: 'demo:sky' }] };
 * ```
 */
export interface GoogleServiceAccount {
  email: string;
  members: { consumer: string; scope?: string }[];
}

/**
 * Options of {@link startGoogleStsStandIn}.
 * @example
 * ```ts
 * const options: GoogleStsStandInOptions = { providers: [provider], serviceAccounts: [account] };
 * ```
 */
export interface GoogleStsStandInOptions {
  providers: GoogleWorkloadProvider[];
  serviceAccounts: GoogleServiceAccount[];
  /** Epoch ms for token checks and lifetimes; default `Date.now`. */
  now?: () => number;
}

/**
 * A running Google stand-in: `tokenUrl` (STS), `impersonationUrl(email)` (IAM Credentials) and
 * `resourceUrl` (a resource that takes only a service account token it issued).
 * @example
 * ```ts
 * const google: GoogleStsStandIn = await startGoogleStsStandIn({ providers, serviceAccounts });
 * google.exchangeCount(); // STS exchanges so far
 * ```
 */
export interface GoogleStsStandIn {
  readonly url: string;
  /** `<url>/v1/token` */
  readonly tokenUrl: string;
  /** `<url>/v1/projects/-/serviceAccounts/<email>:generateAccessToken` */
  impersonationUrl(email: string): string;
  /** `<url>/storage/v1/b/demo/o`: answers 200 with the service account's email for its token. */
  readonly resourceUrl: string;
  /** STS token exchanges so far, refused ones included. */
  exchangeCount(): number;
  /** The `jti` of each Skyporten token STS was given, in order. */
  readonly exchangedTokenIds: ReadonlyArray<string | undefined>;
  /** generateAccessToken calls so far. */
  impersonationCount(): number;
  close(): Promise<void>;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SUBJECT_TOKEN_TYPES = new Set(['urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token']);

/**
 * Starts a local Google STS, IAM Credentials and one resource on 127.0.0.1, with Google's error
 * shapes: STS answers `invalid_grant` (audience, issuer, expiry, signature) or `invalid_request`,
 * and generateAccessToken answers 403 `PERMISSION_DENIED` when the consumer may not impersonate.
 *
 * @example
 * ```ts
 * import { startGoogleStsStandIn } from '@portvakt/testing';
 * const google = await startGoogleStsStandIn({
 *   providers: [{ name: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/mp', issuer: sky.issuer, allowedAudiences: ['https://skyporten.example.no'] }],
 *   serviceAccounts: [{ email: 'reader@demo.iam.gserviceaccount.com', members: [{ consumer: '0192:991825827' }] }],
 * });
 * ```
 */
export async function startGoogleStsStandIn(options: GoogleStsStandInOptions): Promise<GoogleStsStandIn> {
  const now = options.now ?? (() => Date.now());
  const federated = new Map<string, { claims: SkyportenClaims; expiresAt: number }>();
  const serviceTokens = new Map<string, { email: string; expiresAt: number }>();
  const tokenIds: (string | undefined)[] = [];
  let exchanges = 0;
  let impersonations = 0;

  const oauthError = (error: string, description: string) => ({ status: 400, body: { error, error_description: description } });
  const googleError = (status: number, code: string, message: string) => ({ status, body: { error: { code: status, message, status: code } } });

  async function exchange(form: URLSearchParams): Promise<{ status: number; body: unknown }> {
    exchanges += 1;
    const token = form.get('subject_token') ?? '';
    tokenIds.push(peekClaims(token)?.jti);
    if (form.get('grant_type') !== TOKEN_EXCHANGE) return oauthError('unsupported_grant_type', `Unsupported grant type ${String(form.get('grant_type'))}.`);
    if (!SUBJECT_TOKEN_TYPES.has(form.get('subject_token_type') ?? '')) return oauthError('invalid_request', 'Invalid value for "subject_token_type".');
    const provider = options.providers.find((p) => p.name === form.get('audience'));
    if (provider === undefined) return oauthError('invalid_request', 'Invalid value for "audience". This value should be the full resource name of the Identity Provider.');
    const check = await checkIdentityToken(token, [provider.issuer], now());
    if (!check.ok) {
      switch (check.problem) {
        case 'unknown_issuer':
          return oauthError('invalid_grant', `The issuer in ID Token ${String(check.claims?.iss ?? '')} does not match the expected ISSUER ${provider.issuer}.`);
        case 'expired':
          return oauthError('invalid_grant', 'ID Token has expired.');
        default:
          return oauthError('invalid_grant', 'Invalid ID Token: the signature could not be verified against the issuer\'s keys.');
      }
    }
    const audiences = typeof check.claims.aud === 'string' ? [check.claims.aud] : (check.claims.aud ?? []);
    if (!audiences.some((a) => provider.allowedAudiences.includes(a))) {
      return oauthError('invalid_grant', `The audience in ID Token [${audiences.join(', ')}] does not match the expected audience.`);
    }
    const accessToken = `ya29.fed-${randomBytes(24).toString('base64url')}`;
    federated.set(accessToken, { claims: check.claims, expiresAt: now() + 3_600_000 });
    return { status: 200, body: { access_token: accessToken, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: 3600 } };
  }

  function impersonate(email: string, authorization: string | undefined, body: string): { status: number; body: unknown } {
    impersonations += 1;
    const bearer = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    const identity = bearer === undefined ? undefined : federated.get(bearer);
    if (identity === undefined || now() >= identity.expiresAt) return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const account = options.serviceAccounts.find((a) => a.email === email);
    const consumer = identity.claims.consumer?.ID;
    const scopes = (identity.claims.scope ?? '').split(' ');
    const allowed = account?.members.some((m) => m.consumer === consumer && (m.scope === undefined || scopes.includes(m.scope)));
    if (account === undefined || allowed !== true) {
      return googleError(403, 'PERMISSION_DENIED', `Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).`);
    }
    let lifetime = 3600;
    try {
      const requested = (JSON.parse(body) as { lifetime?: unknown }).lifetime;
      if (typeof requested === 'string' && /^\d+s$/.test(requested)) lifetime = Number(requested.slice(0, -1));
    } catch {
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const accessToken = `ya29.sa-${randomBytes(24).toString('base64url')}`;
    const expiresAt = now() + lifetime * 1000;
    serviceTokens.set(accessToken, { email, expiresAt });
    return { status: 200, body: { accessToken, expireTime: new Date(expiresAt).toISOString() } };
  }

  const IMPERSONATE = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const body = await readRequestBody(req);
      let answer: { status: number; body: unknown };
      const email = IMPERSONATE.exec(path)?.[1];
      if (req.method === 'POST' && path === '/v1/token') {
        const type = (req.headers['content-type'] ?? '').split(';')[0];
        answer = await exchange(type === 'application/json' ? new URLSearchParams(JSON.parse(body) as Record<string, string>) : new URLSearchParams(body));
      } else if (req.method === 'POST' && email !== undefined) {
        answer = impersonate(decodeURIComponent(email), req.headers.authorization, body);
      } else if (req.method === 'GET' && path === '/storage/v1/b/demo/o') {
        const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
        const token = bearer === undefined ? undefined : serviceTokens.get(bearer);
        answer = token !== undefined && now() < token.expiresAt ? { status: 200, body: { kind: 'storage#objects', serviceAccount: token.email } } : googleError(401, 'UNAUTHENTICATED', 'Invalid Credentials');
      } else {
        answer = googleError(404, 'NOT_FOUND', 'Not found.');
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
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
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tokenUrl: `${url}/v1/token`,
    impersonationUrl: (email) => `${url}/v1/projects/-/serviceAccounts/${email}:generateAccessToken`,
    resourceUrl: `${url}/storage/v1/b/demo/o`,
    exchangeCount: () => exchanges,
    exchangedTokenIds: tokenIds,
    impersonationCount: () => impersonations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
