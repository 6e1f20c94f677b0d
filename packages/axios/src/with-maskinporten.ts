// The Axios integration. A synchronous request interceptor wraps each request's adapter; the
// wrapper does the work when the request is final, after every interceptor has run:
// - it attaches the token only if the URL Axios will connect to has an allowed origin;
// - it guards redirects (redirect-guard.ts);
// - on a 401 from an allowed origin it drops that token, gets a new one and sends once more;
// - it redacts the token from the response or error before any response interceptor sees it.
// Working inside the adapter means a request interceptor can neither see the token nor change the
// URL after the origin check, and a response interceptor never sees an unredacted error.
import axios from 'axios';
import type { AxiosAdapter, AxiosInstance, AxiosRequestConfig, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { ConfigurationError } from '@portvakt/core';
import { copyTokenRequest, REDACTED, secretsOf } from '@portvakt/core/internal';
import type { AccessToken, TokenRequest } from '@portvakt/core';
import { resolveOptions } from './options.js';
import type { ResolvedOptions, WithMaskinportenOptions } from './options.js';
import { guardRedirects } from './redirect-guard.js';
import { redactConfig, redactError, redactSentResponse } from './redact.js';
import { isReplayableData } from './replay.js';
import type { MaskinportenRequestConfig } from './request-config.js';

/**
 * What `withMaskinporten` returns.
 *
 * @example
 * ```ts
 * const installed: MaskinportenInterceptor = withMaskinporten(api, { client, scope: 'nav:aareg' });
 * installed.origins; // ['https://api.nav.no']
 * installed.eject();
 * ```
 */
export interface MaskinportenInterceptor {
  /** The origins that receive tokens, normalised. */
  readonly origins: readonly string[];
  /** Removes the interceptor; requests already under way finish as they started. */
  eject(): void;
}

type AdapterSetting = AxiosRequestConfig['adapter'];

/** Instances with an installed interceptor: a second one would stack tokens and guards. */
const installedOn = new WeakSet<object>();
/**
 * On each of our adapter wrappers, the setting it wraps, so a config sent again is not wrapped
 * twice. A property of the wrapper, not a WeakMap entry: a wrapper is made per request, and a
 * WeakMap entry per request is work for the garbage collector.
 */
const WRAPPED = Symbol('portvakt.wrappedAdapter');
type Wrapper = AxiosAdapter & { [WRAPPED]?: AdapterSetting };

function claimsOf(base: TokenRequest, perRequest: MaskinportenRequestConfig | undefined): TokenRequest {
  if (perRequest === undefined) return base;
  if (typeof perRequest !== 'object' || perRequest === null) {
    throw new ConfigurationError('maskinporten', 'must be an object of claims ({ scope, resource, consumerOrg, pid, systemUser }) or { skip: true }.');
  }
  const { skip: _skip, ...claims } = perRequest;
  // An owned copy, taken when the request is sent: the 401 retry asks for these claims even if the
  // caller changes its config object (another customer's systemUser, say) meanwhile.
  return Object.freeze({ ...base, ...copyTokenRequest(claims, 'maskinporten.') });
}

/**
 * Puts Maskinporten tokens on an Axios instance's requests: `Authorization: <token_type> <token>`,
 * only when the URL Axios will connect to (`baseURL` + `url`, or an absolute `url` that overrides
 * it) has an allowed origin. By default that is the instance's `baseURL` origin, https only unless
 * loopback. A redirect to another origin never carries the token; a 401 from an allowed origin
 * drops the token, fetches one new token for all concurrent callers and sends the request once
 * more; errors and responses come back with the token replaced by `[redacted]`.
 *
 * Refuses the global default instance, and a second install on the same instance. Throws a
 * `ConfigurationError` naming the option for bad options.
 *
 * @example
 * ```ts
 * import axios from 'axios';
 * import { createMaskinportenClient } from '@portvakt/core';
 * import { withMaskinporten } from '@portvakt/axios';
 *
 * const client = createMaskinportenClient({ clientId, environment: 'test', key: { jwk } });
 * const skatt = axios.create({ baseURL: 'https://api-test.skatteetaten.no' });
 * withMaskinporten(skatt, { client, scope: 'skatteetaten:testscope' });
 * const { data } = await skatt.get('/api/some/resource');
 * ```
 */
export function withMaskinporten(instance: AxiosInstance, options: WithMaskinportenOptions): MaskinportenInterceptor {
  const settings = resolveOptions(instance, options);
  if (installedOn.has(instance)) {
    throw new ConfigurationError('instance', 'already has withMaskinporten() installed: eject() that one first, or use one instance per API.');
  }
  const send = createSender(instance, settings);
  const wrap = (setting: AdapterSetting): AxiosAdapter => {
    const adapter: Wrapper = (config) => send(config, setting);
    adapter[WRAPPED] = setting;
    return adapter;
  };
  const id = instance.interceptors.request.use(
    (config) => {
      const current = config.adapter;
      config.adapter = wrap(typeof current === 'function' && Object.hasOwn(current, WRAPPED) ? (current as Wrapper)[WRAPPED] : current);
      return config;
    },
    undefined,
    { synchronous: true },
  );
  installedOn.add(instance);
  let ejected = false;
  return {
    origins: settings.policy.origins,
    eject() {
      if (ejected) return;
      ejected = true;
      instance.interceptors.request.eject(id);
      installedOn.delete(instance);
    },
  };
}

function createSender(instance: AxiosInstance, settings: ResolvedOptions) {
  const { client, policy } = settings;
  const defaultBaseURL = instance.defaults.baseURL;
  const defaultBaseAllowed = typeof defaultBaseURL === 'string' && policy.allows(defaultBaseURL);

  // Where the request really goes, as Axios resolves it (instance.getUri: baseURL + url, or an
  // absolute url that overrides baseURL). Two fast paths skip the config merge inside getUri:
  // - a path-only url ('/x', not '//host' or '/\host') on the instance's own allowed baseURL;
  // - an absolute url that starts with an allowed origin, exactly as normalised, and then '/':
  //   the WHATWG parser ends the authority at that '/', so the origin is that one.
  const isAllowed = (config: InternalAxiosRequestConfig): boolean => {
    const url = config.url;
    if (typeof url === 'string') {
      if (defaultBaseAllowed && config.baseURL === defaultBaseURL && url.charCodeAt(0) === 47 && url.charCodeAt(1) !== 47 && url.charCodeAt(1) !== 92) {
        return true;
      }
      if (config.allowAbsoluteUrls !== false) {
        for (const origin of policy.origins) if (url.startsWith(origin) && url.charCodeAt(origin.length) === 47) return true;
      }
    }
    try {
      return policy.allows(instance.getUri(config));
    } catch {
      return false; // Axios rejects this URL itself
    }
  };

  const getToken = (config: InternalAxiosRequestConfig, request: TokenRequest): Promise<AccessToken> =>
    client.getToken(config.signal instanceof AbortSignal ? { ...request, signal: config.signal } : request);

  // Node's fetch drops Authorization on every redirect to another origin (Fetch standard); a fetch
  // of the caller's own (`env.fetch`) may not, and we cannot see its redirects.
  const assertRedirectsChecked = (config: InternalAxiosRequestConfig, adapter: AxiosAdapter): void => {
    const envFetch = (config.env as { fetch?: unknown } | undefined)?.fetch;
    if (typeof envFetch === 'function' && envFetch !== globalThis.fetch && config.maxRedirects !== 0 && adapter === axios.getAdapter('fetch', config)) {
      throw new ConfigurationError('env.fetch', 'withMaskinporten cannot check the redirects a custom fetch follows: use the global fetch, the http adapter, or maxRedirects: 0.');
    }
  };

  /**
   * Whether this request should carry a token: not skipped, bound for an allowed origin, and with
   * no Authorization of the caller's own (our marker from an earlier send of this config does not
   * count).
   */
  const wantsToken = (config: InternalAxiosRequestConfig): boolean => {
    if (config.maskinporten?.skip === true || !isAllowed(config)) return false;
    const current: unknown = config.headers.get('Authorization');
    return current === undefined || current === null || current === REDACTED || settings.overwriteAuthorization;
  };

  /** A 401 we may answer with a new token: from a hop that carried our token, with a body we can send again. */
  const shouldRetry = (error: unknown, config: InternalAxiosRequestConfig, authorization: string): boolean => {
    if (!settings.retryOnUnauthorized || !axios.isAxiosError(error) || error.response?.status !== 401) return false;
    if (config.signal?.aborted === true || !isReplayableData(config.data)) return false;
    // The http adapter's response carries the last hop's request: after a redirect that dropped the
    // token, the 401 is not about our token.
    const lastHop = error.response.request as { getHeader?: (name: string) => unknown } | undefined;
    return typeof lastHop?.getHeader !== 'function' || lastHop.getHeader('authorization') === authorization;
  };

  return async function send(config: InternalAxiosRequestConfig, setting: AdapterSetting): Promise<AxiosResponse> {
    const adapter = axios.getAdapter(setting ?? axios.defaults.adapter, config);
    let token: AccessToken | undefined;
    let request: TokenRequest | undefined;
    let authorization = '';
    try {
      if (wantsToken(config)) {
        assertRedirectsChecked(config, adapter);
        request = claimsOf(settings.request, config.maskinporten);
        token = await getToken(config, request);
        // One string for the whole request: Axios (whose sanitising leaves a clean value as it is)
        // and Node keep this very string, so the redaction below finds it by identity.
        authorization = token.authorization;
        config.headers.set('Authorization', authorization);
      }
    } finally {
      if (setting === undefined) delete config.adapter;
      else config.adapter = setting;
    }
    if (token === undefined || request === undefined) {
      try {
        return await adapter(config);
      } catch (error) {
        redactError(error, []);
        throw error;
      }
    }
    const tokens = [token];
    const restoreBeforeRedirect = guardRedirects(config, policy);
    try {
      let response: AxiosResponse;
      try {
        response = await adapter(config);
      } catch (error) {
        if (!shouldRetry(error, config, authorization)) throw error;
        // docs/maskinporten-rules.md §7: on a 401 from the API, drop the cached token and retry once. The
        // client drops it only if it is still the cached one, and concurrent callers share one
        // fetch, so 100 requests refused at once cause one new token.
        client.invalidate(token);
        const fresh = await getToken(config, request);
        tokens.push(fresh);
        authorization = fresh.authorization;
        config.headers.set('Authorization', authorization);
        response = await adapter(config);
      }
      redactSentResponse(response, authorization, tokens);
      return response;
    } catch (error) {
      const secrets = secretsOf(tokens);
      redactError(error, secrets);
      // Also when the error is not an AxiosError (a failed token refresh): the config keeps no token.
      redactConfig(config, secrets);
      throw error;
    } finally {
      restoreBeforeRedirect();
    }
  };
}
