// The one call that picks the token source from the environment: NAIS Texas when NAIS has set
// NAIS_TOKEN_ENDPOINT (its default since 2025, docs/maskinporten-rules.md §11.1), otherwise the
// Maskinporten client from the MASKINPORTEN_* variables fromEnv() reads.
import { createMaskinportenClient } from './client/index.js';
import type { MaskinportenClient, MaskinportenClientOptions } from './client/index.js';
import { fromEnv } from './env.js';
import { ConfigurationError } from './errors.js';
import { refuseUnknownOptions } from './shared/index.js';
import { createTexasTokenSource } from './texas/index.js';
import type { TexasTokenSource, TexasTokenSourceOptions } from './texas/index.js';

/**
 * Options of {@link tokenSourceFromEnv}.
 *
 * @example
 * ```ts
 * const options: EnvTokenSourceOptions = { scope: 'nav:aareg', texas: { cache: { maxEntries: 100 } } };
 * ```
 */
export interface EnvTokenSourceOptions {
  /** The variables to read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Default scope(s) of either source; default `MASKINPORTEN_SCOPES` when it is set. */
  scope?: string | readonly string[] | undefined;
  /** More options for the Texas source (its endpoint comes from `NAIS_TOKEN_ENDPOINT`). */
  texas?: Omit<TexasTokenSourceOptions, 'endpoint' | 'scope'> | undefined;
  /** More options for the client (its id, key and environment come from `fromEnv()`). */
  client?: Omit<MaskinportenClientOptions, 'clientId' | 'key' | 'environment' | 'scope'> | undefined;
}

/**
 * The token source the environment sets up, as {@link tokenSourceFromEnv} returns it: the Texas
 * source (it has `endpoint`) or the Maskinporten client (it has `clientId`).
 *
 * @example
 * ```ts
 * const source: EnvTokenSource = tokenSourceFromEnv();
 * if ('endpoint' in source) console.log('tokens from NAIS Texas at', source.endpoint);
 * ```
 */
export type EnvTokenSource = TexasTokenSource | MaskinportenClient;

const OPTION_NAMES = ['env', 'scope', 'texas', 'client'];

function read(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Picks the token source from the environment: NAIS Texas when `NAIS_TOKEN_ENDPOINT` is set (only
 * that variable is needed), otherwise a Maskinporten client from the `MASKINPORTEN_*` variables
 * ({@link fromEnv}); a {@link ConfigurationError} naming the variable to set when neither is
 * there. Both sources fit every adapter. A NAIS app that needs what Texas cannot ask for
 * (`consumerOrg`, `pid`, certificates) creates the client itself: `createMaskinportenClient(fromEnv())`.
 *
 * @example
 * ```ts
 * import { tokenSourceFromEnv } from '@portvakt/core';
 * import { withMaskinporten } from '@portvakt/axios';
 *
 * const source = tokenSourceFromEnv({ scope: 'nav:aareg/v1/arbeidsforhold' }); // Texas on NAIS, your key elsewhere
 * withMaskinporten(api, { client: source });
 * ```
 */
export function tokenSourceFromEnv(options: EnvTokenSourceOptions = {}): EnvTokenSource {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigurationError('options', "must be an object such as { scope: 'nav:aareg' }, or left out.");
  refuseUnknownOptions(options, OPTION_NAMES, '', { owner: 'tokenSourceFromEnv()' });
  const env = options.env ?? process.env;
  if (typeof env !== 'object' || env === null) throw new ConfigurationError('env', 'must be an object of environment variables, such as process.env.');
  const scopes = read(env, 'MASKINPORTEN_SCOPES')?.split(/[\s,]+/).filter((s) => s !== '');
  const scope = options.scope ?? (scopes !== undefined && scopes.length > 0 ? [...new Set(scopes)] : undefined);
  const endpoint = read(env, 'NAIS_TOKEN_ENDPOINT');
  if (endpoint !== undefined) {
    const clientId = options.texas?.clientId ?? read(env, 'MASKINPORTEN_CLIENT_ID');
    try {
      return createTexasTokenSource({ ...options.texas, endpoint, ...(scope === undefined ? {} : { scope }), ...(clientId === undefined ? {} : { clientId }) });
    } catch (error) {
      // The endpoint came from the variable: name it.
      if (error instanceof ConfigurationError && error.field === 'endpoint') throw new ConfigurationError('NAIS_TOKEN_ENDPOINT', error.message.replace(/^Invalid option "[^"]*": /, ''));
      throw error;
    }
  }
  if (read(env, 'MASKINPORTEN_CLIENT_ID') === undefined) {
    throw new ConfigurationError(
      'NAIS_TOKEN_ENDPOINT',
      "no Maskinporten token source is configured: on NAIS, enable Maskinporten in the app's manifest (spec.maskinporten.enabled: true) and NAIS sets NAIS_TOKEN_ENDPOINT for its Texas sidecar; elsewhere set MASKINPORTEN_CLIENT_ID, MASKINPORTEN_CLIENT_JWK and MASKINPORTEN_WELL_KNOWN_URL (docs/configuration.md).",
    );
  }
  const fromVariables = fromEnv(env);
  return createMaskinportenClient({ ...options.client, ...fromVariables, ...(scope === undefined ? {} : { scope }) });
}
