// Google Cloud credentials from Skyporten tokens: a subject-token supplier for google-auth-library's
// identity-pool client, and that client ready-made. google-auth-library does not cache what a
// supplier returns, so the supplier gets a token from the token source at every exchange (which
// the token source serves from its own cache while it is fresh). The library caches the Google
// access token by its own expiry and shares one refresh between concurrent callers.
import { ConfigurationError } from '@portvakt/core';
import { refuseUnknownOptions } from '@portvakt/core/internal';
import type { IdentityPoolClient } from 'google-auth-library';
import { COMMON_KEYS, readSkyportenSettings } from '../options.js';
import type { SkyportenTokenOptions } from '../options.js';
import { sdkLoader } from '../sdk.js';
import { skyportenToken } from '../token.js';
import type { SkyportenToken } from '../token.js';
import { googleExchangeError, saysExpired } from './errors.js';

/**
 * What google-auth-library's `subject_token_supplier` takes: `getSubjectToken()` resolves to a
 * Skyporten token for the configured audience and scope.
 * @example
 * ```ts
 * const supplier: SkyportenSubjectTokenSupplier = skyportenSubjectTokenSupplier({ client, scope, audience });
 * ```
 */
export interface SkyportenSubjectTokenSupplier {
  getSubjectToken(context?: unknown): Promise<string>;
}

/**
 * Options of {@link createSkyportenGoogleClient}: the common Skyporten options plus the workload
 * identity pool provider and, usually, the service account to impersonate.
 * @example
 * ```ts
 * const options: SkyportenGoogleOptions = {
 *   client, scope: 'entur:skyporten.demo', audience: 'https://skyporten.entur.org',
 *   workloadProvider: '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/skyporten/providers/maskinporten',
 *   serviceAccount: 'skyportenstorageconsumer@skyporten-poc.iam.gserviceaccount.com',
 * };
 * ```
 */
export interface SkyportenGoogleOptions extends SkyportenTokenOptions {
  /** The provider's full name, `//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>` (the `audience` of a credentials.json); or give `credentials`. */
  workloadProvider?: string | undefined;
  /**
   * The `credentials.json` the provider made with `gcloud iam workload-identity-pools
   * create-cred-config` (`type: external_account`), instead of `workloadProvider` and
   * `serviceAccount`: its `audience`, `token_url`, `service_account_impersonation_url` and
   * `universe_domain` are used; its `credential_source` (a token file) is replaced by Skyporten.
   */
  credentials?: Record<string, unknown> | undefined;
  /** The service account to impersonate (its e-mail), as the provider's binding names it; left out, the federated token is used as it is. */
  serviceAccount?: string | undefined;
  /** Google's OAuth scopes for the access token; default `https://www.googleapis.com/auth/cloud-platform`. */
  scopes?: string | readonly string[] | undefined;
  /** STS's token URL; default Google's (`https://sts.googleapis.com/v1/token`). */
  tokenUrl?: string | undefined;
  /** The generateAccessToken URL; default Google's for `serviceAccount`. */
  impersonationUrl?: string | undefined;
  /** More `IdentityPoolClient` options (`universe_domain`, `service_account_impersonation`, `transporterOptions`, ...). */
  clientOptions?: Record<string, unknown> | undefined;
}

const SUPPLIER_KEYS = [...COMMON_KEYS];
const CLIENT_KEYS = [...COMMON_KEYS, 'workloadProvider', 'credentials', 'serviceAccount', 'scopes', 'tokenUrl', 'impersonationUrl', 'clientOptions'];
const WORKLOAD_PROVIDER = /^\/\/iam\.[a-z.]+\/projects\/\d+\/locations\/[^/]+\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/;
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const loadGoogle = sdkLoader('google', () => import('google-auth-library'));

/**
 * A subject-token supplier for google-auth-library's `IdentityPoolClient`
 * (`subject_token_supplier`), for when you build the client yourself. Each call gets a token from
 * `client`; needs no Google SDK itself.
 *
 * @example
 * ```ts
 * import { IdentityPoolClient } from 'google-auth-library';
 * import { skyportenSubjectTokenSupplier } from '@portvakt/skyporten/google';
 *
 * const auth = new IdentityPoolClient({
 *   audience: '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/skyporten/providers/maskinporten',
 *   subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
 *   subject_token_supplier: skyportenSubjectTokenSupplier({ client, scope: 'entur:skyporten.demo', audience: 'https://skyporten.entur.org' }),
 * });
 * ```
 */
export function skyportenSubjectTokenSupplier(options: SkyportenTokenOptions): SkyportenSubjectTokenSupplier {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object: { client, scope, audience }.');
  refuseUnknownOptions(options, SUPPLIER_KEYS, '');
  const settings = readSkyportenSettings(options);
  return { getSubjectToken: async () => (await skyportenToken(settings)).value };
}

function urlOption(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !URL.canParse(value)) throw new ConfigurationError(field, 'must be an absolute URL.');
  return value;
}

/** What a provider's credentials.json says, as the options it stands for; checked, naming its fields. */
function readCredentialsFile(options: SkyportenGoogleOptions): { workloadProvider?: string; serviceAccount?: string; tokenUrl?: string; impersonationUrl?: string; extra: Record<string, unknown> } {
  const file = options.credentials;
  if (file === undefined) return { extra: {} };
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigurationError('credentials', 'must be the parsed credentials.json object (type "external_account").');
  if (options.workloadProvider !== undefined) throw new ConfigurationError('credentials', 'give either credentials (the provider\'s credentials.json) or workloadProvider, not both.');
  if (file.type !== 'external_account') throw new ConfigurationError('credentials.type', 'must be "external_account": the file gcloud iam workload-identity-pools create-cred-config writes.');
  const text = (name: string): string | undefined => {
    const value = file[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw new ConfigurationError(`credentials.${name}`, 'must be a non-empty string.');
    return value;
  };
  const impersonationUrl = urlOption(text('service_account_impersonation_url'), 'credentials.service_account_impersonation_url');
  const serviceAccount = impersonationUrl === undefined ? undefined : /serviceAccounts\/([^/:]+):generateAccessToken$/.exec(impersonationUrl)?.[1];
  const universe = text('universe_domain');
  const audience = text('audience');
  const tokenUrl = urlOption(text('token_url'), 'credentials.token_url');
  return {
    ...(audience === undefined ? {} : { workloadProvider: audience }),
    ...(serviceAccount === undefined ? {} : { serviceAccount: decodeURIComponent(serviceAccount) }),
    ...(tokenUrl === undefined ? {} : { tokenUrl }),
    ...(impersonationUrl === undefined ? {} : { impersonationUrl }),
    extra: universe === undefined ? {} : { universe_domain: universe },
  };
}

/**
 * Creates google-auth-library's `IdentityPoolClient` for Skyporten: it exchanges a Skyporten token
 * at Google's STS for the workload identity pool provider, then impersonates `serviceAccount`.
 * Give it to any `@google-cloud/*` client as `authClient`. Google access tokens are cached by
 * their expiry by the library, which shares one refresh between concurrent callers; each refresh
 * gets a token from `client`. A refusal is a {@link SkyportenExchangeError} naming Google's code
 * and the fix; an expired token is replaced once. Needs `google-auth-library` (an optional peer
 * dependency): without it, this rejects with `SkyportenSdkMissingError`.
 *
 * @example
 * ```ts
 * import { Storage } from '@google-cloud/storage';
 * import { createMaskinportenClient } from '@portvakt/core';
 * import { createSkyportenGoogleClient } from '@portvakt/skyporten/google';
 *
 * const client = createMaskinportenClient({ clientId, environment: 'skyporten-test', key: { jwk } });
 * const authClient = await createSkyportenGoogleClient({
 *   client,
 *   scope: 'entur:skyporten.demo',
 *   audience: 'https://skyporten.entur.org',
 *   workloadProvider: '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/skyporten/providers/maskinporten',
 *   serviceAccount: 'skyportenstorageconsumer@skyporten-poc.iam.gserviceaccount.com',
 * });
 * const storage = new Storage({ authClient, projectId: 'skyporten-poc' });
 *
 * // Or from the credentials.json the provider gave you (its credential_source is not used):
 * const fromFile = await createSkyportenGoogleClient({ client, scope: 'entur:skyporten.demo', audience: 'https://skyporten.entur.org', credentials: JSON.parse(readFileSync('credentials.json', 'utf8')) });
 * ```
 */
export async function createSkyportenGoogleClient(options: SkyportenGoogleOptions): Promise<IdentityPoolClient> {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object: { client, scope, audience, workloadProvider, serviceAccount }.');
  refuseUnknownOptions(options, CLIENT_KEYS, '');
  const settings = readSkyportenSettings(options);
  const fromFile = readCredentialsFile(options);
  const workloadProvider = options.workloadProvider ?? fromFile.workloadProvider;
  const serviceAccount = options.serviceAccount ?? fromFile.serviceAccount;
  const clientOptions = options.clientOptions;
  if (typeof workloadProvider !== 'string' || !WORKLOAD_PROVIDER.test(workloadProvider)) {
    throw new ConfigurationError('workloadProvider', 'must be the provider\'s full name: //iam.googleapis.com/projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider> (the "audience" of the credentials.json the provider gave you).');
  }
  if (serviceAccount !== undefined && (typeof serviceAccount !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(serviceAccount))) throw new ConfigurationError('serviceAccount', 'must be a service account e-mail, e.g. "reader@project.iam.gserviceaccount.com".');
  const tokenUrl = urlOption(options.tokenUrl, 'tokenUrl') ?? fromFile.tokenUrl;
  const impersonationUrl = urlOption(options.impersonationUrl, 'impersonationUrl') ?? fromFile.impersonationUrl ?? (serviceAccount === undefined ? undefined : `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${serviceAccount}:generateAccessToken`);
  if (clientOptions !== undefined && (typeof clientOptions !== 'object' || clientOptions === null)) throw new ConfigurationError('clientOptions', 'must be an object of IdentityPoolClient options.');
  const scopes = options.scopes === undefined ? undefined : typeof options.scopes === 'string' ? [options.scopes] : [...options.scopes];
  const asked = { audience: settings.audience, scope: settings.scope, workloadProvider, serviceAccount };

  const sdk = await loadGoogle();
  // The token handed to the library last, so an "expired" answer can drop it from the token source.
  let last: SkyportenToken | undefined;
  const supplier = {
    getSubjectToken: async () => {
      last = await skyportenToken(settings);
      return last.value;
    },
  };
  const auth = new sdk.IdentityPoolClient({
    ...fromFile.extra,
    ...clientOptions,
    type: 'external_account',
    audience: workloadProvider,
    subject_token_type: JWT_TOKEN_TYPE,
    subject_token_supplier: supplier,
    ...(tokenUrl === undefined ? {} : { token_url: tokenUrl }),
    ...(impersonationUrl === undefined ? {} : { service_account_impersonation_url: impersonationUrl }),
    ...(scopes === undefined ? {} : { scopes }),
  } as ConstructorParameters<typeof sdk.IdentityPoolClient>[0]);
  // Every path to a Google token (getAccessToken, getRequestHeaders, request) refreshes through
  // this method, and the library shares one refresh between concurrent callers; wrapping it turns
  // Google's refusals into typed errors and replaces an expired token once.
  const refreshable = auth as unknown as { refreshAccessTokenAsync(): Promise<unknown> };
  const refresh = refreshable.refreshAccessTokenAsync.bind(auth);
  refreshable.refreshAccessTokenAsync = async () => {
    try {
      try {
        return await refresh();
      } catch (error) {
        if (!saysExpired(error)) throw error;
        last?.invalidate();
        return await refresh();
      }
    } catch (error) {
      throw googleExchangeError(error, last, asked) ?? error;
    }
  };
  return auth;
}
