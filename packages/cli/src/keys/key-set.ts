// A client's key set as Digdir keeps it (docs/maskinporten-rules.md §4.2): at most 5 keys, RS256 with
// 2048-bit RSA keys, each with kty, alg, use, e and n, kids unique, and each key living at most a
// year from when it was posted (the API gives its end as `exp`, in seconds). These checks run
// before anything is written, so a set Digdir would refuse, or one that would lock the service
// out, is never posted.
import { createPublicKey } from 'node:crypto';
import type { RegisteredJwk } from '../self-service/client.js';
import { MAX_CLIENT_KEYS } from '../self-service/client.js';
import { kidText } from '../mask.js';
import { jwkThumbprint } from './public-jwk.js';

const DAY_MS = 86_400_000;
/** A key lives at most this long after it was posted (docs/maskinporten-rules.md §4.2). */
export const KEY_LIFETIME_DAYS = 365;
/** Warn this many days before a key's end. */
export const KEY_WARNING_DAYS = 30;

/** Why one key of a set breaks Digdir's rules; undefined when it keeps them. */
export function keyProblem(key: RegisteredJwk): string | undefined {
  if (kidText(key.kid) !== String(key.kid)) return 'has a kid Digdir does not allow (letters, digits, ".", "_" and "-" only)';
  if (key.kty !== 'RSA') return 'is not an RSA key';
  if (key.alg !== 'RS256') return `has alg ${JSON.stringify(key.alg ?? null)}, not RS256`;
  if (key.use !== 'sig') return key.use === undefined ? 'has no "use" (Digdir wants "use": "sig")' : `has use ${JSON.stringify(key.use)}, not "sig"`;
  if (typeof key.n !== 'string' || typeof key.e !== 'string') return 'has no n and e';
  try {
    const bits = createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) return `is ${bits} bits, under the 2048 Digdir wants`;
  } catch {
    return 'has an n and e that are not an RSA public key';
  }
  return undefined;
}

/** Every way `keys` breaks Digdir's rules, one sentence each. */
export function setProblems(keys: readonly RegisteredJwk[]): string[] {
  const problems: string[] = [];
  if (keys.length > MAX_CLIENT_KEYS) problems.push(`the set would hold ${keys.length} keys; Digdir allows ${MAX_CLIENT_KEYS}`);
  const kids = keys.map((k) => String(k.kid));
  const duplicate = kids.find((kid, i) => kids.indexOf(kid) !== i);
  if (duplicate !== undefined) problems.push(`the kid "${kidText(duplicate)}" appears twice`);
  for (const key of keys) {
    const problem = keyProblem(key);
    if (problem !== undefined) problems.push(`the key "${kidText(key.kid)}" ${problem}`);
  }
  return problems;
}

/** How old a key is and how long it has left, from the `exp` the API gives. */
export interface KeyLife {
  kid: string;
  /** When the key ends, ISO 8601; undefined when the API gave no exp. */
  expiresAt: string | undefined;
  daysLeft: number | undefined;
  /** Days since it was posted, counting back a year from exp (a key posted with an earlier exp is younger). */
  ageDays: number | undefined;
  /** `expired`, or `expiring` within {@link KEY_WARNING_DAYS}. */
  warning: 'expired' | 'expiring' | undefined;
}

export function keyLife(key: RegisteredJwk, nowMs: number): KeyLife {
  // For display: a kid as Digdir allows it, else masked.
  const kid = kidText(key.kid);
  const exp = typeof key.exp === 'number' && Number.isFinite(key.exp) ? key.exp * 1000 : undefined;
  if (exp === undefined) return { kid, expiresAt: undefined, daysLeft: undefined, ageDays: undefined, warning: undefined };
  const daysLeft = Math.floor((exp - nowMs) / DAY_MS);
  const ageDays = Math.max(0, Math.floor((nowMs - (exp - KEY_LIFETIME_DAYS * DAY_MS)) / DAY_MS));
  const warning = exp <= nowMs ? 'expired' : daysLeft < KEY_WARNING_DAYS ? 'expiring' : undefined;
  return { kid, expiresAt: new Date(exp).toISOString(), daysLeft, ageDays, warning };
}

/** One line about a key's life, for a terminal. */
export function describeLife(life: KeyLife): string {
  if (life.expiresAt === undefined) return 'no expiry given by the API';
  const end = life.expiresAt.slice(0, 10);
  if (life.warning === 'expired') return `expired on ${end} (MP-121): rotate to a new key`;
  const age = life.ageDays === undefined ? '' : `posted about ${life.ageDays} day${life.ageDays === 1 ? '' : 's'} ago, `;
  const left = `${age}${life.daysLeft} day${life.daysLeft === 1 ? '' : 's'} left (until ${end})`;
  return life.warning === 'expiring' ? `${left}: rotate now, under ${KEY_WARNING_DAYS} days are left` : left;
}

/** Where the key the service signs with stands in a set read back from the API. */
export type CurrentKeyStanding = 'present' | 'absent' | 'different';

/**
 * Whether `keys` holds the service's key: the same kid with the same public key (RFC 7638
 * thumbprint). The same kid on another key is `different`: a foreign set, or a kid reused.
 */
export function standingOf(keys: readonly RegisteredJwk[], current: { kid: string; thumbprint: string | undefined }): CurrentKeyStanding {
  const match = keys.find((k) => k.kid === current.kid);
  if (match === undefined) return 'absent';
  if (current.thumbprint === undefined || typeof match.n !== 'string') return 'present';
  return jwkThumbprint({ e: match.e, n: match.n }) === current.thumbprint ? 'present' : 'different';
}
