// The client's cache slots: one per issuer, signing key and request, made once and reused, so a
// cache hit does no hashing or normalising. Plain `{ scope }` requests are remembered up to a
// bound; other requests get a slot per call (their key is computed; the cache entry is shared).
import { createHash } from 'node:crypto';
import { cacheKeyOf, normalizeTokenRequest } from '../grant/index.js';
import type { NormalizedTokenRequest } from '../grant/index.js';
import type { LoadedSigner } from '../keys/index.js';
import type { GetTokenOptions, TokenRequest } from '../types.js';
import type { ScopePayloads } from './event-payloads.js';
import type { ClientSlot, FetchToken } from './token-pipeline.js';

const MAX_SCOPE_MEMO = 1_000;

export interface SlotTable {
  /** The slot for a call; `signer` is the client's current key. */
  slotOf(issuer: string, signer: LoadedSigner, opts: GetTokenOptions | undefined): ClientSlot;
  /** Forgets every remembered slot (a new key, or close()). */
  reset(): void;
}

export function createSlotTable(parts: { clientId: string; defaults: TokenRequest; hasDefaults: boolean; fetchToken: FetchToken; payloadsOf: (scope: string) => ScopePayloads }): SlotTable {
  const { clientId, defaults, fetchToken, payloadsOf } = parts;
  let defaultSlot: ClientSlot | undefined;
  const scopeSlots = new Map<string, ClientSlot>();
  let memoFor: string | undefined;

  const slotFor = (issuer: string, signer: LoadedSigner, request: NormalizedTokenRequest): ClientSlot => {
    const key = cacheKeyOf({ issuer, clientId, signerIdentity: signer.identity, request });
    const slot: ClientSlot = {
      key, scope: request.scope, request, storeKey: createHash('sha256').update(key).digest('hex'),
      signer,
      payloads: payloadsOf(request.scope),
      fetch: (reason, replacing) => fetchToken(slot, reason, replacing),
    };
    return slot;
  };
  const reset = (): void => {
    defaultSlot = undefined;
    scopeSlots.clear();
  };

  return {
    reset,
    slotOf(issuer, signer, opts) {
      if (memoFor !== issuer) {
        reset();
        memoFor = issuer;
      }
      if (opts === undefined) return (defaultSlot ??= slotFor(issuer, signer, normalizeTokenRequest(undefined, defaults)));
      // Every claim but scope must be absent for the memo: a new claim added to TokenRequest belongs here too.
      const scopeOnly = opts.resource === undefined && opts.consumerOrg === undefined && opts.pid === undefined && opts.systemUser === undefined && opts.consent === undefined && opts.onBehalfOf === undefined;
      if (scopeOnly && opts.scope === undefined) return (defaultSlot ??= slotFor(issuer, signer, normalizeTokenRequest(undefined, defaults)));
      if (!scopeOnly || typeof opts.scope !== 'string' || parts.hasDefaults) return slotFor(issuer, signer, normalizeTokenRequest(claimsOf(opts), defaults));
      let slot = scopeSlots.get(opts.scope);
      if (slot === undefined) {
        slot = slotFor(issuer, signer, normalizeTokenRequest({ scope: opts.scope }, defaults));
        if (scopeSlots.size >= MAX_SCOPE_MEMO) scopeSlots.clear();
        scopeSlots.set(opts.scope, slot);
      }
      return slot;
    },
  };
}

/** The claims of getToken()'s options, without minValidity and signal. */
function claimsOf(opts: GetTokenOptions): TokenRequest {
  const { minValidity: _minValidity, signal: _signal, ...claims } = opts;
  return claims;
}
