// The Axios integration: a request interceptor that attaches a Maskinporten token only for allowed
// origins, a response interceptor that refreshes once on 401, and error redaction.
import axios from 'axios';
import type { AxiosError, AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import { ConfigurationError, createOriginPolicy } from '@portvakt/core';
import type { AccessToken, MaskinportenClient, OriginPolicy, TokenRequest } from '@portvakt/core';
import { scrubToken } from './redact.js';

/**
 * Per-request Maskinporten settings, on `config.maskinporten`.
 * @example
 * ```ts
 * await api.get('/x', { maskinporten: { consumerOrg: '910753614' } satisfies MaskinportenRequestConfig });
 * ```
 */
export interface MaskinportenRequestConfig extends TokenRequest {
  /** Send this request without a token. */
  skip?: boolean | undefined;
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Claims for this request's token (scope, resource, consumerOrg, pid, systemUser), or `skip`. */
    maskinporten?: MaskinportenRequestConfig | undefined;
  }
}

/**
 * Options of {@link withMaskinporten}.
 *
 * @example
 * ```ts
 * const options: WithMaskinportenOptions = { client, scope: 'nav:aareg', origins: ['https://api.nav.no'] };
 * ```
 */
export interface WithMaskinportenOptions {
  client: Pick<MaskinportenClient, 'getToken' | 'invalidate'>;
  /** The scope(s) of the token; default the client's default scope. */
  scope?: string | readonly string[] | undefined;
  /** Other claims (resource, consumerOrg, systemUser, ...). */
  request?: TokenRequest | undefined;
  /** Origins that may receive the token; default the instance's `baseURL` origin. https, or http on loopback. */
  origins?: readonly (string | URL)[] | undefined;
  /** Replace an `Authorization` header the caller set; default false (theirs is kept). */
  overwriteAuthorization?: boolean | undefined;
  /** On 401 from an allowed origin, get a new token and retry once (replayable bodies only); default true. */
  retryOnUnauthorized?: boolean | undefined;
}

/**
 * What {@link withMaskinporten} returns.
 * @example
 * ```ts
 * const installed: MaskinportenInterceptor = withMaskinporten(api, { client, scope });
 * installed.eject();
 * ```
 */
export interface MaskinportenInterceptor {
  /** The origins that receive tokens. */
  readonly origins: readonly string[];
  /** Removes the token adapter and the 401 interceptor. */
  eject(): void;
}

interface Sent {
  token: AccessToken;
  request: TokenRequest;
}

const sent = new WeakMap<object, Sent>();
const retried = new WeakSet<object>();

function isReplayable(data: unknown): boolean {
  if (data === undefined || data === null || typeof data === 'string') return true;
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer || data instanceof URLSearchParams) return true;
  if (typeof data === 'object' && typeof (data as { pipe?: unknown }).pipe !== 'function' && typeof (data as { getReader?: unknown }).getReader !== 'function') {
    return Object.getPrototypeOf(data) === Object.prototype || Array.isArray(data);
  }
  return false;
}

function redirectOrigin(options: { protocol?: string; hostname?: string; host?: string; port?: string | number }): string | undefined {
  const host = options.hostname ?? options.host;
  if (!options.protocol || !host) return undefined;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${options.protocol}//${bracketed}${options.port ? `:${options.port}` : ''}`;
}

/**
 * Puts Maskinporten tokens on an Axios instance's requests, only for allowed origins (by default
 * the instance's `baseURL` origin), never across a redirect to another origin, refreshing once on
 * 401. Refuses the global default instance. Returns `eject()`.
 *
 * @example
 * ```ts
 * import axios from 'axios';
 * import { createMaskinportenClient } from '@portvakt/core';
 * import { withMaskinporten } from '@portvakt/axios';
 *
 * const client = createMaskinportenClient({ clientId, environment: 'test', key: { jwk } });
 * const api = axios.create({ baseURL: 'https://api.skatteetaten.no' });
 * withMaskinporten(api, { client, scope: 'skatteetaten:testscope' });
 * const { data } = await api.get('/api/whatever');
 * ```
 */
export function withMaskinporten(instance: AxiosInstance, options: WithMaskinportenOptions): MaskinportenInterceptor {
  if (typeof instance !== 'function' && (typeof instance !== 'object' || instance === null) || !instance.interceptors) {
    throw new ConfigurationError('instance', 'must be an Axios instance from axios.create({ baseURL }).');
  }
  if (instance === axios || instance.defaults === axios.defaults) {
    throw new ConfigurationError('instance', 'is the global default Axios instance: create your own with axios.create({ baseURL }) so the token stays on the requests meant for it.');
  }
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object: { client, scope }.');
  const { client } = options;
  if (typeof client?.getToken !== 'function' || typeof client.invalidate !== 'function') {
    throw new ConfigurationError('client', 'must be a client from createMaskinportenClient().');
  }
  let policy: OriginPolicy;
  if (options.origins !== undefined) {
    policy = createOriginPolicy(options.origins, 'origins');
  } else {
    const baseURL = instance.defaults.baseURL;
    let origin: string | undefined;
    try {
      origin = baseURL ? new URL(baseURL).origin : undefined;
    } catch {
      origin = undefined;
    }
    if (!origin || origin === 'null') {
      throw new ConfigurationError('origins', 'is required when the instance has no absolute baseURL: list the origins that may receive the token, e.g. ["https://api.example.no"].');
    }
    policy = createOriginPolicy([origin], 'origins');
  }
  const baseRequest: TokenRequest = { ...options.request, ...(options.scope !== undefined ? { scope: options.scope } : {}) };
  const overwrite = options.overwriteAuthorization === true;
  const retryOn401 = options.retryOnUnauthorized !== false;

  // The token is attached in an adapter wrapper rather than a request interceptor: an async
  // interceptor would turn Axios' whole interceptor chain asynchronous for every request, while
  // the adapter is asynchronous anyway. A per-request `adapter` override bypasses the wrapper and
  // so sends no token (fail closed).
  const dropOnForeignRedirect = (redirectOptions: Record<string, unknown>): void => {
    const origin = redirectOrigin(redirectOptions as never);
    const headers = redirectOptions.headers as Record<string, unknown> | undefined;
    if (headers && (!origin || !policy.allows(origin))) {
      for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
    }
  };
  const defaultBaseURL = instance.defaults.baseURL;
  const defaultBaseAllowed = typeof defaultBaseURL === 'string' && canParse(defaultBaseURL) && policy.allows(defaultBaseURL);
  // Where the request really goes, as Axios resolves it (getUri: baseURL + url, or an absolute url
  // that overrides baseURL). Fast path: a path-only url ('/x', not '//host') on the instance's own
  // allowed baseURL cannot leave that origin.
  const isAllowed = (config: InternalAxiosRequestConfig): boolean => {
    const url = config.url;
    if (defaultBaseAllowed && config.baseURL === defaultBaseURL && typeof url === 'string' && url.charCodeAt(0) === 47 && url.charCodeAt(1) !== 47 && url.charCodeAt(1) !== 92) {
      return true;
    }
    try {
      return policy.allows(new URL(instance.getUri(config)));
    } catch {
      return false; // not an absolute URL: no origin to trust
    }
  };
  const previousAdapter = instance.defaults.adapter;
  const innerAdapter = axios.getAdapter(previousAdapter ?? axios.defaults.adapter, instance.defaults as never);
  const attach = async (config: InternalAxiosRequestConfig): Promise<void> => {
    const perRequest = config.maskinporten;
    if (perRequest?.skip) return;
    if (!isAllowed(config)) return;
    const previous = sent.get(config);
    const callerHeader = config.headers.get('Authorization');
    const ours = previous !== undefined && callerHeader === previous.token.authorization;
    if (callerHeader !== undefined && callerHeader !== null && !ours && !overwrite) return;
    const request: TokenRequest = perRequest ? { ...baseRequest, ...withoutSkip(perRequest) } : baseRequest;
    const token = await client.getToken(config.signal ? { ...request, signal: config.signal as AbortSignal } : request);
    config.headers.set('Authorization', token.authorization);
    sent.set(config, { token, request });
    // Defence in depth on top of Axios' own rule: on any redirect, drop the token unless the
    // target's origin is allowed. It never comes back once dropped.
    if (config.maxRedirects !== 0 && config.beforeRedirect !== dropOnForeignRedirect) {
      const userBeforeRedirect = config.beforeRedirect;
      config.beforeRedirect = userBeforeRedirect === undefined
        ? dropOnForeignRedirect
        : (redirectOptions, responseDetails, requestDetails) => {
            dropOnForeignRedirect(redirectOptions);
            userBeforeRedirect(redirectOptions, responseDetails, requestDetails);
          };
    }
  };
  instance.defaults.adapter = async function portvaktAdapter(config: InternalAxiosRequestConfig) {
    await attach(config);
    return innerAdapter(config);
  };

  const responseId = instance.interceptors.response.use(undefined, async (error: AxiosError) => {
    const config = error.config;
    const used = config ? sent.get(config) : undefined;
    if (config && used && retryOn401 && error.response?.status === 401 && !retried.has(config) && isReplayable(config.data)) {
      retried.add(config);
      // Only drops the entry if it still holds the token the API refused; concurrent 401s then
      // share one refresh through the client's single-flight.
      client.invalidate(used.token);
      config.headers.delete('Authorization');
      sent.delete(config);
      return instance.request(config);
    }
    if (used) scrubToken(error, used.token.accessToken);
    throw error;
  });

  return {
    origins: policy.origins,
    eject() {
      instance.defaults.adapter = previousAdapter;
      instance.interceptors.response.eject(responseId);
    },
  };
}

function withoutSkip(request: MaskinportenRequestConfig): TokenRequest {
  const { skip: _skip, ...rest } = request;
  return rest;
}

function canParse(url: string): boolean {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}
