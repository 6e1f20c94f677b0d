import { createHmac, randomBytes, randomUUID, sign } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { CompactEncrypt, importJWK } from 'jose';
import { orgIdentifier } from './simulator/access-token.js';
import { createSigningKey } from './simulator/signing-keys.js';
import type { SigningAlgorithm, SigningKey } from './simulator/signing-keys.js';

/**
 * Claims for {@link TokenFactory.mint}; anything not given gets a Maskinporten-like default. The
 * named fields build the claim shapes of docs/maskinporten-rules.md §3.3 and §5 (delegation, audience,
 * pid, system user, consent); any other key is set as a raw claim, and a raw claim set to
 * `undefined` is left out (to mint a token without, say, `client_id`).
 *
 * @example
 * ```ts
 * const claims: MintClaims = { scope: 'nav:aareg', consumerOrgno: '910753614', pid: '01019000083' };
 * ```
 */
export interface MintClaims {
  /** `scope`: default `portvakt:test`. */
  scope?: string;
  /** `client_id`: default `portvakt-test-client`. */
  clientId?: string;
  /** `client_amr`: default `private_key_jwt`. */
  clientAmr?: string;
  /** Consumer organisation number (becomes `consumer`); default `991825827`. */
  consumerOrgno?: string;
  /** A delegated token (section 5.1): the supplier's organisation number, with `delegation_source`. */
  supplierOrgno?: string;
  /** `delegation_source` of a delegated token; default `https://tt02.altinn.no/`. */
  delegationSource?: string;
  /** `aud`, as an audience-restricted token carries its `resource` (section 5.2). */
  audience?: string | string[];
  /** `pid` of an end-user-restricted token (section 5.5). */
  pid?: string;
  /** A system-user token (section 5.3): `orgno` is the customer's. */
  systemUser?: { orgno: string; id?: string; systemId?: string; externalRef?: string };
  /** A consent token (section 5.4): `from` is the URN of who consented. */
  consent?: {
    from: string;
    id?: string;
    /** `to`: default the consumer. */
    toOrgno?: string;
    consented?: string;
    validTo?: string;
    rights?: { action: string[]; resource: { type: string; value: string }[]; metadata?: Record<string, string> }[];
  };
  [claim: string]: unknown;
}

/**
 * When a minted token is issued and for how long.
 * @example
 * ```ts
 * const expired: MintOptions = { now: Date.now() - 600_000, lifetimeSeconds: 120 };
 * ```
 */
export interface MintOptions {
  /** `exp - iat`, seconds; default 120. */
  lifetimeSeconds?: number;
  /** `iat`, epoch milliseconds; default now. */
  now?: number;
}

/**
 * How {@link TokenFactory.forge} breaks a token, for tests that an API refuses it.
 * @example
 * ```ts
 * const algNone: ForgeOptions = { header: { alg: 'none' }, signature: 'none' };
 * const confused: ForgeOptions = { header: { alg: 'HS256' }, signature: 'hmac-public-key' };
 * ```
 */
export interface ForgeOptions {
  /** Header members over `{ alg, kid }`; a member set to `undefined` is left out. */
  header?: Record<string, unknown>;
  /** The payload segment's text exactly (duplicate members, not JSON, ...), instead of the claims. */
  payloadText?: string;
  /**
   * - `valid` (default): signed with the factory's key, by the header's `alg`;
   * - `other-key`: signed by an RSA key that is not published, under the factory's `kid`;
   * - `none`: an empty signature (with `header: { alg: 'none' }`);
   * - `hmac-public-key`: HMAC-SHA256 keyed with the published public key's PEM, the algorithm
   *   confusion attack (with `header: { alg: 'HS256' }`);
   * - `tampered`: a valid signature, then the claims changed (`scope` widened).
   */
  signature?: 'valid' | 'other-key' | 'none' | 'hmac-public-key' | 'tampered';
}

/**
 * Mints Maskinporten-shaped access tokens for tests of APIs that verify them.
 * @example
 * ```ts
 * const factory: TokenFactory = createTokenFactory();
 * const token = await factory.mint({ scope: 'my:api' });
 * ```
 */
export interface TokenFactory {
  readonly issuer: string;
  /** The `kid` of the factory's signing key. */
  readonly kid: string;
  /** The JWKS to trust (what Maskinporten publishes at /jwk). */
  readonly jwks: { keys: JsonWebKey[] };
  /** A valid token with these claims. */
  mint(claims?: MintClaims, options?: MintOptions): Promise<string>;
  /** The claims {@link mint} would sign, as an object (to tweak and pass to `forge`'s `payloadText`). */
  claims(claims?: MintClaims, options?: MintOptions): Record<string, unknown>;
  /** A token broken as `forge` says; without `forge` the same as `mint`. */
  forge(claims?: MintClaims, forge?: ForgeOptions, options?: MintOptions): Promise<string>;
  /** The claims as a JWE (RSA-OAEP-256, A256GCM) to the factory's key: a token that is encrypted, not signed. */
  encrypt(claims?: MintClaims, options?: MintOptions): Promise<string>;
}

const HASHES: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };
const b64 = (text: string) => Buffer.from(text).toString('base64url');

/**
 * A token factory for API-provider tests: tokens look like Maskinporten's (RS256 by default, `kid`,
 * `iss`, `client_id`, `client_amr`, `consumer`, `scope`, `token_type`, `iat`, `exp`, `jti`), with
 * every claim shape Maskinporten issues and forged variants. Trust `factory.jwks`, or give the
 * verifier `{ issuer: factory.issuer, jwks: factory.jwks }` as its environment.
 *
 * @example
 * ```ts
 * import { createTokenFactory } from '@portvakt/testing';
 * import { createMaskinportenVerifier } from '@portvakt/verify';
 * const factory = createTokenFactory();
 * const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks }, scope: 'nav:aareg' });
 * const token = await factory.mint({ scope: 'nav:aareg', supplierOrgno: '991825827', consumerOrgno: '910753614' });
 * (await verifier.verify(token)).supplierOrg; // '991825827'
 * ```
 */
export function createTokenFactory(options: { issuer?: string; algorithm?: SigningAlgorithm } = {}): TokenFactory {
  const alg = options.algorithm ?? 'RS256';
  const key: SigningKey = createSigningKey({ alg });
  let stranger: SigningKey | undefined;
  const issuer = options.issuer ?? 'https://test.maskinporten.no/';

  function claimsOf(claims: MintClaims = {}, opts: MintOptions = {}): Record<string, unknown> {
    const { consumerOrgno, supplierOrgno, delegationSource, clientId, clientAmr, scope, audience, pid, systemUser, consent, ...raw } = claims;
    const iat = Math.floor((opts.now ?? Date.now()) / 1000);
    const consumer = orgIdentifier(consumerOrgno ?? '991825827');
    const body: Record<string, unknown> = {
      iss: issuer,
      client_amr: clientAmr ?? 'private_key_jwt',
      token_type: 'Bearer',
      client_id: clientId ?? 'portvakt-test-client',
      scope: scope ?? 'portvakt:test',
      consumer,
    };
    if (supplierOrgno !== undefined) {
      body.supplier = orgIdentifier(supplierOrgno);
      body.delegation_source = delegationSource ?? 'https://tt02.altinn.no/';
    }
    if (audience !== undefined) body.aud = audience;
    if (pid !== undefined) body.pid = pid;
    const details: Record<string, unknown>[] = [];
    if (systemUser !== undefined) {
      details.push({
        type: 'urn:altinn:systemuser',
        systemuser_id: [systemUser.id ?? randomUUID()],
        systemuser_org: orgIdentifier(systemUser.orgno),
        system_id: systemUser.systemId ?? `${consumerOrgno ?? '991825827'}_portvakt_test_system`,
        ...(systemUser.externalRef === undefined ? {} : { externalRef: systemUser.externalRef }),
      });
    }
    if (consent !== undefined) {
      details.push({
        type: 'urn:altinn:consent',
        id: consent.id ?? randomUUID(),
        from: consent.from,
        to: consent.toOrgno === undefined ? consumer : orgIdentifier(consent.toOrgno),
        consented: consent.consented ?? new Date(iat * 1000 - 3_600_000).toISOString(),
        validTo: consent.validTo ?? new Date(iat * 1000 + 365 * 86_400_000).toISOString(),
        consentRights: consent.rights ?? [{ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'enkelt-samtykke' }] }],
      });
    }
    if (details.length > 0) body.authorization_details = details;
    Object.assign(body, { exp: iat + (opts.lifetimeSeconds ?? 120), iat, jti: randomBytes(32).toString('base64url') });
    for (const [name, value] of Object.entries(raw)) {
      if (value === undefined) delete body[name];
      else body[name] = value;
    }
    return body;
  }

  function signed(headerIn: Record<string, unknown>, payloadText: string, how: NonNullable<ForgeOptions['signature']>): string {
    const header: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(headerIn)) if (value !== undefined) header[name] = value;
    const input = `${b64(JSON.stringify(header))}.${b64(payloadText)}`;
    const hash = HASHES[String(header.alg)] ?? 'sha256';
    switch (how) {
      case 'none':
        return `${input}.`;
      case 'hmac-public-key':
        return `${input}.${createHmac('sha256', key.publicKeyPem).update(input).digest('base64url')}`;
      case 'other-key':
        stranger ??= createSigningKey({ alg });
        return `${input}.${sign(hash, Buffer.from(input), stranger.privateKey).toString('base64url')}`;
      default:
        return `${input}.${sign(hash, Buffer.from(input), key.privateKey).toString('base64url')}`;
    }
  }

  const factory: TokenFactory = {
    issuer,
    kid: key.kid,
    jwks: { keys: [key.publicJwk] },
    claims: claimsOf,
    async mint(claims, opts) {
      return signed({ alg, kid: key.kid }, JSON.stringify(claimsOf(claims, opts)), 'valid');
    },
    async forge(claims, forge = {}, opts) {
      const body = claimsOf(claims, opts);
      const header = { alg, kid: key.kid, ...forge.header };
      const how = forge.signature ?? 'valid';
      if (how === 'tampered') {
        const token = signed(header, JSON.stringify(body), 'valid');
        const [h, , s] = token.split('.');
        return `${h}.${b64(JSON.stringify({ ...body, scope: `${String(body.scope)} admin:all` }))}.${s}`;
      }
      return signed(header, forge.payloadText ?? JSON.stringify(body), how);
    },
    async encrypt(claims, opts) {
      const publicKey = await importJWK({ kty: 'RSA', n: key.publicJwk.n, e: key.publicJwk.e } as never, 'RSA-OAEP-256');
      return new CompactEncrypt(Buffer.from(JSON.stringify(claimsOf(claims, opts))))
        .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: key.kid })
        .encrypt(publicKey);
    },
  };
  return Object.freeze(factory);
}
