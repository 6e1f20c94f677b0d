// The option values every factory checks the same way: numbers within a range, and a clock. One
// rule and one message shape, so `cache.maxEntries` in the client and in the Redis store fail alike.
import { ConfigurationError } from '../errors.js';
import type { Clock } from '../types.js';

/**
 * The rule of a number option: its range, whether it must be whole, and the words for the message
 * (`a number of seconds from 0 to 300`).
 *
 * @example
 * ```ts
 * const rule: NumberRule = { fallback: 5, min: 0, max: 300, unit: 'seconds' };
 * ```
 */
export interface NumberRule {
  fallback: number;
  min?: number | undefined;
  max?: number | undefined;
  /** The lower bound is excluded (`above 0`). */
  minExclusive?: boolean | undefined;
  /** The upper bound is excluded (`below 1`). */
  maxExclusive?: boolean | undefined;
  integer?: boolean | undefined;
  /** What the number counts: `seconds`, `milliseconds`, `entries`; left out for a plain number or fraction. */
  unit?: string | undefined;
  /** Replaces the generated description (`a fraction of the token lifetime, above 0 and at most 1`). */
  description?: string | undefined;
}

function describe(rule: NumberRule): string {
  if (rule.description !== undefined) return rule.description;
  const noun = `${rule.integer === true ? 'a whole number' : 'a number'}${rule.unit === undefined ? '' : ` of ${rule.unit}`}`;
  const { min, max } = rule;
  if (min !== undefined && max !== undefined) {
    if (rule.minExclusive !== true && rule.maxExclusive !== true) return `${noun} from ${min} to ${max}`;
    return `${noun} ${rule.minExclusive === true ? 'above' : 'from'} ${min} and ${rule.maxExclusive === true ? 'below' : 'at most'} ${max}`;
  }
  if (min !== undefined) return `${noun} ${rule.minExclusive === true ? 'above' : 'of at least'} ${min}`;
  if (max !== undefined) return `${noun} ${rule.maxExclusive === true ? 'below' : 'of at most'} ${max}`;
  return noun;
}

/**
 * A number option checked against its rule: `fallback` when left out, else a finite number in the
 * range, or a {@link ConfigurationError} naming the field, the rule and the default.
 *
 * @example
 * ```ts
 * import { numberOption } from '@portvakt/core/internal';
 * numberOption(options.clockTolerance, 'clockTolerance', { fallback: 5, min: 0, max: 300, unit: 'seconds' });
 * ```
 */
export function numberOption(value: unknown, field: string, rule: NumberRule): number {
  if (value === undefined) return rule.fallback;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.integer !== true || Number.isInteger(value)) &&
    (rule.min === undefined || (rule.minExclusive === true ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || (rule.maxExclusive === true ? value < rule.max : value <= rule.max));
  if (!ok) throw new ConfigurationError(field, `must be ${describe(rule)}; the default is ${rule.fallback}.`);
  return value as number;
}

/**
 * The `clock` option: `Date` when left out, else an object with `now()` in epoch milliseconds.
 *
 * @example
 * ```ts
 * import { validateClock } from '@portvakt/core/internal';
 * const clock = validateClock(options.clock); // Date, or the test's manual clock
 * ```
 */
export function validateClock(value: unknown, field = 'clock'): Clock {
  const clock: unknown = value ?? Date;
  if ((typeof clock !== 'object' && typeof clock !== 'function') || clock === null || typeof (clock as Partial<Clock>).now !== 'function') {
    throw new ConfigurationError(field, "must be an object with now(): number (epoch milliseconds), such as Date; pass the client's clock where there is one.");
  }
  return clock as Clock;
}
