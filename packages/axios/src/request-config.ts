// Per-request Maskinporten claims on Axios' own request config, typed by module augmentation so
// `api.get(url, { maskinporten: { consumerOrg } })` type-checks without casts.
import type { TokenRequest } from '@portvakt/core';

/**
 * Per-request Maskinporten settings, on `config.maskinporten`: the claims of this request's token
 * (merged over the ones given to `withMaskinporten`), or `skip: true` to send it without a token.
 * Each distinct set of claims has its own cached token.
 *
 * @example
 * ```ts
 * await api.get('/arbeidsforhold', { maskinporten: { consumerOrg: '910753614' } });
 * await api.post('/innsending', body, { maskinporten: { systemUser: { orgno: '910753614' } } });
 * await api.get('/public/status', { maskinporten: { skip: true } });
 * ```
 */
export interface MaskinportenRequestConfig extends TokenRequest {
  /** Send this request without a Maskinporten token. */
  skip?: boolean | undefined;
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Claims for this request's Maskinporten token (scope, resource, consumerOrg, pid, systemUser), or `skip: true`. */
    maskinporten?: MaskinportenRequestConfig | undefined;
  }
}
