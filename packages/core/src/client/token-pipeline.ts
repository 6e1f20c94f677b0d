// How one token is fetched once the cache has decided it needs one: the environment, the
// certificate check, a fresh grant per attempt, the transport, an optional shared store, the
// diagnostics events, and the AccessToken handed to callers.
import * as nodeCrypto from 'node:crypto';
import { assertCertificateUsable, daysUntilExpiry } from '../certificates/index.js';
import type { CertificateInfo } from '../certificates/index.js';
import { safetyMarginMs } from '../cache/index.js';
import type { CachePolicy, CacheSlot, TokenFetcher } from '../cache/index.js';
import { channels } from '../diagnostics.js';
import type { EnvironmentSource } from '../environments/index.js';
import { ClientClosedError, PortvaktError } from '../errors.js';
import { cacheKeyOf, createGrant } from '../grant/index.js';
import type { NormalizedTokenRequest } from '../grant/index.js';
import type { LoadedSigner } from '../keys/index.js';
import type { Transport, TransportObserver } from '../transport/index.js';
import type { Clock, StoredToken, TokenStore } from '../types.js';
import { AccessToken } from './access-token.js';
import type { ScopePayloads } from './event-payloads.js';
import { publishFetch } from './source-events.js';

/** A cache slot of the client: the normalised request, and the issuer and signer it is fetched with. */
export interface ClientSlot extends CacheSlot<AccessToken> {
  readonly request: NormalizedTokenRequest;
  /** The issuer this slot's grants are for (part of its key in a shared store). */
  readonly issuer: string;
  /** The key this slot's grants are signed with (part of its cache key): a key change makes new slots. */
  readonly signer: LoadedSigner;
  /** The payloads of this slot's cache events, made once per scope: a hit allocates nothing. */
  readonly payloads: ScopePayloads;
}

export interface PipelineParts {
  clientId: string;
  environment: EnvironmentSource;
  transport: Transport;
  grantLifetime: number;
  store: TokenStore | undefined;
  clock: Clock;
  /** The cache's safety margin: a shared token must be outside it to be worth taking. */
  margin: Pick<CachePolicy, 'minMargin' | 'marginRatio'>;
  /** Aborted by close(): ends every fetch in flight. */
  closing: AbortSignal;
}

/**
 * The key of a slot in a shared store: SHA-256 hex of the full cache key (issuer, client, signing
 * key and claims), so the replicas of a fleet agree on it and no claim value (a pid, say) reaches
 * a store. Made when a store is asked, not kept on every slot.
 */
export function storeKeyOf(clientId: string, slot: ClientSlot): string {
  return sha256Hex(cacheKeyOf({ issuer: slot.issuer, clientId, signerIdentity: slot.signer.identity, request: slot.request }));
}

// The one-shot `crypto.hash()` (Node 20.12 and later) costs about a third of a Hash object; a
// runtime without it (an older Bun or Deno) gets the same digest from createHash().
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256Hex: (text: string) => string = typeof oneShot === 'function'
  ? (text) => oneShot('sha256', text, 'hex')
  : (text) => nodeCrypto.createHash('sha256').update(text).digest('hex');

/** Fetches the token of a slot: what a slot's `fetch` calls on a miss or a refresh. */
export type FetchToken = (slot: ClientSlot, ...args: Parameters<TokenFetcher<AccessToken>>) => Promise<AccessToken>;

/** Builds the fetch of one client from its parts. */
export function createTokenPipeline(parts: PipelineParts): FetchToken {
  const { clientId, environment, transport, grantLifetime, store, clock, closing } = parts;
  // Each certificate is checked against the environment it is used with, once: at construction or
  // setKey() for a preset or explicit URLs (client.ts), at its first fetch for a discovered one.
  const checked = new WeakSet<CertificateInfo>();

  async function fromMaskinporten(request: NormalizedTokenRequest, signer: LoadedSigner, observer: TransportObserver | undefined): Promise<StoredToken & { attempts: number }> {
    const env = await environment.resolve(closing);
    const certificate = signer.certificate;
    if (certificate !== undefined && !checked.has(certificate)) {
      assertCertificateUsable(certificate, env.kind, clock.now());
      checked.add(certificate);
    }
    const { response, sentAt, attempts } = await transport.requestToken({
      tokenEndpoint: env.tokenEndpoint,
      createAssertion: (nowMs) => createGrant({ issuer: env.issuer, clientId, request, nowMs, lifetimeSeconds: grantLifetime, signer }),
      signal: closing,
      observer,
    });
    return {
      accessToken: response.accessToken,
      tokenType: response.tokenType,
      // Anchored on when the request was sent; the token itself is opaque (docs/maskinporten-rules.md §10).
      expiresAt: sentAt + response.expiresIn * 1000,
      issuedAt: sentAt,
      scope: response.scope ?? request.scope,
      attempts,
    };
  }

  const usable = (t: StoredToken | undefined): t is StoredToken => typeof t?.accessToken === 'string' && Number.isFinite(t.expiresAt) && t.expiresAt > clock.now();

  async function viaStore(slot: ClientSlot, replacing: AccessToken | undefined, observer: TransportObserver | undefined): Promise<StoredToken & { attempts?: number }> {
    if (store === undefined) return fromMaskinporten(slot.request, slot.signer, observer);
    const storeKey = storeKeyOf(clientId, slot);
    let fetched: (StoredToken & { attempts: number }) | undefined;
    const fetchOnce = async () => (fetched ??= await fromMaskinporten(slot.request, slot.signer, observer));
    try {
      // A refresh-ahead must not take back the token it is replacing (other replicas share it):
      // only a newer shared token will do, otherwise the store fetches one, once for the fleet.
      const minValidUntil = Math.max(clock.now() + parts.margin.minMargin * 1000, replacing === undefined ? 0 : replacing.expiresAtMs + 1);
      const shared = await store.load(storeKey, fetchOnce, { minValidUntil, signal: closing });
      if (!usable(shared)) return await fetchOnce();
      if (fetched !== undefined) return fetched;
      // A shared token already inside this client's safety margin (a 120 s token with 5-12 s
      // left, say) would be due again as soon as it is cached, and every call would read the store
      // again. Ask once more, for a newer one: the store fetches it, once for the fleet. If that
      // fetch fails, the caller gets its error, as a caller of the cache alone does inside the margin.
      if (shared.expiresAt - safetyMarginMs(parts.margin, shared.issuedAt, shared.expiresAt) > clock.now()) return shared;
      const newer = await store.load(storeKey, fetchOnce, { minValidUntil: Math.max(minValidUntil, shared.expiresAt + 1), signal: closing });
      return usable(newer) ? (fetched ?? newer) : await fetchOnce();
    } catch (error) {
      // A store that fails never fails the call: fetch on our own (unless the fetch itself failed).
      if (error instanceof PortvaktError) throw error;
      return fetched ?? (await fetchOnce());
    }
  }

  return (slot, reason, replacing) =>
    publishFetch({ clientId, issuer: environment.issuer, scope: slot.scope, reason }, { clock, closing, closed: () => new ClientClosedError() }, async (observer) => {
      const certificate = slot.signer.certificate;
      if (certificate !== undefined && channels.certificateStatus.hasSubscribers) {
        channels.certificateStatus.publish({ clientId, subject: certificate.subject, notAfter: certificate.notAfter, daysLeft: daysUntilExpiry(certificate, clock.now()) });
      }
      const stored = await viaStore(slot, replacing, observer);
      return { token: new AccessToken(stored.accessToken, stored), attempts: stored.attempts };
    });
}
