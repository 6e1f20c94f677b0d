// Shared pieces of the verifier tests: a manual clock, a fetch that counts (the real fetch, so
// every request still goes to a real server), and a helper that captures a rejection.

export type { ManualClock } from '@portvakt/testing';
export { createManualClock as manualClock } from '@portvakt/testing';

export function countingFetch(): { fetch: typeof fetch; readonly urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return fetch(input, init);
    }) as typeof fetch,
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

/** The error a function throws (fails the test if it returns). */
export function thrownBy(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a throw');
}
