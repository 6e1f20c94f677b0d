// The token object handed to callers. The token value lives in a private field, so it never shows
// in JSON.stringify, util.inspect, String() or a spread: only `accessToken`/`authorization` give it.
import { inspectSymbol } from '../shared/index.js';
import type { BearerToken } from '../types.js';

/**
 * A Maskinporten access token. Printing, logging or serialising it shows no secret.
 *
 * @example
 * ```ts
 * const token = await client.getToken();
 * await fetch(url, { headers: { authorization: token.authorization } });
 * console.log(`${token}`); // [AccessToken Bearer scope="..." expires=...]
 * ```
 */
export class AccessToken implements BearerToken {
  readonly #value: string;
  /** `token_type` from Maskinporten (`Bearer`). */
  readonly tokenType: string;
  /** Granted scopes as Maskinporten returned them (or the requested ones). */
  readonly scope: string;
  readonly #expiresAt: number;
  readonly #issuedAt: number;

  constructor(value: string, details: { tokenType: string; scope: string; expiresAt: number; issuedAt: number }) {
    this.#value = value;
    this.tokenType = details.tokenType;
    this.scope = details.scope;
    this.#expiresAt = details.expiresAt;
    this.#issuedAt = details.issuedAt;
  }

  /** The bearer credential. Put it in an `Authorization` header; never log it. */
  get accessToken(): string {
    return this.#value;
  }

  /** `<token_type> <access_token>`, ready for an `Authorization` header. */
  get authorization(): string {
    return `${this.tokenType} ${this.#value}`;
  }

  get expiresAt(): Date {
    return new Date(this.#expiresAt);
  }

  /** When the request that got this token was sent (the anchor of its lifetime). */
  get issuedAt(): Date {
    return new Date(this.#issuedAt);
  }

  /** Epoch ms of expiry (no allocation, for hot paths). */
  get expiresAtMs(): number {
    return this.#expiresAt;
  }

  get issuedAtMs(): number {
    return this.#issuedAt;
  }

  /** Seconds left at `nowMs` (default now). */
  expiresIn(nowMs: number = Date.now()): number {
    return Math.max(0, Math.floor((this.#expiresAt - nowMs) / 1000));
  }

  toString(): string {
    return `[AccessToken ${this.tokenType} scope="${this.scope}" expires=${new Date(this.#expiresAt).toISOString()}]`;
  }

  toJSON(): { tokenType: string; scope: string; expiresAt: string; accessToken: '[redacted]' } {
    return { tokenType: this.tokenType, scope: this.scope, expiresAt: new Date(this.#expiresAt).toISOString(), accessToken: '[redacted]' };
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
