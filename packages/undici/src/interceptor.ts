// The undici interceptor. Everything undici sends goes through a dispatcher's dispatch(options,
// handler), one call per hop: undici's request(), its fetch() and Node's own fetch() (which follow
// redirects hop by hop themselves), and the redirect interceptor (which dispatches each next hop to
// the dispatcher inside it). So the decision is made per dispatch:
// - a token only when the dispatch's origin is allowed and the caller set no Authorization of its
//   own; the caller's headers object is never changed, so nothing carries the token further;
// - on a 401 from that origin, the token is dropped from the client's cache, a new one is fetched
//   (one for all concurrent callers) and the request is sent once more, if its body can be sent
//   again; the 401 of the first attempt never reaches the caller's handler.
import type { Dispatcher } from 'undici';
import type { TokenSource } from '@portvakt/core';
import { hasAuthorization, withAuthorization } from './headers.js';
import { resolveInterceptorOptions } from './options.js';
import type { MaskinportenInterceptorOptions, ResolvedInterceptorOptions } from './options.js';

type Dispatch = Dispatcher.Dispatch;
type DispatchOptions = Dispatcher.DispatchOptions;
type DispatchHandler = Dispatcher.DispatchHandler;
type DispatchController = Dispatcher.DispatchController;
type Token = Awaited<ReturnType<TokenSource['getToken']>>;

/** Bodies undici can send a second time: a stream or an iterator is read once. */
function isReplayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer || body instanceof Blob;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return value instanceof AbortSignal;
}

function originOf(value: unknown): string | undefined {
  if (value instanceof URL) return value.origin;
  if (typeof value !== 'string') return undefined;
  return URL.parse(value)?.origin;
}

/**
 * The controller the caller's handler holds for the whole call, first attempt and retry: it
 * passes abort, pause and resume on to the attempt under way, and remembers them in between.
 */
class CallController implements DispatchController {
  #current: DispatchController | undefined;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  /** Ends a wait for a token when the caller aborts. */
  readonly tokenWait = new AbortController();

  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }
  // undici's own handlers read the headers as received (names in their case, repeats kept) here.
  get rawHeaders(): NonNullable<DispatchController['rawHeaders']> | null {
    return this.#current?.rawHeaders ?? null;
  }
  get rawTrailers(): NonNullable<DispatchController['rawTrailers']> | null {
    return this.#current?.rawTrailers ?? null;
  }

  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.tokenWait.abort(reason);
    this.#current?.abort(reason);
  }
  pause(): void {
    this.#paused = true;
    this.#current?.pause();
  }
  resume(): void {
    this.#paused = false;
    this.#current?.resume();
  }

  /** The controller of the attempt now under way. */
  follow(controller: DispatchController): void {
    this.#current = controller;
    if (this.#aborted) controller.abort(this.#reason ?? new Error('aborted'));
    else if (this.#paused) controller.pause();
  }
}

/** One call with a token: the caller's handler sees one request, whatever happens underneath. */
class AuthorizedCall implements DispatchHandler {
  readonly #controller = new CallController();
  readonly #dispatch: Dispatch;
  readonly #options: DispatchOptions;
  readonly #handler: DispatchHandler;
  readonly #settings: ResolvedInterceptorOptions;
  readonly #origin: string;
  #started = false;
  #retried = false;
  #discarding = false;
  #history: readonly URL[] | undefined;
  #token: Token | undefined;
  #unlisten: (() => void) | undefined;

  constructor(dispatch: Dispatch, options: DispatchOptions, handler: DispatchHandler, settings: ResolvedInterceptorOptions, origin: string) {
    this.#dispatch = dispatch;
    this.#options = options;
    this.#handler = handler;
    this.#settings = settings;
    this.#origin = origin;
    const signal = (options as { signal?: unknown }).signal;
    // undici's request() passes the caller's signal along: a wait for a token ends with it.
    if (isAbortSignal(signal)) {
      const onAbort = () => this.#controller.abort(signal.reason as Error);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.#unlisten = () => signal.removeEventListener('abort', onAbort);
      }
    }
  }

  /** The call is over: a long-lived signal keeps no listener of ours. */
  #finish(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
  }

  /** Gets a token and sends the request with it. */
  send(): void {
    const { client } = this.#settings;
    client.getToken({ ...this.#settings.request, signal: this.#controller.tokenWait.signal }).then(
      (token) => {
        if (this.#controller.aborted) return this.#fail(this.#controller.reason ?? new Error('aborted'));
        this.#token = token;
        try {
          this.#dispatch({ ...this.#options, headers: withAuthorization(this.#options.headers, `${token.tokenType} ${token.accessToken}`) }, this);
        } catch (error) {
          this.#fail(error as Error);
        }
      },
      (error: unknown) => this.#fail(this.#controller.aborted ? (this.#controller.reason ?? (error as Error)) : (error as Error)),
    );
  }

  #fail(error: Error): void {
    this.#finish();
    try {
      this.#handler.onResponseError?.(this.#controller, error);
    } catch {
      // A handler without an error callback rethrows; there is no caller left to tell.
    }
  }

  /**
   * Whether a 401 is about our token: it came from the origin the token was sent to. Behind a
   * redirect interceptor inside this one, every hop is in `history`, and undici drops our header at
   * the first change of origin.
   */
  #mayRetry(): boolean {
    if (!this.#settings.retryOnUnauthorized || this.#retried || this.#controller.aborted || !isReplayable(this.#options.body)) return false;
    return this.#history === undefined || this.#history.every((url) => url.origin === this.#origin);
  }

  onRequestStart(controller: DispatchController, context: unknown): void {
    this.#controller.follow(controller);
    const history = (context as { history?: unknown } | undefined)?.history;
    this.#history = Array.isArray(history) ? (history as URL[]) : undefined;
    if (this.#started) return;
    this.#started = true;
    this.#handler.onRequestStart?.(this.#controller, context);
  }

  onRequestUpgrade(_controller: DispatchController, statusCode: number, headers: Parameters<NonNullable<DispatchHandler['onRequestUpgrade']>>[2], socket: Parameters<NonNullable<DispatchHandler['onRequestUpgrade']>>[3]): void {
    this.#handler.onRequestUpgrade?.(this.#controller, statusCode, headers, socket);
  }

  onResponseStart(_controller: DispatchController, statusCode: number, headers: Parameters<NonNullable<DispatchHandler['onResponseStart']>>[2], statusMessage?: string): void {
    if (statusCode === 401 && this.#mayRetry()) {
      this.#discarding = true;
      return;
    }
    this.#handler.onResponseStart?.(this.#controller, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: DispatchController, chunk: Buffer): void {
    if (!this.#discarding) this.#handler.onResponseData?.(this.#controller, chunk);
  }

  onResponseEnd(_controller: DispatchController, trailers: Parameters<NonNullable<DispatchHandler['onResponseEnd']>>[1]): void {
    if (!this.#discarding) {
      this.#finish();
      this.#handler.onResponseEnd?.(this.#controller, trailers);
      return;
    }
    // docs/maskinporten-rules.md §7: on a 401 from the API, drop the cached token and retry once.
    // invalidate() drops it only if it is still the cached one, so concurrent 401s cause one fetch.
    this.#discarding = false;
    this.#retried = true;
    if (this.#token !== undefined) this.#settings.client.invalidate(this.#token);
    this.send();
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    this.#finish();
    this.#handler.onResponseError?.(this.#controller, error);
  }
}

/**
 * An undici interceptor (for `dispatcher.compose()`) that puts `Authorization: <token_type> <token>`
 * on requests to the allowed origins, and on nothing else.
 *
 * - Decided per dispatch, which is per hop: undici's `fetch()` and Node's `fetch()` follow
 *   redirects themselves and dispatch every hop, so each hop gets the token only if its origin is
 *   allowed. With undici's `interceptors.redirect()`, compose it after this one
 *   (`compose(maskinporten(...), interceptors.redirect(...))`) so every hop comes through here; in
 *   the other order undici drops the header at the first change of origin and it does not come back.
 * - A request whose `Authorization` the caller set is sent as it is, without a token.
 * - On a 401 from an allowed origin: the token is dropped from the client's cache, a new one is
 *   fetched (one for all concurrent callers) and the request is sent once more, if its body can be
 *   sent again (string, bytes, Blob; not a stream or an iterator, which is what `fetch()` sends
 *   for a body). A second 401 is returned as it is.
 * - Needs the dispatch's `origin`, which undici's `request()`, `fetch()` and an `Agent` give; a
 *   `Client` or `Pool` used without `origin` in the request options gets no token.
 * - A failure to get a token fails the request with that error (a `PortvaktError`); an abort
 *   signal given to undici's `request()` also ends the wait for a token.
 *
 * Throws a `ConfigurationError` naming the option for bad options.
 *
 * @example
 * ```ts
 * import { Agent, fetch, interceptors, request } from 'undici';
 * import { createMaskinportenClient, fromEnv } from '@portvakt/core';
 * import { maskinporten } from '@portvakt/undici';
 *
 * const client = createMaskinportenClient(fromEnv());
 * const nav = new Agent().compose(
 *   maskinporten({ client, scope: 'nav:aareg', origins: ['https://api.nav.no'] }),
 *   interceptors.redirect({ maxRedirections: 3 }),
 * );
 * const { statusCode, body } = await request('https://api.nav.no/aareg/v1/arbeidsforhold', { dispatcher: nav });
 * const response = await fetch('https://api.nav.no/aareg/v1/arbeidsforhold', { dispatcher: nav }); // undici's fetch, or Node's
 * ```
 */
export function maskinporten(options: MaskinportenInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  const settings = resolveInterceptorOptions(options);
  const { policy } = settings;
  return (dispatch) =>
    function maskinportenInterceptor(opts, handler) {
      const origin = originOf(opts.origin);
      if (origin === undefined || !policy.allows(origin) || hasAuthorization(opts.headers)) return dispatch(opts, handler);
      new AuthorizedCall(dispatch, opts, handler, settings, origin).send();
      return true;
    };
}
