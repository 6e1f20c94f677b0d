/**
 * What both verifiers (the local one on Maskinporten's key set, and the one asking NAIS Texas) do
 * around the question "is this token valid?": remember the answer for a token until it expires,
 * ask once for a token however many requests carry it at the same moment, check the times on
 * every use, and check the requirements of each call.
 *
 * Rules of the memory (docs/verifying-tokens.md, "Remembered tokens"):
 * - The token string is the key: one issued token has one accepted spelling (compact.ts), so the
 *   same string has the same signature, checked once. The table is indexed by the token's last
 *   characters (of its signature, for a JWS) and every entry keeps the whole token, compared in
 *   full on each lookup: a lookup hashes a few characters instead of the whole token (hashing a
 *   Maskinporten token costs more than the rest of a remembered token's check), and a token that
 *   only ends like a remembered one is not it. Two remembered tokens that end alike share one
 *   place, the later one kept.
 * - A token is remembered only when a call accepts it: every requirement of that call, the checks
 *   that wait included, has passed. A refusal (401 or 403, whatever the reason) never adds one.
 * - An entry of another epoch (a key set since replaced) is validated again in full.
 * - At most `maxEntries`, the least recently used out first (a token used again moves to the
 *   recent end once it has drifted into the older half, as in core's token cache, so a hot token
 *   costs one lookup); an expired entry is dropped when met.
 * - Each use checks the times again, and the requirements of the call; an entry notes the last
 *   compiled requirements its claims met, and a use with the same ones (frozen, as are the
 *   claims) skips them, unless they hold a consent, whose validity depends on the time.
 */
import type { Clock } from '@portvakt/core';
import { consentValidUntil } from './claims.js';
import type { MaskinportenTokenClaims } from './claims.js';
import { enforceRequirements, runChecks } from './enforce.js';
import { InvalidTokenError } from './errors.js';
import { combineRequirements, compileRequirements, isDeeplyFrozen, NO_REQUIREMENTS } from './requirements.js';
import type { CompiledRequirements, TokenRequirements } from './requirements.js';

// The verifiers made by this package's factories: they run a guard's per-request check
// (REQUEST_CHECK) before they remember a token. verifyRequest() runs it itself for any other.
const OWN_VERIFIERS = new WeakSet<object>();

/**
 * Marks a verifier as made by this package (its verify() runs REQUEST_CHECK), and returns it.
 * @example
 * ```ts
 * return markOwnVerifier(Object.freeze(verifier));
 * ```
 */
export function markOwnVerifier<V extends object>(verifier: V): V {
  OWN_VERIFIERS.add(verifier);
  return verifier;
}

/**
 * Whether `verifier` was made by this package.
 * @example
 * ```ts
 * if (isOwnVerifier(verifier)) await verifier.verify(token, [...requirements, { [REQUEST_CHECK]: check }]);
 * ```
 */
export function isOwnVerifier(verifier: object): boolean {
  return OWN_VERIFIERS.has(verifier);
}

/** A token found valid, and the epoch it was found valid in. */
export interface Validated {
  readonly claims: MaskinportenTokenClaims;
  readonly epoch: unknown;
}

/** What a verifier gives the flow. */
export interface FlowOptions {
  readonly clock: Clock;
  readonly toleranceMs: number;
  /** 0: nothing is remembered, and concurrent calls with one token are not joined either. */
  readonly maxEntries: number;
  /** The verifier's own requirements, compiled. */
  readonly defaults: CompiledRequirements;
  /** Whether a token not remembered is valid (its form, signature or introspection, claim types). */
  validate(token: string): Promise<Validated>;
  /** The epoch now; entries of another are validated again. */
  epoch(): unknown;
  /** Called when a remembered token is used, with the clock's time of the use. */
  onHit?(at: number): void;
}

/** The flow, as a verifier exposes it. */
export interface Flow {
  verify(token: string, requirements?: TokenRequirements | readonly TokenRequirements[]): Promise<MaskinportenTokenClaims>;
  recall(token: string, requirements?: TokenRequirements | readonly TokenRequirements[]): MaskinportenTokenClaims | undefined;
  checkRequirements(claims: MaskinportenTokenClaims, requirements: TokenRequirements | readonly TokenRequirements[]): void | Promise<void>;
  /** How many tokens are remembered. */
  readonly size: number;
  /** How many validations are in flight. */
  readonly inFlight: number;
}

/** How many of a token's last characters index the memory (see the rules above). */
const INDEX_CHARS = 24;
const indexOf = (token: string): string => (token.length <= INDEX_CHARS ? token : token.slice(-INDEX_CHARS));

interface Entry {
  /** The whole token: the index is only its end. */
  readonly token: string;
  readonly claims: MaskinportenTokenClaims;
  readonly epoch: unknown;
  /** The flow's use counter when this entry last moved to the recent end. */
  seq: number;
  /** The last compiled requirements without a consent that these claims met. */
  met: CompiledRequirements | undefined;
}

/** A requirement object, or a list of them, compiled: without and with the verifier's own. */
interface Compiled {
  readonly own: CompiledRequirements;
  readonly all: CompiledRequirements;
}

/**
 * Creates the flow of one verifier.
 * @example
 * ```ts
 * import { createFlow } from './flow.js'; // internal
 * const flow = createFlow({ clock: Date, toleranceMs: 5000, maxEntries: 1000, defaults, validate, epoch: () => 1 });
 * ```
 */
export function createFlow(options: FlowOptions): Flow {
  const { clock, toleranceMs, maxEntries, defaults, validate, epoch, onHit } = options;
  const remembered = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Validated>>();
  let seq = 0;

  // Requirement objects (and lists of them) frozen all the way down cannot change, so each is
  // compiled once: an adapter's route options. Anything else (frozen only at the top included,
  // whose nested lists can still change) is compiled on each call.
  const ownFrozen = new WeakMap<object, CompiledRequirements>();
  const compiledFrozen = new WeakMap<object, Compiled>();
  const DEFAULTS: Compiled = Object.freeze({ own: NO_REQUIREMENTS, all: defaults });
  function ownOf(requirements: unknown, prefix: string): CompiledRequirements {
    const cacheable = typeof requirements === 'object' && requirements !== null && Object.isFrozen(requirements);
    let own = cacheable ? ownFrozen.get(requirements) : undefined;
    if (own === undefined) {
      own = compileRequirements(requirements, prefix);
      if (cacheable && isDeeplyFrozen(requirements)) ownFrozen.set(requirements as object, own);
    }
    return own;
  }
  // The last frozen input and its compilation: a hot route asks with the same object every time.
  let lastInput: object | undefined;
  let lastCompiled: Compiled = DEFAULTS;
  function compiledOf(requirements: TokenRequirements | readonly TokenRequirements[] | undefined): Compiled {
    if (requirements === undefined) return DEFAULTS;
    if (requirements === lastInput) return lastCompiled;
    let frozen = typeof requirements === 'object' && requirements !== null && Object.isFrozen(requirements);
    let compiled = frozen ? compiledFrozen.get(requirements) : undefined;
    if (compiled === undefined) {
      frozen &&= isDeeplyFrozen(requirements);
      let own = NO_REQUIREMENTS;
      if (Array.isArray(requirements)) {
        for (let i = 0; i < requirements.length; i++) own = combineRequirements(own, ownOf(requirements[i], `requirements[${i}].`));
      } else {
        own = ownOf(requirements, 'requirements.');
      }
      compiled = { own, all: combineRequirements(defaults, own) };
      if (frozen) compiledFrozen.set(requirements, compiled);
    }
    if (frozen) {
      lastInput = requirements;
      lastCompiled = compiled;
    }
    return compiled;
  }

  /**
   * The time checks, made on every use of a token, remembered or not: `exp` (RFC 7519: expired at
   * `exp` itself), `nbf`, `iat` not ahead, and a consent's `validTo`, each with the tolerance.
   */
  function checkTimes(claims: MaskinportenTokenClaims, at: number): void {
    if (claims.expiresAt <= at - toleranceMs) throw new InvalidTokenError('expired', 'The token has expired (exp is past, beyond the clock tolerance).');
    const nbf = claims.payload.nbf;
    if (typeof nbf === 'number' && nbf * 1000 > at + toleranceMs) throw new InvalidTokenError('not_yet_valid', 'The token is not valid yet (nbf is ahead, beyond the clock tolerance).');
    if (claims.issuedAt > at + toleranceMs) throw new InvalidTokenError('issued_in_future', 'The token is issued in the future (iat is ahead, beyond the clock tolerance).');
    const validUntil = consentValidUntil(claims.consent);
    if (validUntil !== undefined && validUntil < at - toleranceMs) throw new InvalidTokenError('consent_expired', 'The consent in the token has expired (validTo is past).');
  }

  /** A remembered token that still holds, or undefined. */
  function lookup(token: string, at: number): Entry | undefined {
    const index = indexOf(token);
    const entry = remembered.get(index);
    if (entry === undefined || entry.token !== token) return undefined;
    // Expired, or validated in an epoch since ended: validated again in full (and refused then).
    if (entry.epoch !== epoch() || entry.claims.expiresAt <= at - toleranceMs) {
      remembered.delete(index);
      return undefined;
    }
    // Only an entry at least half the table away from the recent end moves (the newest never).
    if (entry.seq !== seq && seq - entry.seq >= remembered.size >>> 1) {
      entry.seq = ++seq;
      remembered.delete(index);
      remembered.set(index, entry);
    }
    onHit?.(at);
    return entry;
  }

  /** The times, then `required` unless these claims met exactly these requirements before. */
  function enforceOnUse(entry: Entry, required: CompiledRequirements, at: number): void {
    checkTimes(entry.claims, at);
    if (required === NO_REQUIREMENTS || entry.met === required) return;
    enforceRequirements(entry.claims, required, at, toleranceMs);
    if (required.consents.length === 0) entry.met = required;
  }

  function remember(token: string, validated: Validated): void {
    if (maxEntries === 0 || validated.epoch !== epoch()) return;
    const index = indexOf(token);
    if (remembered.size >= maxEntries && !remembered.has(index)) remembered.delete(remembered.keys().next().value as string);
    remembered.set(index, { token, claims: validated.claims, epoch: validated.epoch, seq: ++seq, met: undefined });
  }

  /** One validation per token in flight: a herd of requests with one new token makes one. */
  function validateOnce(token: string): Promise<Validated> {
    if (maxEntries === 0) return validate(token);
    let pending = inFlight.get(token);
    if (pending === undefined) {
      pending = validate(token);
      inFlight.set(token, pending);
      const settled = (): void => {
        inFlight.delete(token);
      };
      pending.then(settled, settled);
    }
    return pending;
  }

  /** The requirements of a call, after the times; a new token is remembered once all have passed. */
  function accept(token: string, validated: Validated, required: CompiledRequirements, at: number): MaskinportenTokenClaims | Promise<MaskinportenTokenClaims> {
    const { claims } = validated;
    checkTimes(claims, at);
    if (required === NO_REQUIREMENTS) {
      remember(token, validated);
      return claims;
    }
    enforceRequirements(claims, required, at, toleranceMs);
    const pending = required.checks.length === 0 ? undefined : runChecks(claims, required);
    if (pending === undefined) {
      remember(token, validated);
      return claims;
    }
    return pending.then(() => {
      remember(token, validated);
      return claims;
    });
  }

  /** The same for a remembered token: the times and the requirements of this use. */
  function acceptRemembered(entry: Entry, required: CompiledRequirements, at: number): MaskinportenTokenClaims | Promise<MaskinportenTokenClaims> {
    enforceOnUse(entry, required, at);
    const { claims } = entry;
    const pending = required.checks.length === 0 ? undefined : runChecks(claims, required);
    return pending === undefined ? claims : pending.then(() => claims);
  }

  return {
    async verify(token, requirements) {
      if (typeof token !== 'string') throw new TypeError('verify(token): the token must be a string.');
      const required = compiledOf(requirements).all;
      if (maxEntries !== 0) {
        const at = clock.now();
        const hit = lookup(token, at);
        if (hit !== undefined) return acceptRemembered(hit, required, at);
      }
      const validated = await validateOnce(token);
      return accept(token, validated, required, clock.now());
    },
    recall(token, requirements) {
      if (typeof token !== 'string') throw new TypeError('recall(token): the token must be a string.');
      if (maxEntries === 0) return undefined;
      const required = compiledOf(requirements).all;
      // Checks that may wait (an organisation policy) cannot be answered here: verify() does it.
      if (required.checks.length > 0) return undefined;
      const at = clock.now();
      const hit = lookup(token, at);
      if (hit === undefined) return undefined;
      enforceOnUse(hit, required, at);
      return hit.claims;
    },
    checkRequirements(claims, requirements) {
      if (typeof claims !== 'object' || claims === null || !Array.isArray(claims.scopes)) {
        throw new TypeError('checkRequirements(claims, requirements): claims must be what verify() returned.');
      }
      // The verifier's own requirements were checked when the claims were verified.
      const { own } = compiledOf(requirements);
      if (own === NO_REQUIREMENTS) return undefined;
      enforceRequirements(claims, own, clock.now(), toleranceMs);
      return runChecks(claims, own);
    },
    get size() {
      return remembered.size;
    },
    get inFlight() {
      return inFlight.size;
    },
  };
}
