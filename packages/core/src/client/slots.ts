// Cache slots, made once and reused, so a cache hit does no hashing or normalising. Plain
// `{ scope }` requests are remembered up to a bound; other requests get a slot per call (their key
// is computed; the cache entry is shared). The table is the same for every token source; each
// source says how a slot is made from a normalised request.
import { createHash } from 'node:crypto';
import { cacheKeyOf, normalizeTokenRequest } from '../grant/index.js';
import type { NormalizedTokenRequest } from '../grant/index.js';
import type { LoadedSigner } from '../keys/index.js';
import type { GetTokenOptions, TokenRequest } from '../types.js';
import type { ScopePayloads } from './event-payloads.js';
import type { ClientSlot, FetchToken } from './token-pipeline.js';

const MAX_SCOPE_MEMO = 1_000;

export interface SlotTable<S> {
  /** The slot for a call's options (undefined: the defaults). */
  slotOf(opts: GetTokenOptions | undefined): S;
  /** Forgets every remembered slot (a new key or issuer, or close()). */
  reset(): void;
}

/** A slot table over `make`, which turns a validated request (defaults merged in) into a slot. */
export function createSlotTable<S>(parts: { defaults: TokenRequest; hasDefaults: boolean; make: (request: NormalizedTokenRequest) => S }): SlotTable<S> {
  const { defaults, make } = parts;
  let defaultSlot: S | undefined;
  const scopeSlots = new Map<string, S>();
  return {
    reset() {
      defaultSlot = undefined;
      scopeSlots.clear();
    },
    slotOf(opts) {
      if (opts === undefined) return (defaultSlot ??= make(normalizeTokenRequest(undefined, defaults)));
      // Every claim but scope must be absent for the memo: a new claim added to TokenRequest belongs here too.
      const scopeOnly = opts.resource === undefined && opts.consumerOrg === undefined && opts.pid === undefined && opts.systemUser === undefined && opts.consent === undefined && opts.onBehalfOf === undefined;
      if (scopeOnly && opts.scope === undefined) return (defaultSlot ??= make(normalizeTokenRequest(undefined, defaults)));
      if (!scopeOnly || typeof opts.scope !== 'string' || parts.hasDefaults) return make(normalizeTokenRequest(claimsOf(opts), defaults));
      let slot = scopeSlots.get(opts.scope);
      if (slot === undefined) {
        slot = make(normalizeTokenRequest({ scope: opts.scope }, defaults));
        if (scopeSlots.size >= MAX_SCOPE_MEMO) scopeSlots.clear();
        scopeSlots.set(opts.scope, slot);
      }
      return slot;
    },
  };
}

/** The client's slots: one per issuer, signing key and request. */
export function clientSlotMaker(parts: { clientId: string; fetchToken: FetchToken; payloadsOf: (scope: string) => ScopePayloads }) {
  const { clientId, fetchToken, payloadsOf } = parts;
  return (issuer: string, signer: LoadedSigner, request: NormalizedTokenRequest): ClientSlot => {
    const key = cacheKeyOf({ issuer, clientId, signerIdentity: signer.identity, request });
    const slot: ClientSlot = {
      key, scope: request.scope, request, storeKey: createHash('sha256').update(key).digest('hex'),
      signer,
      payloads: payloadsOf(request.scope),
      fetch: (reason, replacing) => fetchToken(slot, reason, replacing),
    };
    return slot;
  };
}

/** The claims of getToken()'s options, without minValidity and signal. */
function claimsOf(opts: GetTokenOptions): TokenRequest {
  const { minValidity: _minValidity, signal: _signal, ...claims } = opts;
  return claims;
}
