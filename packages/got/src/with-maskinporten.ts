// The got integration, as hooks on a new instance. got runs `beforeRequest` for every request it
// sends, each redirect hop and each of its own retries included, so the decision is made there,
// hop by hop, from the URL got is about to connect to:
// - our token when the origin is allowed; when it is not, our token (if the hop before carried it)
//   is removed. got itself drops Authorization only when host or port change, not on a drop from
//   https to http; `beforeRedirect` removes ours too, before any other hook sees the next hop.
// - a caller's own Authorization is left alone;
// - `afterResponse`: a 401 from a hop that carried our token drops it from the client's cache and
//   sends the request once more with a new one (got removes the hook for that retry, so once);
// - our token is replaced by `[redacted]` in the options of responses and errors that reach the
//   caller (got prints its options, headers included, in `util.inspect` and JSON of its errors),
//   and in what got and Node keep of the request behind them (Node's header block and header
//   map, got 16's copy of the options it gave Node), with core's redaction of Node requests,
//   which the Axios adapter uses too. An error also has the links of that request to its socket
//   and agent hidden (they lead to other requests in flight, which carry the same token) and a
//   sweep for any other copy.
import type { BeforeErrorHook, BeforeRedirectHook, BeforeRequestHook, AfterResponseHook, Got, Options } from 'got' with { 'resolution-mode': 'import' };
import { ConfigurationError } from '@portvakt/core';
import { REDACTED, redactClientRequest, redactSentClientRequest, scrubHeaderObject, sweepSecrets } from '@portvakt/core/internal';
import type { TokenSecrets } from '@portvakt/core/internal';
import { resolveOptions } from './options.js';
import type { WithMaskinportenOptions } from './options.js';

export { REDACTED };
/** Marks, in got's `context`, a request this integration sent again after a 401. */
const RETRIED = '@portvakt/got:retried-after-401';
/** How many of our own header values are remembered, to tell them from a caller's. */
const REMEMBERED = 64;

const installed = new WeakSet<object>();

/**
 * Removes the secrets from what got and Node keep of a request that is over, reached from got's
 * request and response objects (`holders`): Node's request (got's `_request`, the response's
 * `req`: usually one object, both looked at as got versions differ) and, on got 16, the options it
 * gave Node (`_requestOptions`, headers included). With `sent` (our header value as sent) Node's
 * request is first redacted by compare; `hideLinks` (errors) hides its socket and agent.
 */
function redactBehind(holders: readonly unknown[], secrets: TokenSecrets, hideLinks: boolean, sent?: string): object[] {
  const nodeRequests = new Set<object>();
  for (const holder of holders) {
    if (typeof holder !== 'object' || holder === null) continue;
    const { _request, req, _requestOptions } = holder as Record<string, unknown>;
    for (const value of [_request, req]) if (typeof value === 'object' && value !== null) nodeRequests.add(value);
    if (typeof _requestOptions === 'object' && _requestOptions !== null) scrubHeaderObject((_requestOptions as { headers?: unknown }).headers, secrets);
  }
  for (const nodeRequest of nodeRequests) {
    if (sent === undefined || hideLinks || !redactSentClientRequest(nodeRequest, sent, 'authorization')) redactClientRequest(nodeRequest, secrets, hideLinks);
  }
  return [...nodeRequests];
}

/** The strings that reveal the token of one of our header values: the header, and the bare token. */
const secretsOfHeader = (header: string): TokenSecrets => [header, header.slice(header.indexOf(' ') + 1)];

/** Bodies got can send a second time: a stream is read once. */
function isReplayable(options: Options): boolean {
  const body: unknown = options.body;
  return body === undefined || typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof Blob;
}

/**
 * Returns a new got instance (`instance.extend(...)`, the instance itself is not changed) whose
 * requests carry `Authorization: <token_type> <token>` to the allowed origins only: by default the
 * origin of the instance's `prefixUrl`, or `origins`.
 *
 * - Checked on every hop: a redirect to another origin, or from https down to http, carries no
 *   token (got itself keeps Authorization on a change of scheme); a hop back to an allowed origin
 *   gets it again.
 * - A request with an `Authorization` of its own is sent as it is, with no token.
 * - A 401 from an allowed origin (promise API): the token is dropped from the client's cache, one
 *   new token is fetched for all concurrent callers, and the request is sent once more, if its body
 *   can be sent again (a string, bytes, `json` or `form`; not a stream). A second 401 rejects with
 *   got's `HTTPError` as usual. `got.stream()` gets tokens and the redirect checks, not the retry.
 * - When no token can be had, the request fails with got's `RequestError` whose `cause` is the
 *   `PortvaktError`, and nothing is sent. got's `signal` also ends the wait for a token.
 * - Responses and errors that reach you show `[redacted]` where our token was: in their options
 *   and in Node's request behind them (`response.req`, its header block and header map), also
 *   with `util.inspect(error, { showHidden: true })`.
 *
 * Throws a `ConfigurationError` naming the option for bad options.
 *
 * @example
 * ```ts
 * import got from 'got';
 * import { createMaskinportenClient, fromEnv } from '@portvakt/core';
 * import { withMaskinporten } from '@portvakt/got';
 *
 * const client = createMaskinportenClient(fromEnv());
 * const nav = withMaskinporten(got.extend({ prefixUrl: 'https://api.nav.no' }), { client, scope: 'nav:aareg' });
 * const arbeidsforhold = await nav.get('aareg/v1/arbeidsforhold').json();
 * ```
 */
export function withMaskinporten(instance: Got, options: WithMaskinportenOptions): Got {
  const { client, policy, request, retryOnUnauthorized } = resolveOptions(instance, options);
  if (installed.has(instance)) {
    throw new ConfigurationError('instance', 'already has withMaskinporten() on it: use the instance it returned, or one base instance per API.');
  }
  // Our header values, newest last, so a header we set can be told from a caller's on a later hop
  // or retry (got copies options between them, so no object identity survives).
  const ours = new Set<string>();
  const remember = (value: string) => {
    ours.delete(value);
    ours.add(value);
    if (ours.size > REMEMBERED) ours.delete(ours.values().next().value as string);
  };
  const isOurs = (value: unknown) => value === REDACTED || (typeof value === 'string' && ours.has(value));
  const fetchHeader = async (signal: AbortSignal | undefined): Promise<string> => {
    const token = await client.getToken(signal === undefined ? request : { ...request, signal });
    const header = `${token.tokenType} ${token.accessToken}`;
    remember(header);
    return header;
  };
  const redact = (target: Options | undefined) => {
    if (target !== undefined && isOurs(target.headers.authorization)) target.headers.authorization = REDACTED;
  };

  const beforeRequest: BeforeRequestHook = async (requestOptions) => {
    const current = requestOptions.headers.authorization;
    if (current !== undefined && !isOurs(current)) return;
    const url = requestOptions.url;
    if (url !== undefined && policy.allows(url)) {
      requestOptions.headers.authorization = await fetchHeader(requestOptions.signal);
    } else if (current !== undefined) {
      delete requestOptions.headers.authorization;
    }
  };

  const beforeRedirect: BeforeRedirectHook = (next) => {
    const url = next.url;
    if (isOurs(next.headers.authorization) && (url === undefined || !policy.allows(url))) delete next.headers.authorization;
  };

  const afterResponse: AfterResponseHook = async (response, retryWithMergedOptions) => {
    const sent = response.request.options;
    const header: unknown = sent.headers.authorization;
    const retried = (sent.context as Record<string, unknown>)[RETRIED] === true;
    if (response.statusCode === 401 && retryOnUnauthorized && !retried && typeof header === 'string' && ours.has(header) && isReplayable(sent)) {
      // docs/maskinporten-rules.md §7: on a 401 from the API, drop the cached token and retry once.
      // invalidate() drops it only if it is still the cached one, so concurrent 401s cause one fetch.
      client.invalidate(header.slice(header.indexOf(' ') + 1));
      const authorization = await fetchHeader(sent.signal);
      // The hooks stay for the retry, so its response is redacted too; the mark in its context
      // (got merges context into the retry's options) makes this the only retry.
      return retryWithMergedOptions({ headers: { authorization }, context: { [RETRIED]: true }, preserveHooks: true });
    }
    if (typeof header === 'string' && ours.has(header)) {
      // The request this response answers sent our header: a compare where Node keeps it, and a
      // scan of the request where it is not.
      redactBehind([response, response.request], secretsOfHeader(header), false, header);
      // The retry's options keep what was merged into them (got's `_init`), our header included.
      if (retried) sweepSecrets(sent, secretsOfHeader(header));
    }
    redact(sent);
    return response;
  };

  const beforeError: BeforeErrorHook = (error) => {
    // Read before the options are redacted: the header values that reveal a token.
    const secrets = [error.options.headers.authorization, error.response?.request.options.headers.authorization]
      .filter((value): value is string => typeof value === 'string' && value !== REDACTED && ours.has(value))
      .flatMap(secretsOfHeader);
    redact(error.options);
    redact(error.response?.request.options);
    // The links to the socket and agent are hidden even with no secret left to remove: they lead
    // to other requests in flight, whose headers carry the same cached token.
    const nodeRequests = redactBehind([error.request, error.response, error.response?.request], secrets, true);
    if (secrets.length > 0) {
      sweepSecrets(error, secrets);
      for (const nodeRequest of nodeRequests) sweepSecrets(nodeRequest, secrets);
    }
    return error;
  };

  const extended = instance.extend({ hooks: { beforeRequest: [beforeRequest], beforeRedirect: [beforeRedirect], afterResponse: [afterResponse], beforeError: [beforeError] } });
  installed.add(extended);
  return extended;
}
