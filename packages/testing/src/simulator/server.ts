import { createHash, X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { createIssuerKey, orgIdentifier, signAccessToken } from './access-token.js';
import { createSigningKeyRing } from './signing-keys.js';
import { GrantRejection, reject } from './errors.js';
import { ALTINN_EXCHANGE_PATH, ALTINN_JWKS_PATH, createAltinnExchange } from './altinn-exchange.js';
import { checkGrant, decodeGrant } from './grant-rules.js';
import { createSelfService, SELF_SERVICE_PATH } from './self-service.js';
import { createTexasStandIn, readTexasRequest, TEXAS_EXCHANGE_PATH, TEXAS_INTROSPECT_PATH, TEXAS_TOKEN_PATH } from './texas.js';
import type { TexasRecord, TexasStandIn } from './texas.js';
import { generateClientKey } from '../fixtures/keys.js';
import type { AcceptedGrant, GrantContext } from './grant-rules.js';
import type { SimulatorClient, SimulatorFault, SimulatorOptions, SimulatorPath, SimulatorRequestRecord, SimulatorTexas, SimulatorTexasOptions } from './types.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_BODY = 256 * 1024;

/**
 * A running local Maskinporten.
 * @example
 * ```ts
 * const sim: MaskinportenSimulator = await startMaskinportenSimulator({ clients });
 * expect(sim.tokenRequestCount()).toBe(1);
 * ```
 */
export interface MaskinportenSimulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly metadataUrl: string;
  readonly jwksUri: string;
  /** Registers (or replaces) a client. */
  addClient(client: SimulatorClient): void;
  /** The simulator's clock (epoch ms); also the source of every response's `Date` header. */
  now(): number;
  /** Moves the simulator's clock relative to its base clock. */
  setClockOffset(ms: number): void;
  /** Injects a fault into the next `times` requests (default 1; `Infinity` until cleared) on `path` (default /token). */
  inject(fault: SimulatorFault, options?: { times?: number; path?: SimulatorPath }): void;
  clearFaults(): void;
  /**
   * Rotates Maskinporten's signing key: new tokens are signed with a new key, and `/jwk` publishes
   * it with the previous one (any older key is dropped). `dropPrevious: true` publishes only the new
   * key at once. Resolves with the new `kid`.
   */
  rotateSigningKey(options?: { dropPrevious?: boolean }): Promise<string>;
  /** Stops publishing the key the last rotation replaced. */
  dropPreviousSigningKey(): void;
  /** Every request so far, oldest first. */
  readonly requests: ReadonlyArray<SimulatorRequestRecord>;
  /** POST /token requests so far, including faulted and rejected ones. */
  tokenRequestCount(): number;
  /** Access tokens issued so far. */
  issuedTokenCount(): number;
  /** Clears the log, counters, faults and the seen `jti`s. */
  reset(): void;
  /** A ready `createMaskinportenClient` environment for this simulator. */
  environment(): { issuer: string; tokenEndpoint: string };
  /**
   * Altinn's token exchange, served by the simulator: `createAltinnTokenSource({ maskinporten,
   * environment: { exchangeUrl: sim.altinnExchangeUrl } })`. It takes only valid tokens from this
   * simulator and answers with an Altinn-shaped JWT (lifetime `altinnTokenLifetimeSeconds`).
   */
  readonly altinnExchangeUrl: string;
  /** Where the exchange's own signing key is published. */
  readonly altinnJwksUri: string;
  /** Exchange requests so far, refused and faulted ones included. */
  altinnExchangeCount(): number;
  /**
   * Base URL of the self-service API (`<selfServiceUrl>/clients/{id}/jwks`: GET reads a client's
   * key set, POST or PUT replaces it), for an admin client with `idporten:dcr.modify`.
   */
  readonly selfServiceUrl: string;
  /** The NAIS Texas stand-in, when started with the `texas` option; undefined otherwise. */
  readonly texas: SimulatorTexas | undefined;
  /** Stops the server and destroys every socket, including hung ones. */
  close(): Promise<void>;
}

function baseClock(clock: SimulatorOptions['clock']): () => number {
  if (!clock) return Date.now;
  if ('now' in clock) return () => clock.now();
  if ('offsetMs' in clock) return () => Date.now() + clock.offsetMs;
  const fixed = typeof clock.fixed === 'number' ? clock.fixed : clock.fixed.getTime();
  return () => fixed;
}

function systemUserId(clientId: string, orgno: string, externalRef: string | undefined): string {
  const h = createHash('sha256').update(`${clientId}|${orgno}|${externalRef ?? ''}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Starts a local Maskinporten on 127.0.0.1 that enforces the real grant rules (docs/maskinporten-rules.md) and
 * issues RS256 access tokens, with fault injection and a request log for tests.
 *
 * @example
 * ```ts
 * import { generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
 * const key = generateClientKey();
 * const sim = await startMaskinportenSimulator({
 *   clients: [{ clientId: 'my-client', orgno: '991825827', scopes: ['nav:test'], jwks: [key.publicJwk] }],
 * });
 * // ... point your client at sim.issuer / sim.tokenEndpoint ...
 * sim.inject({ kind: 'status', status: 503, headers: { 'retry-after': '1' } }, { times: 2 });
 * await sim.close();
 * ```
 */
export async function startMaskinportenSimulator(options: SimulatorOptions = {}): Promise<MaskinportenSimulator> {
  const clock = baseClock(options.clock);
  let offset = 0;
  const now = () => clock() + offset;
  const lifetime = options.tokenLifetimeSeconds ?? 120;
  if (!Number.isInteger(lifetime) || lifetime <= 0) throw new TypeError('tokenLifetimeSeconds must be a positive integer');
  const delegationSource = options.delegationSource ?? 'https://tt02.altinn.no/';
  const clients = new Map<string, SimulatorClient>();
  for (const c of options.clients ?? []) clients.set(c.clientId, c);
  // Checked before any key is made: a wrong option fails at once.
  const texasSetup = options.texas === undefined ? undefined : setUpTexas(options.texas, clients);
  const signingKeys = createSigningKeyRing(createIssuerKey());
  const trustedCas = (options.trustedCaPems ?? []).map((pem) => new X509Certificate(pem));
  const seenJti = new Set<string>();
  let faults: { fault: SimulatorFault; remaining: number; path: SimulatorPath }[] = [];
  let log: SimulatorRequestRecord[] = [];
  let tokenRequests = 0;
  let altinnRequests = 0;
  let issued = 0;
  const sockets = new Set<Socket>();
  let url = '';
  let issuer = '';
  const startedAt = now();
  const altinnLifetime = options.altinnTokenLifetimeSeconds ?? 1800;
  if (!Number.isInteger(altinnLifetime) || altinnLifetime <= 0) throw new TypeError('altinnTokenLifetimeSeconds must be a positive integer');
  const altinn = createAltinnExchange({ now, issuer: () => issuer, baseUrl: () => url, lifetimeSeconds: altinnLifetime });
  const propagationMs = options.selfServicePropagationMs ?? 0;
  if (!Number.isFinite(propagationMs) || propagationMs < 0) throw new TypeError('selfServicePropagationMs must be a number of milliseconds, 0 or more');
  const selfService = createSelfService({ now, issuer: () => issuer, publishedKeys: () => signingKeys.published(), clients, propagationMs });
  let texas: TexasStandIn | undefined;
  let texasTokenRequests = 0;
  let introspections = 0;

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      'cache-control': 'no-store',
      date: new Date(now()).toUTCString(),
      ...headers,
    });
    res.end(text);
  }

  function takeFault(path: string): SimulatorFault | undefined {
    const entry = faults.find((f) => f.path === path && f.remaining > 0);
    if (!entry) return undefined;
    entry.remaining -= 1;
    faults = faults.filter((f) => f.remaining > 0);
    return entry.fault;
  }

  async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw reject.request('MP-011', 'Request body too large.');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function issue(grant: AcceptedGrant): Promise<{ access_token: string; token_type: string; expires_in: number; scope: string }> {
    const { client, claims } = grant;
    const scope = grant.scopes.join(' ');
    const body: Record<string, unknown> = {
      iss: issuer,
      client_id: client.clientId,
      client_amr: grant.clientAmr,
      scope,
      consumer: orgIdentifier(client.orgno),
    };
    if (typeof claims.consumer_org === 'string') {
      body.consumer = orgIdentifier(claims.consumer_org);
      body.supplier = orgIdentifier(client.orgno);
      body.delegation_source = delegationSource;
    }
    if (claims.resource !== undefined) body.aud = claims.resource;
    if (typeof claims.pid === 'string') body.pid = claims.pid;
    if (grant.consent !== undefined) {
      const { consent } = grant;
      // docs/maskinporten-rules.md §5.4 and §8.6: the token adds to, consented, validTo and consentRights.
      body.authorization_details = [{
        type: 'urn:altinn:consent',
        id: consent.id.toLowerCase(),
        from: consent.from,
        to: body.consumer,
        consented: new Date(consent.consented ?? startedAt - 3_600_000).toISOString(),
        validTo: new Date(consent.validTo ?? startedAt + 365 * 86_400_000).toISOString(),
        consentRights: consent.rights ?? [{ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'samtykke' }] }],
      }];
    } else if (Array.isArray(claims.authorization_details)) {
      const entry = claims.authorization_details[0] as { systemuser_org: { ID: string }; externalRef?: string };
      const orgno = entry.systemuser_org.ID.slice(5);
      const registered = client.systemUsers?.find((u) => u.orgno === orgno && (u.externalRef ?? orgno) === (entry.externalRef ?? orgno));
      body.authorization_details = [{
        type: 'urn:altinn:systemuser',
        systemuser_id: [registered?.systemUserId ?? systemUserId(client.clientId, orgno, entry.externalRef)],
        systemuser_org: orgIdentifier(orgno),
        system_id: registered?.systemId ?? `${client.orgno}_${client.clientId}`,
      }];
    }
    const iat = Math.floor(now() / 1000);
    const token = await signAccessToken(signingKeys.current, body, iat, iat + lifetime);
    issued += 1;
    return { access_token: token, token_type: 'Bearer', expires_in: lifetime, scope };
  }

  async function handleToken(req: http.IncomingMessage, res: http.ServerResponse, record: SimulatorRequestRecord, body: Promise<string>) {
    try {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const raw = await body;
      if (type !== 'application/x-www-form-urlencoded') {
        throw reject.request('MP-011', 'Content-Type must be application/x-www-form-urlencoded.');
      }
      const form = new URLSearchParams(raw);
      if (form.get('grant_type') !== JWT_BEARER) throw reject.request(undefined, `Unsupported grant_type; use ${JWT_BEARER}.`);
      const assertion = form.get('assertion');
      if (!assertion) throw reject.request('MP-011', 'Missing assertion.');
      const decoded = decodeGrant(assertion);
      if (decoded) record.grant = decoded;
      const ctx: GrantContext = { issuer, now: now(), clients, trustedCas, seenJti, scopeAccess: options.scopeAccess, isKeyPending: selfService.isPending };
      const accepted = await checkGrant(assertion, ctx);
      const response = await issue(accepted);
      record.issued = { scope: response.scope, expiresIn: response.expires_in };
      record.status = 200;
      send(res, 200, response);
    } catch (err) {
      const rejection = err instanceof GrantRejection ? err : new GrantRejection(500, 'server_error', undefined, 'Internal error in the simulator.');
      record.status = rejection.status;
      record.error = { ...rejection.toBody(), code: rejection.code };
      send(res, rejection.status, rejection.toBody());
    }
  }

  function applyFault(fault: SimulatorFault, req: http.IncomingMessage, res: http.ServerResponse, record: SimulatorRequestRecord): boolean {
    record.fault = fault.kind;
    switch (fault.kind) {
      case 'status':
        record.status = fault.status;
        send(res, fault.status, fault.body ?? '', fault.headers);
        return true;
      case 'malformed':
        record.status = fault.status ?? 200;
        res.writeHead(record.status, { 'content-type': fault.contentType ?? 'application/json', date: new Date(now()).toUTCString() });
        res.end(fault.body);
        return true;
      case 'redirect':
        record.status = fault.status;
        send(res, fault.status, '', { location: fault.location });
        return true;
      case 'hang':
        record.status = 0;
        req.resume();
        return true;
      case 'drop':
        record.status = 0;
        req.socket.destroy();
        return true;
      case 'delay':
        return false;
    }
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const record: SimulatorRequestRecord = { method: req.method ?? 'GET', path, status: 0, at: now() };
    log.push(record);
    if (path === '/token' && req.method === 'POST') tokenRequests += 1;
    if (path === ALTINN_EXCHANGE_PATH && req.method === 'GET') altinnRequests += 1;
    const texasPath = texas !== undefined && (path === TEXAS_TOKEN_PATH || path === TEXAS_INTROSPECT_PATH || path === TEXAS_EXCHANGE_PATH);
    if (texasPath && req.method === 'POST' && path === TEXAS_TOKEN_PATH) texasTokenRequests += 1;
    if (texasPath && req.method === 'POST' && path === TEXAS_INTROSPECT_PATH) introspections += 1;
    void (async () => {
      const fault = takeFault(path);
      const isToken = path === '/token' && req.method === 'POST';
      // Token requests are read and their grant logged even when a fault answers them, so a test
      // can check every POST (retries included).
      let body: Promise<string> = Promise.resolve('');
      if (isToken && fault?.kind !== 'drop' && fault?.kind !== 'hang') {
        body = readBody(req);
        body.catch(() => undefined);
        if (fault) {
          const grant = decodeGrant(new URLSearchParams(await body.catch(() => '')).get('assertion') ?? '');
          if (grant) record.grant = grant;
        }
      }
      if (texasPath && req.method === 'POST' && fault?.kind !== 'drop' && fault?.kind !== 'hang') {
        body = readBody(req);
        body.catch(() => undefined);
        // A faulted request to Texas is still read, so a test can count what it asked for.
        const asked = fault ? readTexasRequest(path, req.headers['content-type'], await body.catch(() => '')) : undefined;
        if (asked !== undefined) record.texas = { request: asked };
      }
      if (fault && applyFault(fault, req, res, record)) return;
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      if (isToken) return handleToken(req, res, record, body);
      if (texasPath && texas !== undefined) {
        if (req.method !== 'POST') {
          record.status = 405;
          return send(res, 405, '', { allow: 'POST' });
        }
        const contentType = req.headers['content-type'];
        const raw = await body;
        const texasRecord: TexasRecord = (record.texas = {});
        const answer = path === TEXAS_TOKEN_PATH ? await texas.token(contentType, raw, texasRecord) : path === TEXAS_INTROSPECT_PATH ? texas.introspect(contentType, raw, texasRecord) : texas.exchange(contentType, raw, texasRecord);
        record.status = answer.status;
        return send(res, answer.status, answer.body);
      }
      if (path === '/.well-known/oauth-authorization-server' && req.method === 'GET') {
        record.status = 200;
        // The fields Maskinporten's TEST metadata has (docs/maskinporten-rules.md §1.3).
        return send(res, 200, {
          issuer,
          token_endpoint: `${url}/token`,
          jwks_uri: `${url}/jwk`,
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
          grant_types_supported: [JWT_BEARER],
          token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'RS512'],
          authorization_details_types_supported: ['urn:altinn:systemuser', 'urn:altinn:consent'],
        });
      }
      if (path === ALTINN_EXCHANGE_PATH && req.method === 'GET') {
        const answer = await altinn.exchange(req.headers.authorization);
        record.status = answer.status;
        return send(res, answer.status, answer.body);
      }
      if (path === ALTINN_JWKS_PATH && req.method === 'GET') {
        record.status = 200;
        return send(res, 200, { keys: [altinn.key.publicJwk] });
      }
      const selfServiceClient = SELF_SERVICE_PATH.exec(path)?.[1];
      if (selfServiceClient !== undefined) {
        const answer = await selfService.handle(req.method ?? 'GET', decodeURIComponent(selfServiceClient), req.headers.authorization, await readBody(req));
        record.status = answer.status;
        return send(res, answer.status, answer.body);
      }
      if (path === '/jwk' && req.method === 'GET') {
        record.status = 200;
        return send(res, 200, { keys: signingKeys.published() });
      }
      record.status = 404;
      send(res, 404, { error: 'not_found' });
    })().catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject_) => {
    server.once('error', reject_);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('simulator did not get a TCP address');
  url = `http://127.0.0.1:${address.port}`;
  issuer = options.issuer ?? `${url}/`;
  if (texasSetup !== undefined) {
    texas = createTexasStandIn({
      now, issuer: () => issuer, tokenEndpoint: () => `${url}/token`, publishedKeys: () => signingKeys.published(),
      clientId: texasSetup.clientId, kid: texasSetup.key.kid, privateKeyPem: texasSetup.key.privateKeyPem,
      maskinportenEnabled: texasSetup.maskinportenEnabled, maxRetries: texasSetup.maxRetries, upstreamTimeoutMs: texasSetup.upstreamTimeoutMs,
    });
  }
  const standIn = texas;

  return {
    url,
    issuer,
    tokenEndpoint: `${url}/token`,
    metadataUrl: `${url}/.well-known/oauth-authorization-server`,
    jwksUri: `${url}/jwk`,
    addClient: (client) => void clients.set(client.clientId, texasSetup?.clientId === client.clientId ? withKey(client, texasSetup.key.publicJwk) : client),
    now,
    setClockOffset: (ms) => {
      offset = ms;
    },
    inject: (fault, opts = {}) => {
      faults.push({ fault, remaining: opts.times ?? 1, path: opts.path ?? '/token' });
    },
    clearFaults: () => {
      faults = [];
    },
    rotateSigningKey: (opts) => signingKeys.rotate(opts),
    dropPreviousSigningKey: () => signingKeys.dropPrevious(),
    get requests() {
      return log;
    },
    tokenRequestCount: () => tokenRequests,
    issuedTokenCount: () => issued,
    reset: () => {
      log = [];
      faults = [];
      tokenRequests = 0;
      altinnRequests = 0;
      texasTokenRequests = 0;
      introspections = 0;
      texas?.clearCache();
      issued = 0;
      seenJti.clear();
    },
    environment: () => ({ issuer, tokenEndpoint: `${url}/token` }),
    altinnExchangeUrl: `${url}${ALTINN_EXCHANGE_PATH}`,
    altinnJwksUri: `${url}${ALTINN_JWKS_PATH}`,
    altinnExchangeCount: () => altinnRequests,
    selfServiceUrl: url,
    texas: standIn === undefined ? undefined : {
      tokenEndpoint: `${url}${TEXAS_TOKEN_PATH}`,
      introspectionEndpoint: `${url}${TEXAS_INTROSPECT_PATH}`,
      exchangeEndpoint: `${url}${TEXAS_EXCHANGE_PATH}`,
      clientId: texasSetup?.clientId as string,
      env: () => ({ NAIS_TOKEN_ENDPOINT: `${url}${TEXAS_TOKEN_PATH}`, NAIS_TOKEN_INTROSPECTION_ENDPOINT: `${url}${TEXAS_INTROSPECT_PATH}`, NAIS_TOKEN_EXCHANGE_ENDPOINT: `${url}${TEXAS_EXCHANGE_PATH}` }),
      tokenRequestCount: () => texasTokenRequests,
      skipCacheCount: () => log.filter((r) => r.path === TEXAS_TOKEN_PATH && r.texas?.request?.skip_cache === true).length,
      introspectionCount: () => introspections,
      cacheSize: () => standIn.cacheSize(),
      clearCache: () => standIn.clearCache(),
      setMaskinportenEnabled: (enabled) => standIn.setMaskinportenEnabled(enabled),
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Adds `jwk` to a client's keys (a copy: the caller's object is left alone). */
function withKey(client: SimulatorClient, jwk: SimulatorClient['jwks'] extends (infer K)[] | undefined ? K : never): SimulatorClient {
  return { ...client, jwks: [...(client.jwks ?? []).filter((k) => (k as { kid?: unknown }).kid !== (jwk as { kid?: unknown }).kid), jwk] };
}

/** Texas' client and key: a new client, or an existing one with Texas' key added. */
function setUpTexas(options: SimulatorTexasOptions, clients: Map<string, SimulatorClient>) {
  if (typeof options !== 'object' || options === null) throw new TypeError('texas must be an object such as { client: { clientId, orgno, scopes } }');
  const maxRetries = options.maxRetries ?? 3;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 2000;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 10) throw new TypeError('texas.maxRetries must be an integer from 0 to 10');
  if (!Number.isFinite(upstreamTimeoutMs) || upstreamTimeoutMs <= 0) throw new TypeError('texas.upstreamTimeoutMs must be a positive number of milliseconds');
  const existing = typeof options.client === 'string' ? clients.get(options.client) : undefined;
  if (typeof options.client === 'string' && existing === undefined) throw new TypeError(`texas.client "${options.client}" is not one of the simulator's clients: give its clientId, or the client itself`);
  if (typeof options.client !== 'string' && typeof options.client?.clientId !== 'string') throw new TypeError('texas.client must be a clientId or a client { clientId, orgno, scopes }');
  const key = generateClientKey({ kid: 'nais-texas' });
  const clientId = typeof options.client === 'string' ? options.client : options.client.clientId;
  clients.set(clientId, existing !== undefined ? withKey(existing, key.publicJwk) : { ...(options.client as SimulatorClient), jwks: [key.publicJwk] });
  return { clientId, key, maskinportenEnabled: options.maskinportenEnabled !== false, maxRetries, upstreamTimeoutMs };
}
