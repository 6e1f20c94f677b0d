// Azure credentials from Skyporten tokens: a TokenCredential for every @azure/* client, built on
// @azure/identity's ClientAssertionCredential with the Skyporten token as the client assertion of
// a managed identity's federated credential (docs/maskinporten-rules.md §11.4). Entra tokens are
// cached per set of scopes by their own expiry, and concurrent callers share one exchange.
import { ConfigurationError } from '@portvakt/core';
import { inspectSymbol, refuseUnknownOptions } from '@portvakt/core/internal';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { CredentialCache } from '../credential-cache.js';
import { COMMON_KEYS, readSkyportenSettings } from '../options.js';
import type { SkyportenTokenOptions } from '../options.js';
import { sdkLoader } from '../sdk.js';
import { skyportenToken } from '../token.js';
import type { SkyportenToken } from '../token.js';
import { azureExchangeError, saysExpired } from './errors.js';

/**
 * Options of {@link createSkyportenAzureCredential}: the common Skyporten options plus the
 * managed identity whose federated credential trusts Skyporten.
 * @example
 * ```ts
 * const options: SkyportenAzureOptions = {
 *   client, scope: 'entur:skyporten.demo', audience: 'https://skyporten.entur.org',
 *   tenantId: '33333333-d105-4b01-aa7c-333333333333', clientId: '44444444-cf66-4934-b34c-444444444444',
 * };
 * ```
 */
export interface SkyportenAzureOptions extends SkyportenTokenOptions {
  /** The provider's Entra tenant (directory) id. */
  tenantId: string;
  /** The managed identity's client id (not its principal or object id). */
  clientId: string;
  /** More `ClientAssertionCredential` options (`authorityHost`, `disableInstanceDiscovery`, proxy and TLS settings, ...). */
  credentialOptions?: Record<string, unknown> | undefined;
}

/**
 * A `TokenCredential` (from `@azure/core-auth`) for any Azure SDK client, plus how many exchanges
 * it made.
 * @example
 * ```ts
 * const credential: SkyportenAzureCredential = createSkyportenAzureCredential(options);
 * new BlobServiceClient('https://account.blob.core.windows.net', credential);
 * ```
 */
export interface SkyportenAzureCredential extends TokenCredential {
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>;
  /** Token requests to Entra started so far, all scopes together. */
  readonly exchanges: number;
}

const OPTION_KEYS = [...COMMON_KEYS, 'tenantId', 'clientId', 'credentialOptions'];
const TENANT = /^[0-9a-zA-Z-.]+$/;
/** MSAL serves a cached Entra token until 5 minutes before its expiry; refreshing just inside that reaches Entra. */
const MSAL_RENEWAL_OFFSET_MS = 300_000;
/** Sets of scopes kept at once; more than this and the oldest go. */
const MAX_SCOPE_SETS = 32;

const loadIdentity = sdkLoader('azure', () => import('@azure/identity'));

/**
 * Creates a `TokenCredential` for Skyporten: it signs in to Entra ID as the provider's managed
 * identity with a Skyporten token as the client assertion (`@azure/identity`'s
 * `ClientAssertionCredential`), getting the token from `client` at each exchange. Entra tokens
 * are cached per set of scopes by their own expiry; concurrent callers share one exchange. A
 * refusal is a {@link SkyportenExchangeError} naming the `AADSTS` code and the fix; an expired
 * assertion (`AADSTS700024`) is replaced once. Needs `@azure/identity` (an optional peer
 * dependency): without it, the first `getToken()` fails with `SkyportenSdkMissingError`.
 *
 * @example
 * ```ts
 * import { ShareServiceClient } from '@azure/storage-file-share';
 * import { createMaskinportenClient } from '@portvakt/core';
 * import { createSkyportenAzureCredential } from '@portvakt/skyporten/azure';
 *
 * const client = createMaskinportenClient({ clientId, environment: 'skyporten-prod', key: { jwk } });
 * const credential = createSkyportenAzureCredential({
 *   client,
 *   scope: 'entur:skyporten.demo',
 *   audience: 'https://skyporten.entur.org',
 *   tenantId: '33333333-d105-4b01-aa7c-333333333333',
 *   clientId: '44444444-cf66-4934-b34c-444444444444',
 * });
 * const shares = new ShareServiceClient('https://skyportenstorage.file.core.windows.net', credential, { fileRequestIntent: 'backup' });
 * ```
 */
export function createSkyportenAzureCredential(options: SkyportenAzureOptions): SkyportenAzureCredential {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object: { client, scope, audience, tenantId, clientId }.');
  refuseUnknownOptions(options, OPTION_KEYS, '');
  const settings = readSkyportenSettings(options);
  const { tenantId, clientId, credentialOptions } = options;
  if (typeof tenantId !== 'string' || !TENANT.test(tenantId)) throw new ConfigurationError('tenantId', 'must be the provider\'s Entra tenant id, e.g. "33333333-d105-4b01-aa7c-333333333333".');
  if (typeof clientId !== 'string' || clientId.trim() === '') throw new ConfigurationError('clientId', 'must be the managed identity\'s client id (not its principal or object id).');
  if (credentialOptions !== undefined && (typeof credentialOptions !== 'object' || credentialOptions === null)) throw new ConfigurationError('credentialOptions', 'must be an object of ClientAssertionCredential options.');
  const asked = { audience: settings.audience, scope: settings.scope, tenantId, clientId };

  // The token handed to Entra last, for the fix of a refusal and to drop it when it expired.
  let last: SkyportenToken | undefined;
  const getAssertion = async (): Promise<string> => {
    last = await skyportenToken(settings);
    return last.value;
  };
  let inner: Promise<TokenCredential> | undefined;
  const credential = () => {
    inner ??= loadIdentity().then((sdk) => new sdk.ClientAssertionCredential(tenantId, clientId, getAssertion, { ...credentialOptions }));
    inner.catch(() => {
      inner = undefined;
    });
    return inner;
  };

  let exchanges = 0;
  const caches = new Map<string, CredentialCache<AccessToken>>();
  const cacheFor = (scopes: readonly string[], getTokenOptions: GetTokenOptions | undefined): CredentialCache<AccessToken> => {
    const key = [...new Set(scopes)].sort().join(' ');
    let cache = caches.get(key);
    if (cache === undefined) {
      const tenant = getTokenOptions?.tenantId === undefined ? {} : { tenantId: getTokenOptions.tenantId };
      const exchange = async () => {
        exchanges += 1;
        const assertion = await credential();
        const sentAt = settings.clock.now();
        const once = () => assertion.getToken([...scopes], tenant);
        let got: AccessToken | null;
        try {
          try {
            got = await once();
          } catch (error) {
            if (!saysExpired(error)) throw error;
            // Entra saw the token outside its lifetime: drop it and sign in once more with a new one.
            last?.invalidate();
            got = await once();
          }
        } catch (error) {
          throw azureExchangeError(error, last, asked) ?? error;
        }
        if (got === null) throw new Error('ClientAssertionCredential returned no token.');
        return { value: got, expiresAtMs: got.expiresOnTimestamp, issuedAtMs: sentAt };
      };
      cache = new CredentialCache<AccessToken>(exchange, settings.clock, (issued, expires) => Math.min(MSAL_RENEWAL_OFFSET_MS - 5_000, (expires - issued) / 2));
      if (caches.size >= MAX_SCOPE_SETS) caches.delete(caches.keys().next().value as string);
      caches.set(key, cache);
    }
    return cache;
  };

  const answers = new WeakMap<object, AccessToken>();
  const source: SkyportenAzureCredential = {
    async getToken(scopes, getTokenOptions) {
      const list = typeof scopes === 'string' ? [scopes] : [...scopes];
      if (list.length === 0 || list.some((s) => typeof s !== 'string' || s === '')) throw new ConfigurationError('scopes', 'must name at least one scope, e.g. "https://storage.azure.com/.default".');
      const entry = await cacheFor(list, getTokenOptions).get(getTokenOptions?.abortSignal as AbortSignal | undefined);
      // One frozen answer per Entra token: a hit allocates nothing, and a caller cannot change
      // what the next caller gets. refreshAfterTimestamp tells @azure/core clients when to ask again.
      let answer = answers.get(entry);
      if (answer === undefined) {
        answer = Object.freeze({ ...entry.value, refreshAfterTimestamp: entry.refreshAt });
        answers.set(entry, answer);
      }
      return answer;
    },
    get exchanges() {
      return exchanges;
    },
  };
  Object.defineProperties(source, {
    [inspectSymbol]: { value: () => `SkyportenAzureCredential { tenantId: '${tenantId}', clientId: '${clientId}', audience: '${settings.audience}', scope: '${settings.scope}' }` },
    toJSON: { value: () => ({ tenantId, clientId, audience: settings.audience, scope: settings.scope }) },
  });
  return source;
}
