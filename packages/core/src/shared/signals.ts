/**
 * Abort scopes: one AbortSignal per operation that fires on the caller's signal, an enclosing
 * scope (the overall deadline) or its own timer, and remembers which of them fired first, so the
 * transport can tell a caller abort (AbortedError, no retry) from a per-attempt timeout (retryable)
 * and from the deadline (final).
 *
 * Written with plain listeners and `setTimeout` rather than `AbortSignal.any`/`AbortSignal.timeout`
 * so that listeners on a long-lived caller signal are always removed (no leak across thousands of
 * requests) and so fake timers in tests control every wait.
 */

/** What ended an operation. */
export type AbortCause = 'caller' | 'deadline' | 'attempt';

/** A linked abort signal that knows why it fired. Always call `dispose()` in a `finally`. */
export interface AbortScope {
  readonly signal: AbortSignal;
  readonly cause: AbortCause | undefined;
  dispose(): void;
}

/** A parent to follow: a caller's signal or another scope, and the cause to record when it fires. */
export type AbortLink = readonly [signal: AbortSignal | undefined, cause: AbortCause];

/** Creates a scope that aborts when any linked signal aborts or after `timeout.ms`. */
export function createAbortScope(links: readonly AbortLink[], timeout?: { ms: number; cause: AbortCause }): AbortScope {
  const controller = new AbortController();
  let cause: AbortCause | undefined;
  const cleanups: (() => void)[] = [];
  const fire = (why: AbortCause): void => {
    if (cause !== undefined) return;
    cause = why;
    controller.abort(new ScopeAbort(why));
    dispose();
  };
  const dispose = (): void => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  for (const [signal, why] of links) {
    if (signal === undefined) continue;
    if (signal.aborted) {
      fire(why);
      break;
    }
    const onAbort = (): void => fire(why);
    signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', onAbort));
  }
  if (cause === undefined && timeout !== undefined) {
    const timer = setTimeout(() => fire(timeout.cause), Math.max(0, timeout.ms));
    cleanups.push(() => clearTimeout(timer));
  }
  return {
    signal: controller.signal,
    get cause() {
      return cause;
    },
    dispose,
  };
}

/** The abort reason a scope uses: carries only the cause, never request data. */
export class ScopeAbort extends Error {
  readonly abortCause: AbortCause;
  constructor(abortCause: AbortCause) {
    super(`aborted: ${abortCause}`);
    this.name = 'AbortError';
    this.abortCause = abortCause;
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Races `promise` against `signal`: rejects with `onAbort()` when the signal fires first. The
 * promise itself goes on (a shared fetch keeps running for other waiters); its rejection is handled.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      promise.catch(() => undefined);
      reject(onAbort());
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
