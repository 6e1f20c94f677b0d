// A client of Digdir's self-service API for a Maskinporten client's key set
// (docs/maskinporten-rules.md §1.4, §4.2, §4.3): GET /clients/{id}/jwks reads it, POST replaces the
// whole set. The caller is an
// admin client, a Maskinporten client of its own with the scope idporten:dcr.modify.
import type { TokenSource } from '@portvakt/core';
import { CommandError } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import { serverText } from '../mask.js';

/**
 * The self-service API's base URLs (docs/maskinporten-rules.md §1.4).
 * @example
 * ```ts
 * createSelfServiceClient({ admin, baseUrl: SELF_SERVICE_URLS.test });
 * ```
 */
export const SELF_SERVICE_URLS = Object.freeze({
  test: 'https://api.test.samarbeid.digdir.no',
  prod: 'https://api.samarbeid.digdir.no',
});

/** The scope that lets an admin client change a client's keys (docs/maskinporten-rules.md §4.3). */
export const SELF_SERVICE_SCOPE = 'idporten:dcr.modify';
/** Digdir keeps at most this many keys on a client (docs/maskinporten-rules.md §4.2). */
export const MAX_CLIENT_KEYS = 5;

/** A key in a client's set as the API returns it: at least `kid`; other members are kept as they are. */
export type RegisteredJwk = Record<string, unknown> & { kid?: string };

export interface SelfServiceClientOptions {
  /** The admin client (or any token source) whose tokens carry idporten:dcr.modify. */
  admin: Pick<TokenSource, 'getToken'>;
  /** `SELF_SERVICE_URLS.test`, `.prod`, or another base URL (https, or loopback http for tests). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Timeout of one request, ms. Default 15 000. */
  timeoutMs?: number;
}

export interface SelfServiceClient {
  readonly baseUrl: string;
  /** The client's registered keys. */
  readKeys(clientId: string): Promise<RegisteredJwk[]>;
  /** Replaces the client's whole key set (there are no per-key operations). */
  writeKeys(clientId: string, keys: RegisteredJwk[]): Promise<RegisteredJwk[]>;
}

function checkBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CommandError(`The self-service URL ${JSON.stringify(value.slice(0, 80))} is not a URL.`, { exitCode: EXIT_CODES.usage, fix: 'give test, prod or an https URL.' });
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  // The admin token goes there: https only, or plain http on this machine (the simulator).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new CommandError(`The self-service URL must use https (http only on loopback), not ${url.protocol}.`, { exitCode: EXIT_CODES.usage, fix: 'give test, prod or an https URL.' });
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * Creates a self-service client for key sets.
 *
 * @example
 * ```ts
 * import { createMaskinportenClient, fromEnv } from '@portvakt/core';
 * import { createSelfServiceClient, SELF_SERVICE_URLS } from '@portvakt/cli';
 * const admin = createMaskinportenClient({ ...fromEnv(adminEnv), scope: 'idporten:dcr.modify' });
 * const selfService = createSelfServiceClient({ admin, baseUrl: SELF_SERVICE_URLS.test });
 * const keys = await selfService.readKeys('my-client-id');
 * ```
 */
export function createSelfServiceClient(options: SelfServiceClientOptions): SelfServiceClient {
  const baseUrl = checkBaseUrl(options.baseUrl);
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;

  async function call(method: 'GET' | 'POST', clientId: string, body?: unknown): Promise<RegisteredJwk[]> {
    const token = await options.admin.getToken({ scope: SELF_SERVICE_SCOPE });
    const url = `${baseUrl}/clients/${encodeURIComponent(clientId)}/jwks`;
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { authorization: `${token.tokenType} ${token.accessToken}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const reason = (error as { name?: string }).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : 'the connection failed';
      throw new CommandError(`The self-service API at ${baseUrl} could not be reached (${reason}).`, { exitCode: EXIT_CODES.unavailable, fix: 'check the self-service URL and the network path.' });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok) {
      const keys = (json as { keys?: unknown } | undefined)?.keys;
      if (!Array.isArray(keys)) throw new CommandError(`The self-service API answered ${method} ${url} without a JWK set.`, { exitCode: EXIT_CODES.unavailable });
      return keys as RegisteredJwk[];
    }
    // The API's words are shown, masked: it may echo the bearer token it was sent (or another), a
    // key, or escapes that would drive the terminal.
    const described = (json as { error_description?: unknown } | undefined)?.error_description;
    const detail = typeof described === 'string' ? ` The API said: ${serverText(described, [token.accessToken])}` : '';
    if (res.status === 401 || res.status === 403) {
      throw new CommandError(`The self-service API refused the admin client (HTTP ${res.status}).${detail}`, {
        fix: `the admin client needs a Maskinporten token with ${SELF_SERVICE_SCOPE} for the organisation that owns the client (Digdir grants the scope: servicedesk@digdir.no).`,
      });
    }
    if (res.status === 404) {
      throw new CommandError(`The self-service API knows no client "${clientId}" for the admin client's organisation (HTTP 404).`, { fix: 'check --client-id and that the admin client belongs to the organisation that owns it.' });
    }
    if (res.status >= 500) throw new CommandError(`The self-service API failed (HTTP ${res.status}).`, { exitCode: EXIT_CODES.unavailable, fix: 'try again later; see Digdir\'s status page.' });
    throw new CommandError(`The self-service API refused the key set (HTTP ${res.status}).${detail}`, { fix: `a client may hold at most ${MAX_CLIENT_KEYS} RSA keys (RS256, 2048 bits or more), each with a unique kid.` });
  }

  return {
    baseUrl,
    readKeys: (clientId) => call('GET', clientId),
    writeKeys: (clientId, keys) => call('POST', clientId, { keys }),
  };
}
