// A stand-in for NAIS Texas, the token sidecar (docs/maskinporten-rules.md §11.1), served beside
// the simulator's Maskinporten and backed by it over HTTP, as the real one is by Maskinporten.
// What an app sees follows nais/texas (src/handler.rs, src/handler/token.rs, src/cache.rs,
// src/http/client.rs, src/oauth/token.rs):
// - POST /api/v1/token, JSON or form: a cache keyed by the whole request (skip_cache aside), one
//   Maskinporten request for concurrent equal requests, an entry evicted 120 s before the token
//   expires (half its remaining life when that is shorter), `expires_in` the time LEFT, and
//   `skip_cache: true` dropping the entry first;
// - Maskinporten's errors passed on with their status, Texas' own 400 invalid_request and 500
//   server_error; transient Maskinporten failures retried 3 times at once with the same request;
// - POST /api/v1/introspect, always 200 once the body is read: see texas-introspect.ts.
// One difference: the grant Texas signs carries `nbf`, which the simulator refuses as an
// undocumented claim (docs/maskinporten-rules.md §2.2), so the stand-in leaves it out.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { createIntrospector } from './texas-introspect.js';
import { canonicalJson, readExchangeRequest, readIntrospectRequest, readTokenRequest, texasError } from './texas-request.js';
import type { TexasAnswer, TexasTokenRequest } from './texas-request.js';

export const TEXAS_TOKEN_PATH = '/api/v1/token';
export const TEXAS_EXCHANGE_PATH = '/api/v1/token/exchange';
export const TEXAS_INTROSPECT_PATH = '/api/v1/introspect';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Texas evicts a cached token this long before it expires (nais/texas src/cache.rs). */
const EVICTION_LEAD_MS = 120_000;
/** Texas' cache capacity. */
const MAX_ENTRIES = 262_144;
/** Texas' grant lifetime (nais/texas src/oauth/assertion.rs). */
const GRANT_LIFETIME_SECONDS = 30;

/** What the server records of a request to the stand-in. */
export interface TexasRecord {
  /** The request as Texas read it (without the token of an introspection). */
  request?: Record<string, unknown>;
  /** Where a token answer came from: Texas' cache, a new Maskinporten request, or one already under way. */
  cache?: 'hit' | 'miss' | 'joined';
  /** Whether an introspected token was active. */
  active?: boolean;
}

interface Entry {
  accessToken: string;
  /** Simulator clock, ms: when Maskinporten's token expires. */
  expiresAt: number;
  /** Simulator clock, ms: when Texas drops the entry. */
  evictAt: number;
}

type Upstream = { ok: true; entry: Entry } | { ok: false; answer: TexasAnswer };

export interface TexasParts {
  now: () => number;
  issuer: () => string;
  /** The simulator's own /token. */
  tokenEndpoint: () => string;
  publishedKeys: () => JsonWebKey[];
  clientId: string;
  kid: string;
  privateKeyPem: string;
  maskinportenEnabled: boolean;
  maxRetries: number;
  upstreamTimeoutMs: number;
}

/** The stand-in: answers the three Texas paths, and lets tests look at its cache. */
export interface TexasStandIn {
  token(contentType: string | undefined, raw: string, record: TexasRecord): Promise<TexasAnswer>;
  exchange(contentType: string | undefined, raw: string, record: TexasRecord): TexasAnswer;
  introspect(contentType: string | undefined, raw: string, record: TexasRecord): TexasAnswer;
  cacheSize(): number;
  clearCache(): void;
  setMaskinportenEnabled(enabled: boolean): void;
}

/** Texas' "not enabled" answer, for a provider the app has not enabled in its manifest. */
const notEnabled = (provider: string) => texasError(400, 'invalid_request', `identity provider '${provider}' is not enabled`);

/** reqwest-retry's transient statuses: 408, 429 and every 5xx. */
const isTransient = (status: number) => status === 408 || status === 429 || status >= 500;

export function createTexasStandIn(parts: TexasParts): TexasStandIn {
  const signingKey: KeyObject = createPrivateKey(parts.privateKeyPem);
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Upstream>>();
  const introspector = createIntrospector(parts);
  let enabled = parts.maskinportenEnabled;

  function grantFor(request: TexasTokenRequest): string {
    const iat = Math.floor(parts.now() / 1000);
    const claims: Record<string, unknown> = { exp: iat + GRANT_LIFETIME_SECONDS, iat, jti: randomUUID(), scope: request.target, iss: parts.clientId, aud: parts.issuer() };
    if (request.resource !== undefined) claims.resource = request.resource;
    if (request.authorization_details !== undefined) claims.authorization_details = request.authorization_details;
    const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: parts.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${input}.${sign('sha256', Buffer.from(input), signingKey).toString('base64url')}`;
  }

  /** One Maskinporten request, with Texas' retries: the same body again at once, on a transient failure. */
  async function fromMaskinporten(request: TexasTokenRequest): Promise<Upstream> {
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion: grantFor(request) }).toString();
    let response: Response | undefined;
    let text = '';
    for (let attempt = 0; ; attempt++) {
      try {
        response = await fetch(parts.tokenEndpoint(), {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          body,
          signal: AbortSignal.timeout(parts.upstreamTimeoutMs),
        });
        text = await response.text();
      } catch (error) {
        if (attempt < parts.maxRetries) continue;
        const reason = error instanceof Error ? (error.name === 'TimeoutError' ? 'operation timed out' : error.message) : String(error);
        return { ok: false, answer: texasError(500, 'server_error', `Upstream request failed: ${reason}`) };
      }
      if (isTransient(response.status) && attempt < parts.maxRetries) continue;
      break;
    }
    let json: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) json = value as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    if (response.status >= 400) {
      // An RFC 6749 error passes through with Maskinporten's status; anything else is Texas' 500.
      if (typeof json?.error === 'string' && typeof json.error_description === 'string') {
        return { ok: false, answer: { status: response.status, body: { error: json.error, error_description: json.error_description } } };
      }
      return { ok: false, answer: texasError(500, 'server_error', 'Failed to parse JSON: error decoding response body') };
    }
    const expiresIn = json?.expires_in;
    if (typeof json?.access_token !== 'string' || json.token_type !== 'Bearer' || typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 0) {
      return { ok: false, answer: texasError(500, 'server_error', 'Failed to parse JSON: error decoding response body') };
    }
    const insertedAt = parts.now();
    const lifetimeMs = expiresIn * 1000;
    // nais/texas src/cache.rs: evicted 120 s before expiry, or at half the remaining life when shorter.
    const ttlMs = lifetimeMs > EVICTION_LEAD_MS ? lifetimeMs - EVICTION_LEAD_MS : lifetimeMs / 2;
    return { ok: true, entry: { accessToken: json.access_token, expiresAt: insertedAt + lifetimeMs, evictAt: insertedAt + ttlMs } };
  }

  function answerOf(entry: Entry): TexasAnswer {
    const expiresIn = Math.max(0, Math.floor((entry.expiresAt - parts.now()) / 1000));
    return { status: 200, body: { access_token: entry.accessToken, token_type: 'Bearer', expires_in: expiresIn } };
  }

  return {
    async token(contentType, raw, record) {
      const request = readTokenRequest(contentType, raw);
      if ('status' in request) return request;
      record.request = { ...request };
      if (request.identity_provider !== 'maskinporten' || !enabled) return notEnabled(request.identity_provider);
      const key = canonicalJson([request.identity_provider, request.target, request.resource ?? null, request.authorization_details ?? null]);
      if (request.skip_cache === true) cache.delete(key);
      const cached = cache.get(key);
      if (cached !== undefined && parts.now() < cached.evictAt) {
        record.cache = 'hit';
        return answerOf(cached);
      }
      if (cached !== undefined) cache.delete(key);
      let shared = inflight.get(key);
      record.cache = shared === undefined ? 'miss' : 'joined';
      if (shared === undefined) {
        const started = fromMaskinporten(request).then((result) => {
          inflight.delete(key);
          // A failure is not cached; every request that waited for it gets the same answer.
          if (result.ok) {
            cache.delete(key);
            cache.set(key, result.entry);
            if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
          }
          return result;
        });
        inflight.set(key, started);
        shared = started;
      }
      const result = await shared;
      return result.ok ? answerOf(result.entry) : result.answer;
    },

    exchange(contentType, raw, record) {
      // Token exchange is for user tokens (TokenX, Entra ID on-behalf-of); Maskinporten has none.
      const request = readExchangeRequest(contentType, raw);
      if ('status' in request) return request;
      record.request = { ...request };
      if (request.identity_provider !== 'maskinporten' || !enabled) return notEnabled(request.identity_provider);
      return texasError(400, 'invalid_request', "identity provider 'maskinporten' does not support token exchange");
    },

    introspect(contentType, raw, record) {
      const request = readIntrospectRequest(contentType, raw);
      if ('status' in request) return request;
      record.request = { identity_provider: request.identity_provider };
      const result = request.identity_provider !== 'maskinporten' || !enabled
        ? { active: false as const, error: `identity provider '${request.identity_provider}' is not enabled` }
        : introspector.introspect(request.token);
      record.active = result.active;
      return { status: 200, body: result };
    },

    cacheSize: () => cache.size,
    clearCache: () => cache.clear(),
    setMaskinportenEnabled(value) {
      enabled = value;
    },
  };
}

/** What a request to `path` asks for, read without answering it (for the log of a faulted request). */
export function readTexasRequest(path: string, contentType: string | undefined, raw: string): Record<string, unknown> | undefined {
  const request = path === TEXAS_TOKEN_PATH ? readTokenRequest(contentType, raw) : path === TEXAS_INTROSPECT_PATH ? readIntrospectRequest(contentType, raw) : readExchangeRequest(contentType, raw);
  if ('status' in request) return undefined;
  const { token: _token, ...rest } = request as { token?: string };
  return rest;
}
