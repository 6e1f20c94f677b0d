/**
 * Transport options and their validation. Maskinporten publishes no rate limits or retry policy
 * (docs/maskinporten-rules.md §9, Q20), so these defaults are ours: a few quick attempts, never hammering.
 */
import { ConfigurationError } from '../errors.js';

/**
 * How Portvakt talks to the token endpoint. All times are in milliseconds.
 *
 * @example
 * ```ts
 * const transport: TransportOptions = { attemptTimeout: 5_000, deadline: 15_000, maxAttempts: 2 };
 * ```
 */
export interface TransportOptions {
  /** The `fetch` to use (an undici dispatcher with a proxy, an instrumented fetch). Default: the global `fetch`. */
  fetch?: typeof fetch | undefined;
  /** Timeout of one attempt, body included. Default 10 000. */
  attemptTimeout?: number | undefined;
  /** Time for the whole request, retries and waits included. Default 30 000. */
  deadline?: number | undefined;
  /** Attempts for transient failures (network, 408, 429, 5xx but 501/505), 1 to 10. Default 3. */
  maxAttempts?: number | undefined;
  /** The longest `Retry-After` honoured; longer values are cut to this. Default 30 000. */
  maxRetryAfter?: number | undefined;
  /** Base of the full-jitter exponential backoff. Default 200. */
  backoffBase?: number | undefined;
  /** Cap of the full-jitter exponential backoff. Default 5 000. */
  backoffMax?: number | undefined;
}

/**
 * Transport options with every default filled in.
 * @example
 * ```ts
 * const options: ResolvedTransportOptions = validateTransportOptions({ attemptTimeout: 5000 });
 * ```
 */
export interface ResolvedTransportOptions {
  readonly fetch: typeof fetch;
  readonly attemptTimeout: number;
  readonly deadline: number;
  readonly maxAttempts: number;
  readonly maxRetryAfter: number;
  readonly backoffBase: number;
  readonly backoffMax: number;
}

/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2_147_483_647;

const NUMERIC_DEFAULTS = {
  attemptTimeout: 10_000,
  deadline: 30_000,
  maxAttempts: 3,
  maxRetryAfter: 30_000,
  backoffBase: 200,
  backoffMax: 5_000,
} as const;

const KEYS = new Set(['fetch', ...Object.keys(NUMERIC_DEFAULTS)]);

/** Looks the global up per call, so instrumentation that replaces `fetch` later is still used. */
const globalFetch: typeof fetch = (input, init) => globalThis.fetch(input, init);

/**
 * Whether resolved transport options use the global `fetch` (no `fetch` option was given).
 *
 * @example
 * ```ts
 * usesGlobalFetch(validateTransportOptions(undefined)); // true
 * ```
 */
export function usesGlobalFetch(options: ResolvedTransportOptions): boolean {
  return options.fetch === globalFetch;
}

/**
 * Validates transport options and fills in defaults. Throws a `ConfigurationError` naming the
 * field (`transport.attemptTimeout`) and the allowed range.
 *
 * @example
 * ```ts
 * import { validateTransportOptions } from '../transport/index.js'; // internal
 * const options = validateTransportOptions({ attemptTimeout: 5000 });
 * options.maxAttempts; // 3
 * ```
 */
export function validateTransportOptions(value: unknown, field = 'transport', defaults: Partial<Record<keyof typeof NUMERIC_DEFAULTS, number>> = {}): ResolvedTransportOptions {
  const fallback: Record<keyof typeof NUMERIC_DEFAULTS, number> = { ...NUMERIC_DEFAULTS, ...defaults };
  if (value === undefined) return Object.freeze({ fetch: globalFetch, ...fallback });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigurationError(field, 'must be an object such as { attemptTimeout: 10000, deadline: 30000 }, or left out for the defaults.');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KEYS.has(key)) throw new ConfigurationError(`${field}.${key}`, `is not a transport option; the options are ${[...KEYS].join(', ')}.`);
  }
  const fetchOption = record.fetch;
  if (fetchOption !== undefined && typeof fetchOption !== 'function') {
    throw new ConfigurationError(`${field}.fetch`, 'must be a fetch function (input, init) => Promise<Response>, or left out for the global fetch.');
  }
  const number = (key: keyof typeof NUMERIC_DEFAULTS, min: number, max: number, integer: boolean): number => {
    const given = record[key];
    if (given === undefined) return fallback[key];
    if (typeof given !== 'number' || !Number.isFinite(given) || given < min || given > max || (integer && !Number.isInteger(given))) {
      const kind = integer ? 'a whole number' : 'a number of milliseconds';
      throw new ConfigurationError(`${field}.${key}`, `must be ${kind} from ${min} to ${max}; the default is ${fallback[key]}.`);
    }
    return given;
  };
  const resolved = {
    fetch: (fetchOption as typeof fetch | undefined) ?? globalFetch,
    attemptTimeout: number('attemptTimeout', 1, MAX_TIMER_MS, false),
    deadline: number('deadline', 1, MAX_TIMER_MS, false),
    maxAttempts: number('maxAttempts', 1, 10, true),
    maxRetryAfter: number('maxRetryAfter', 0, MAX_TIMER_MS, false),
    backoffBase: number('backoffBase', 0, MAX_TIMER_MS, false),
    backoffMax: number('backoffMax', 0, MAX_TIMER_MS, false),
  };
  if (resolved.backoffMax < resolved.backoffBase) {
    throw new ConfigurationError(`${field}.backoffMax`, `must be at least backoffBase (${resolved.backoffBase}).`);
  }
  return Object.freeze(resolved);
}
