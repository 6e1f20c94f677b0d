/**
 * RFC 3339 date-times (section 5.6), read strictly. A consent's `validTo` decides whether a token
 * grants access, so it is read by one grammar rather than by `Date.parse`, which takes `"99999"`
 * (the year 99999), `"2028-01-01"` (no time), `"Jan 1 2028"` and whatever else V8 guesses at.
 */

// date-time = full-date "T" full-time; full-time = partial-time time-offset. RFC 3339 lets "T" and
// "Z" be lower case (section 5.6, note) and allows a leap second (60).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

/**
 * The instant of an RFC 3339 date-time in epoch milliseconds, or `undefined` when `text` is not
 * one: every field present, in range (a real day of the month, hour 0-23, minute 0-59, second
 * 0-60, offset within ±23:59), and nothing before or after. Fractions beyond milliseconds are cut.
 *
 * @example
 * ```ts
 * import { parseRfc3339 } from './rfc3339.js'; // internal
 * parseRfc3339('2028-01-01T14:30:00+00:00'); // 1830349800000
 * parseRfc3339('99999');                     // undefined
 * ```
 */
export function parseRfc3339(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', z, sign, oh, om] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  if (z === undefined) {
    const offsetHour = Number(oh);
    const offsetMinute = Number(om);
    if (offsetHour > 23 || offsetMinute > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const millis = fraction === '' ? 0 : Number(fraction.slice(1, 4).padEnd(3, '0'));
  // Date.UTC takes years 0-99 as 1900-1999; setUTCFullYear does not.
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute, second, millis);
  return at.getTime() - offsetMinutes * 60_000;
}
