// The options every cloud entry shares: the token source and what to ask Skyporten for. Checked
// when the provider or credential is created, before any network call, each error naming the field.
import { ConfigurationError } from '@portvakt/core';
import type { Clock, TokenSource } from '@portvakt/core';
import { assertTokenSource, numberOption, validateClock } from '@portvakt/core/internal';

/**
 * What every cloud entry takes: a Portvakt token source configured for Skyporten
 * (`environment: 'skyporten-test'` or `'skyporten-prod'`), the scope and the audience the
 * provider's trust names.
 *
 * @example
 * ```ts
 * const common: SkyportenTokenOptions = { client, scope: 'entur:skyporten.demo', audience: 'https://skyporten.entur.org' };
 * ```
 */
export interface SkyportenTokenOptions {
  /** A Portvakt client (or any token source) for Skyporten, e.g. `createMaskinportenClient({ environment: 'skyporten-test', ... })`. */
  client: TokenSource;
  /** The one scope the provider gave you access to; the token's `sub` becomes `<your org>;<scope>`. */
  scope: string;
  /** The audience the provider's cloud trusts (its `ClientIDList`, allowed audience or federated credential audience); sent as `resource`, it becomes the token's `aud`. */
  audience: string;
  /** Seconds the Skyporten token must still be valid when the cloud gets it; default 30. */
  minTokenValidity?: number | undefined;
  /** Clock in epoch ms for the credential cache; default `Date`. */
  clock?: Clock | undefined;
}

export const COMMON_KEYS = ['client', 'scope', 'audience', 'minTokenValidity', 'clock'] as const;

/** The checked common options. */
export interface SkyportenSettings {
  readonly source: TokenSource;
  readonly scope: string;
  readonly audience: string;
  readonly minTokenValidity: number;
  readonly clock: Clock;
}

function oneWord(value: unknown, field: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigurationError(field, `is required: ${what}.`);
  if (/\s/.test(value)) throw new ConfigurationError(field, `must be one value without whitespace: ${what}.`);
  return value;
}

/** Reads and checks the common options. */
export function readSkyportenSettings(options: SkyportenTokenOptions): SkyportenSettings {
  assertTokenSource(options.client, 'client');
  const scope = oneWord(options.scope, 'scope', "the one scope the provider gave your organisation (Skyporten's sub names exactly one), e.g. 'entur:skyporten.demo'");
  const audience = oneWord(options.audience, 'audience', "the audience the provider's cloud trusts, e.g. 'https://skyporten.entur.org'");
  if (/^https:\/\/(test\.)?sky\.maskinporten\.no\/?$/.test(audience)) {
    throw new ConfigurationError('audience', "is Skyporten's issuer; the audience is the provider's own value (its ClientIDList, allowed audience or federated credential audience), e.g. 'https://skyporten.<provider domain>'.");
  }
  const minTokenValidity = numberOption(options.minTokenValidity, 'minTokenValidity', { fallback: 30, min: 0, max: 600, unit: 'seconds' });
  return Object.freeze({ source: options.client, scope, audience, minTokenValidity, clock: validateClock(options.clock) });
}
