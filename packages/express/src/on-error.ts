// Failures reach the operator through the `onError` hook, while the caller gets the usual answer.
// The hook gets core's typed error as it is: those errors never carry a token, grant or key.
import type { Request } from 'express';
import { ConfigurationError } from '@portvakt/core';
import type { PortvaktError } from '@portvakt/core';

/**
 * The `onError` option of {@link maskinporten} and {@link maskinportenProxy}: called with each
 * failure the adapter answers for (core's typed error, e.g. a `TokenEndpointError` with `code`,
 * `mpCode` and `hint`) and the request it happened on. Meant for the operator's logger: what it
 * returns or throws does not change the answer the caller gets.
 *
 * @example
 * ```ts
 * const onError: MaskinportenErrorHook = (error, req) => {
 *   logger.warn({ err: error, path: req.originalUrl }, 'Maskinporten token failed');
 * };
 * app.use('/skatt', maskinportenProxy({ target: 'https://api.skatteetaten.no', client, onError }));
 * ```
 */
export type MaskinportenErrorHook = (error: Error, req: Request) => void;

/** Reports failures of one middleware or proxy instance. */
export interface ErrorReporter {
  /** A failure the caller is answered for: to the hook, if there is one. */
  failure(error: unknown, req: Request, field?: string): void;
  /**
   * A mistake in how the app is put together: to the hook, or without one to `console.error`,
   * once per instance and kind, so a busy route does not flood the log.
   */
  misconfiguration(error: PortvaktError, req: Request, kind: string): void;
}

const PREFIX = '@portvakt/express:';

/** Creates the reporter of one instance around the operator's hook. */
export function createErrorReporter(hook: MaskinportenErrorHook | undefined): ErrorReporter {
  const logged = new Set<string>();
  const logOnce = (kind: string, line: string) => {
    if (logged.has(kind)) return;
    logged.add(kind);
    console.error(`${PREFIX} ${line}`);
  };
  const call = (error: unknown, req: Request, field = 'claims') => {
    if (!hook) return;
    const value = error instanceof Error ? error : new ConfigurationError(field, 'threw a value that is not an Error: throw an Error (a ConfigurationError for bad claims) instead.');
    try {
      const returned: unknown = hook(value, req);
      // An async hook that rejects must not become an unhandled rejection.
      if (returned instanceof Promise) returned.catch(() => logOnce('hook', 'the onError hook failed; its error was ignored.'));
    } catch {
      logOnce('hook', 'the onError hook threw; its error was ignored.');
    }
  };
  return {
    failure: call,
    misconfiguration(error, req, kind) {
      if (hook) call(error, req);
      else logOnce(kind, error.message);
    },
  };
}
