/**
 * Injection token of the verifier `MaskinportenVerifierModule` provides.
 * @example
 * ```ts
 * const verifier = app.get<MaskinportenVerifier>(MASKINPORTEN_VERIFIER);
 * ```
 */
export const MASKINPORTEN_VERIFIER = 'portvakt:maskinporten:verifier';

/** Metadata keys of the decorators (internal). */
export const REQUIRED_SCOPES_METADATA = 'portvakt:maskinporten:required-scopes';
export const REQUIREMENTS_METADATA = 'portvakt:maskinporten:requirements';
export const SKIP_TOKEN_METADATA = 'portvakt:maskinporten:skip-token';
