/**
 * Which Maskinporten to talk to. One of:
 * - `'test'` or `'prod'`: the presets in {@link ENVIRONMENTS} (docs/maskinporten-rules.md §1.1);
 * - `'skyporten-test'` or `'skyporten-prod'`: Skyporten, for cloud credentials (its issuer has no
 *   trailing slash; docs/maskinporten-rules.md §5.9), in {@link SKYPORTEN_ENVIRONMENTS};
 * - `{ issuer, tokenEndpoint }`: explicit URLs, for a simulator or a proxy. The issuer is used
 *   verbatim as the grant's `aud`;
 * - `{ metadataUrl, metadataTtl? }`: an RFC 8414 metadata document (NAIS's
 *   `MASKINPORTEN_WELL_KNOWN_URL`), fetched on first use and cached for `metadataTtl` seconds
 *   (default 86 400, one day).
 *
 * @example
 * ```ts
 * const a: EnvironmentOption = 'test';
 * const b: EnvironmentOption = { issuer: 'https://test.maskinporten.no/', tokenEndpoint: 'https://test.maskinporten.no/token' };
 * const c: EnvironmentOption = { metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server' };
 * ```
 */
export type EnvironmentOption =
  | 'test'
  | 'prod'
  | 'skyporten-test'
  | 'skyporten-prod'
  | { issuer: string; tokenEndpoint: string }
  | { metadataUrl: string; metadataTtl?: number | undefined };

/**
 * Where to send grants: the issuer (the grant's `aud`, verbatim) and the token endpoint. `kind` is
 * `test` or `prod` when the issuer is exactly a preset's issuer, so certificate checks know which
 * CA family to expect.
 *
 * @example
 * ```ts
 * const { issuer, tokenEndpoint, kind } = await source.resolve();
 * ```
 */
export interface ResolvedEnvironment {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly kind: 'test' | 'prod' | 'custom';
}

/**
 * A configured environment. `issuer` is known without any network call for presets and explicit
 * URLs; for metadata discovery it is undefined until the first document has been fetched.
 *
 * @example
 * ```ts
 * const source = createEnvironmentSource('test', { fetch, clock: Date });
 * source.issuer; // 'https://test.maskinporten.no/'
 * const { tokenEndpoint } = await source.resolve(AbortSignal.timeout(5000));
 * ```
 */
export interface EnvironmentSource {
  readonly kind: 'test' | 'prod' | 'custom' | 'discovered';
  readonly issuer: string | undefined;
  /** The metadata URL for discovered environments. */
  readonly metadataUrl?: string | undefined;
  /** Resolves the issuer and token endpoint; only discovery does I/O. The signal ends this caller's wait. */
  resolve(signal?: AbortSignal): Promise<ResolvedEnvironment>;
}
