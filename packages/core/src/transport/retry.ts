/**
 * When to retry a token request and how long to wait. Maskinporten documents no rate limits
 * (docs/maskinporten-rules.md §9, Q20); we retry only failures that say "try again later" and never an
 * OAuth error, whose answer will not change (docs/maskinporten-rules.md §7: a retry always gets a new grant).
 */

const HTTP_DATE_MONTH = /\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/;

/**
 * The wait a `Retry-After` header asks for, in ms, or undefined when absent or unreadable. An
 * HTTP-date is measured against the response's own `Date` header when present (both are the
 * server's clock, so our clock skew does not matter), else against `nowMs`.
 */
export function parseRetryAfter(value: string | null, responseDateMs: number | undefined, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form names the month; Date.parse alone would also take "-3" or "1.5".
  if (!HTTP_DATE_MONTH.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - (responseDateMs ?? nowMs));
}

/**
 * Full-jitter exponential backoff: a uniform wait in `[0, min(max, base * 2^retry))`, where
 * `retry` is 0 before the second attempt. Spreads replicas out after a shared outage.
 */
export function fullJitterBackoff(retry: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** A response `Date` header as epoch ms, or undefined. */
export function parseDateHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
