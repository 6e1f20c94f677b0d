// Cache slots, made once and reused, so a cache hit does no hashing or normalising. Plain
// `{ scope }` requests are remembered up to a bound; other requests get a slot per call (their key
// is computed; the cache entry is shared). The table is the same for every token source; each
// source says how a slot is made from a normalised request.
//
// The memo is keyed by the scope string, a value, never by the caller's options object: a caller
// that changes its object after a call (another scope, a claim or a misspelt member added) is read
// afresh on the next call, and cannot be served a slot made for what the object held before.
import { normalizeTokenRequest, requestKeyOf } from '../grant/index.js';
import type { NormalizedTokenRequest } from '../grant/index.js';
import type { LoadedSigner } from '../keys/index.js';
import type { GetTokenOptions, TokenRequest } from '../types.js';
import type { AccessToken } from './access-token.js';
import type { ScopePayloads } from './event-payloads.js';
import type { ClientSlot, FetchToken } from './token-pipeline.js';

const MAX_SCOPE_MEMO = 1_000;

export interface SlotTable<S> {
  /** The slot for a call's options (undefined: the defaults), once readGetTokenOptions() has checked them. */
  slotOf(opts: GetTokenOptions | undefined): S;
  /**
   * The hot path of `getToken({ scope })`: the slot when `opts` has no member but a string `scope`
   * (so no `minValidity` or `signal` either), and undefined for any other options, which then go
   * through readGetTokenOptions() and slotOf(). A scope that does not validate throws here.
   */
  scopeOnly(opts: GetTokenOptions): S | undefined;
  /** Forgets every remembered slot (a new key or issuer, or close()). */
  reset(): void;
}

/** A slot table over `make`, which turns a validated request (defaults merged in) into a slot. */
export function createSlotTable<S>(parts: { defaults: TokenRequest; hasDefaults: boolean; make: (request: NormalizedTokenRequest) => S }): SlotTable<S> {
  const { defaults, make } = parts;
  let defaultSlot: S | undefined;
  const scopeSlots = new Map<string, S>();
  // The last scope asked for and its slot: a hot call site asks for the same one every time.
  let lastScope: string | undefined;
  let lastSlot: S | undefined;
  function slotOfScope(scope: string): S {
    if (scope === lastScope) return lastSlot as S;
    let slot = scopeSlots.get(scope);
    if (slot === undefined) {
      slot = make(normalizeTokenRequest({ scope }, defaults));
      if (scopeSlots.size >= MAX_SCOPE_MEMO) scopeSlots.clear();
      scopeSlots.set(scope, slot);
    }
    lastScope = scope;
    lastSlot = slot;
    return slot;
  }
  return {
    reset() {
      defaultSlot = undefined;
      scopeSlots.clear();
      lastScope = lastSlot = undefined;
    },
    scopeOnly(opts) {
      if (typeof opts !== 'object' || opts === null || parts.hasDefaults) return undefined;
      // Any other member, known (a claim, minValidity, signal) or not (a typo readGetTokenOptions
      // refuses), takes the full path. Inherited members count, as readGetTokenOptions reads them.
      for (const name in opts) if (name !== 'scope') return undefined;
      const scope = opts.scope;
      if (typeof scope !== 'string') return undefined;
      // Members for-in does not show (non-enumerable, or a class's getters) are read by name, as
      // the checked path reads them: any of them present takes that path.
      if (opts.minValidity !== undefined || opts.signal !== undefined || opts.resource !== undefined || opts.consumerOrg !== undefined || opts.pid !== undefined || opts.systemUser !== undefined || opts.consent !== undefined || opts.onBehalfOf !== undefined) return undefined;
      return scope === lastScope ? (lastSlot as S) : slotOfScope(scope);
    },
    slotOf(opts) {
      if (opts === undefined) return (defaultSlot ??= make(normalizeTokenRequest(undefined, defaults)));
      // Every claim but scope must be absent for the memo: a new claim added to TokenRequest belongs here too.
      const scopeOnly = opts.resource === undefined && opts.consumerOrg === undefined && opts.pid === undefined && opts.systemUser === undefined && opts.consent === undefined && opts.onBehalfOf === undefined;
      if (scopeOnly && opts.scope === undefined) return (defaultSlot ??= make(normalizeTokenRequest(undefined, defaults)));
      if (!scopeOnly || typeof opts.scope !== 'string' || parts.hasDefaults) return make(normalizeTokenRequest(claimsOf(opts), defaults));
      return slotOfScope(opts.scope);
    },
  };
}

/**
 * The client's slots: one per issuer, signing key and request. `generation` is the client's count
 * of issuer and key changes: it stands for both in the slot's key, so a token of the old key is
 * never found for the new one (and the key stays short).
 */
export function clientSlotMaker(parts: { fetchToken: FetchToken; payloadsOf: (scope: string) => ScopePayloads }) {
  const { fetchToken, payloadsOf } = parts;
  // One function for every slot (the cache calls it as the slot's method): a slot per customer
  // then carries no closure of its own.
  function fetchSlot(this: ClientSlot, reason: 'miss' | 'refresh', replacing?: AccessToken): Promise<AccessToken> {
    return fetchToken(this, reason, replacing);
  }
  return (generation: number, issuer: string, signer: LoadedSigner, request: NormalizedTokenRequest): ClientSlot => ({
    key: requestKeyOf(generation, request),
    scope: request.scope,
    request,
    issuer,
    signer,
    payloads: payloadsOf(request.scope),
    fetch: fetchSlot,
    entry: undefined,
  });
}

/**
 * The claims of getToken()'s options, without minValidity and signal, each read by its name: a
 * getter or an inherited member counts, as readGetTokenOptions() reads minValidity and signal.
 */
function claimsOf(opts: GetTokenOptions): TokenRequest {
  return { scope: opts.scope, resource: opts.resource, consumerOrg: opts.consumerOrg, pid: opts.pid, systemUser: opts.systemUser, consent: opts.consent, onBehalfOf: opts.onBehalfOf };
}
