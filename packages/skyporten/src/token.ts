// Getting the Skyporten token for one exchange. The cloud gets a token from the token source at
// every exchange, never a token kept from an earlier one (AWS's fromWebToken keeps one, so its next
// refresh replays an expired token). The token source caches it (single-flight, refresh-ahead),
// so this costs no request while the token is fresh.
import type { SkyportenSettings } from './options.js';

/** The token and the public claims the fixes name. */
export interface SkyportenToken {
  readonly value: string;
  /** `iss`, `sub` and `aud` as the token carries them (public claims, for messages). */
  readonly claims: { readonly iss?: string; readonly sub?: string; readonly aud?: string | readonly string[] };
  /** Drops this token from the token source's cache. */
  invalidate(): void;
}

function publicClaims(value: string): SkyportenToken['claims'] {
  try {
    const payload = JSON.parse(Buffer.from(value.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const pick = (name: string) => (typeof payload[name] === 'string' ? { [name]: payload[name] as string } : {});
    const aud = typeof payload.aud === 'string' || (Array.isArray(payload.aud) && payload.aud.every((a) => typeof a === 'string')) ? { aud: payload.aud as string | string[] } : {};
    return { ...pick('iss'), ...pick('sub'), ...aud };
  } catch {
    // An opaque token: the fixes then name what was asked for instead.
    return {};
  }
}

/** A token for Skyporten's audience and scope, valid at least `minTokenValidity` seconds more. */
export async function skyportenToken(settings: SkyportenSettings, signal?: AbortSignal): Promise<SkyportenToken> {
  const token = await settings.source.getToken({ scope: settings.scope, resource: settings.audience, minValidity: settings.minTokenValidity, ...(signal === undefined ? {} : { signal }) });
  const value = token.accessToken;
  return { value, claims: publicClaims(value), invalidate: () => void settings.source.invalidate(token) };
}

/**
 * Runs `exchange` with a token; when the cloud says the token had expired (a clock off, or a token
 * the cloud saw late), drops it and tries once more with a new one. Any other failure, and a
 * second expiry, goes to the caller.
 */
export async function exchangeWithToken<T>(settings: SkyportenSettings, exchange: (token: SkyportenToken) => Promise<T>, saysExpired: (error: unknown) => boolean, signal?: AbortSignal): Promise<T> {
  const token = await skyportenToken(settings, signal);
  try {
    return await exchange(token);
  } catch (error) {
    if (!saysExpired(error)) throw error;
    token.invalidate();
    return exchange(await skyportenToken(settings, signal));
  }
}
