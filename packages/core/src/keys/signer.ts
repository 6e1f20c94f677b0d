// Turning every supported key form into a Signer (docs/maskinporten-rules.md §2.1, §4 and §10).
import { createHash, createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { inspectCertificate } from '../certificates/certificate.js';
import type { CertificateInfo } from '../certificates/certificate.js';
import { CertificateError, ConfigurationError, KeyError } from '../errors.js';
import { describeValue } from '../redact.js';
import type { GrantAlgorithm, KeyInput, Signer } from '../types.js';
import { parsePkcs12 } from './pkcs12.js';
import { checkKeyFileSource, kidContradicts, tryReadKeyFile } from './key-file.js';
import { inspectSymbol } from '../shared/index.js';

/**
 * A {@link Signer} plus what the client needs to know about it.
 * @example
 * ```ts
 * const signer: LoadedSigner = loadSigner({ jwk });
 * signer.identity; // 'kid:my-key;jkt:NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 * ```
 */
export interface LoadedSigner extends Signer {
  /**
   * The cache identity: `kid:<kid>;jkt:<RFC 7638 thumbprint of the public key>` for a key signing
   * with a kid, `x5t#S256:<thumbprint of the leaf>` for a certificate chain sent as x5c, and
   * `kid:<kid>` for a custom signer (whose public key Portvakt does not see). Two keys Portvakt
   * loads never share one, whatever their kids, so no token fetched with one is served for the other.
   */
  readonly identity: string;
  /** The leaf certificate, for x5c signers. */
  readonly certificate: CertificateInfo | undefined;
}

/** The algorithms Maskinporten accepts for a grant: RSA PKCS#1 v1.5 (docs/maskinporten-rules.md §2.1). */
export const GRANT_ALGORITHMS: readonly GrantAlgorithm[] = ['RS256', 'RS384', 'RS512'];
const HASH: Record<GrantAlgorithm, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };
// Digdir allows letters, digits, '.', '_' and '-' in a kid (docs/maskinporten-rules.md §4.2).
const KID = /^[A-Za-z0-9._-]{1,200}$/;

function checkAlg(value: unknown, field: string): GrantAlgorithm {
  if (!GRANT_ALGORITHMS.includes(value as GrantAlgorithm)) {
    throw new ConfigurationError(field, `must be one of RS256, RS384, RS512 (Maskinporten accepts only RSA PKCS#1 v1.5); got ${describeValue(value)}.`);
  }
  return value as GrantAlgorithm;
}

function checkKid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !KID.test(value)) {
    throw new ConfigurationError(field, 'must be the key id registered with Digdir: letters, digits, ".", "_" and "-" only.');
  }
  return value;
}

function checkRsa(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new KeyError(`Maskinporten grants must be signed with an RSA key (RS256/RS384/RS512); this key is ${key.asymmetricKeyType ?? 'not asymmetric'}.`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new KeyError(`The RSA key is ${bits} bits; Maskinporten needs at least 2048 bits. Generate a new key.`);
}

/** What a value given for a key looks like, so a key in the wrong field can be sent to the right one. */
function keyFormOf(value: unknown): 'jwk' | 'pem' | 'pkcs12' | undefined {
  if (value instanceof Uint8Array) return 'pkcs12';
  if (typeof value === 'object' && value !== null && 'kty' in value) return 'jwk';
  if (typeof value !== 'string') return undefined;
  if (value.includes('-----BEGIN')) return 'pem';
  return /^\s*\{[\s\S]*"kty"/.test(value) ? 'jwk' : undefined;
}

const FITS: Record<'jwk' | 'pem' | 'pkcs12', string> = {
  jwk: 'this looks like a JWK: pass it as { jwk } (the kid is read from the JWK).',
  pem: 'this looks like a PEM key: pass it as { pem, kid } with the kid you registered with Digdir.',
  pkcs12: 'this looks like a PKCS#12 file: pass it as { pkcs12, passphrase }.',
};

const KEY_FIELDS: readonly (readonly string[])[] = [
  ['signer'],
  ['jwk', 'kid'],
  ['pem', 'kid', 'passphrase'],
  ['pkcs12', 'passphrase', 'kid'],
  ['certificateChainPem', 'privateKeyPem', 'passphrase', 'kid'],
  ['file', 'kid', 'passphrase', 'certificateFile', 'follow'],
];

/** Refuses a field that does not belong to the key form, naming it, so a typo never goes unseen. */
function checkKeyFields(key: object, form: readonly string[], field: string): void {
  for (const name of Object.keys(key)) {
    if (!form.includes(name)) throw new ConfigurationError(`${field}.${name}`, `is not a field of { ${form.join(', ')} }: remove it.`);
  }
}

function loadPem(pem: string, passphrase: string | undefined, field: string): KeyObject {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) {
    const form = keyFormOf(pem);
    throw new ConfigurationError(field, form !== undefined && form !== 'pem' ? FITS[form] : 'must be a PEM private key (a "BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE KEY" block).');
  }
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(pem);
    throw new KeyError(
      encrypted
        ? passphrase === undefined ? 'The PEM key is encrypted: give its passphrase.' : 'The PEM key could not be decrypted: check the passphrase.'
        : 'The PEM private key could not be read: give a PKCS#8 or PKCS#1 RSA private key.',
      { cause: err },
    );
  }
}

/** Orders a chain leaf first, then each issuer, leaving out a self-signed root. */
function orderChain(leaf: X509Certificate, pool: X509Certificate[]): X509Certificate[] {
  const chain = [leaf];
  let current = leaf;
  for (;;) {
    if (current.checkIssued(current)) {
      if (chain.length > 1) chain.pop(); // a self-signed root never goes into x5c
      break;
    }
    const parent = pool.find((c) => !chain.includes(c) && current.checkIssued(c));
    if (!parent) break;
    if (parent.checkIssued(parent)) break; // root: stop without it
    chain.push(parent);
    current = parent;
  }
  return chain;
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  const pub = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return cert.publicKey.export({ type: 'spki', format: 'der' }).equals(pub);
}

/**
 * The RFC 7638 thumbprint of an RSA key's public half (SHA-256, base64url): the key's identity
 * whatever kid it is given, and nothing of the key beyond a digest of its public half.
 */
function rsaThumbprint(key: KeyObject): string {
  const { e, n } = createPublicKey(key).export({ format: 'jwk' });
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
}

/** The identity of a key that signs with a kid: the kid and the key's thumbprint. */
function kidIdentity(kid: string, key: KeyObject): string {
  return `kid:${kid};jkt:${rsaThumbprint(key)}`;
}

function optionalKid(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : checkKid(value, field);
}

/**
 * A certificate signer. With `kid` (a certificate registered in self-service) the grant names the
 * registered certificate by kid instead of carrying x5c: Digdir's grant page says kid "can and
 * must be used by clients having a pre-registered certificate" (docs/maskinporten-rules.md §10).
 */
function certificateSigner(key: KeyObject, certs: X509Certificate[], alg: GrantAlgorithm, kid: string | undefined): LoadedSigner {
  checkRsa(key);
  const leaf = certs.find((c) => matches(c, key));
  if (!leaf) throw new CertificateError('key_mismatch', 'None of the certificates belongs to the private key: give the signing certificate that matches the key.');
  const info = inspectCertificate(leaf);
  if (kid !== undefined) return localSigner(key, alg, { kid, identity: kidIdentity(kid, key), certificate: info });
  const chain = orderChain(leaf, certs);
  const x5c = chain.map((c) => c.raw.toString('base64'));
  return localSigner(key, alg, { x5c, identity: `x5t#S256:${info.thumbprintS256}`, certificate: info });
}

/** The private key behind each signer this module made, for its public key's thumbprint. */
const privateKeys = new WeakMap<Signer, KeyObject>();

/**
 * The SHA-256 thumbprint (base64url) of the public key of a signer that {@link loadSigner} made
 * from key material; undefined for your own `{ signer }`, whose key Portvakt never sees. Two keys
 * with one kid have different thumbprints, and the thumbprint gives nothing of the private key away.
 *
 * @example
 * ```ts
 * publicKeyThumbprint(loadSigner({ jwk })); // 'kQ3v...'
 * ```
 */
export function publicKeyThumbprint(signer: Signer): string | undefined {
  const key = privateKeys.get(signer);
  if (key === undefined) return undefined;
  return createHash('sha256').update(createPublicKey(key).export({ type: 'spki', format: 'der' })).digest('base64url');
}

/**
 * Which form of {@link KeyInput} a key option is (`jwk`, `pem`, `pkcs12`, `certificateChainPem`,
 * `signer` or `file`), by the field that names it; undefined for anything else.
 *
 * @example
 * ```ts
 * keyInputForm({ pem, kid: 'k1' }); // 'pem'
 * ```
 */
export function keyInputForm(key: unknown): string | undefined {
  if (typeof key !== 'object' || key === null) return undefined;
  return KEY_FIELDS.find((names) => (names[0] as string) in key)?.[0];
}

function localSigner(key: KeyObject, alg: GrantAlgorithm, id: { kid?: string; x5c?: string[]; identity: string; certificate?: CertificateInfo }): LoadedSigner {
  const hash = HASH[alg];
  const signer: LoadedSigner = {
    alg,
    kid: id.kid,
    x5c: id.x5c,
    identity: id.identity,
    certificate: id.certificate,
    sign: (data) => Promise.resolve(sign(hash, data, key)),
  };
  Object.defineProperties(signer, {
    toJSON: { value: () => ({ alg, kid: id.kid, identity: id.identity }), enumerable: false },
    [inspectSymbol]: { value: () => `Signer { alg: '${alg}', identity: '${id.identity}' }`, enumerable: false },
  });
  privateKeys.set(signer, key);
  return signer;
}

/**
 * Loads a signing key from any supported form and returns a {@link LoadedSigner}. Synchronous, so
 * `createMaskinportenClient` can refuse a bad key at construction. Non-RSA keys, RSA keys under
 * 2048 bits, public keys and wrong passphrases are refused with a message that says what to do.
 *
 * @example
 * ```ts
 * import { loadSigner } from '@portvakt/core';
 * const signer = loadSigner({ pkcs12: fs.readFileSync('virksomhet.p12'), passphrase: process.env.P12_PASS! });
 * console.log(signer.identity, signer.certificate?.orgno);
 * ```
 */
export function loadSigner(key: KeyInput, options: { alg?: GrantAlgorithm | undefined; field?: string } = {}): LoadedSigner {
  const field = options.field ?? 'key';
  const alg = options.alg === undefined ? undefined : checkAlg(options.alg, 'algorithm');
  if (typeof key !== 'object' || key === null) {
    throw new ConfigurationError(field, 'must be one of { jwk }, { pem, kid }, { pkcs12, passphrase }, { certificateChainPem, privateKeyPem }, { file } or { signer }.');
  }
  const form = KEY_FIELDS.find((names) => (names[0] as string) in key);
  if (form !== undefined) checkKeyFields(key, form, field);
  if ('signer' in key) return customSigner(key.signer, `${field}.signer`);
  if ('file' in key) {
    // Read once here; a client follows the file itself (client.ts, follow.ts).
    checkKeyFileSource(key, field);
    const read = tryReadKeyFile(key, field);
    if (!read.ok) throw read.failure.error;
    return loadSigner(read.contents.key, { alg: options.alg, field });
  }
  if ('jwk' in key) return jwkSigner(key.jwk, key.kid, alg, field);
  if ('pem' in key) {
    if (key.kid === undefined) throw new ConfigurationError(`${field}.kid`, 'is required with a PEM key: give the key id you registered with Digdir.');
    const kid = checkKid(key.kid, `${field}.kid`);
    const pk = loadPem(key.pem, key.passphrase, `${field}.pem`);
    checkRsa(pk);
    return localSigner(pk, alg ?? 'RS256', { kid, identity: kidIdentity(kid, pk) });
  }
  if ('pkcs12' in key) {
    if (!(key.pkcs12 instanceof Uint8Array)) {
      const form = keyFormOf(key.pkcs12);
      throw new ConfigurationError(`${field}.pkcs12`, form !== undefined && form !== 'pkcs12' ? FITS[form] : 'must be the .p12/.pfx file contents as a Buffer, e.g. fs.readFileSync(path).');
    }
    if (typeof key.passphrase !== 'string') throw new ConfigurationError(`${field}.passphrase`, 'is required with a PKCS#12 file (use "" for an unprotected one).');
    const { privateKey, certificates } = parsePkcs12(key.pkcs12, key.passphrase);
    return certificateSigner(privateKey, certificates, alg ?? 'RS256', optionalKid(key.kid, `${field}.kid`));
  }
  if ('certificateChainPem' in key) {
    if (typeof key.certificateChainPem !== 'string' || !key.certificateChainPem.includes('BEGIN CERTIFICATE')) {
      throw new ConfigurationError(`${field}.certificateChainPem`, 'must be PEM certificates ("-----BEGIN CERTIFICATE-----"), the signing certificate first.');
    }
    const blocks = key.certificateChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    let certs: X509Certificate[];
    try {
      certs = blocks.map((b) => new X509Certificate(b));
    } catch (err) {
      throw new CertificateError('invalid', 'A certificate in certificateChainPem could not be parsed.', { cause: err });
    }
    const pk = loadPem(key.privateKeyPem, key.passphrase, `${field}.privateKeyPem`);
    return certificateSigner(pk, certs, alg ?? 'RS256', optionalKid(key.kid, `${field}.kid`));
  }
  throw new ConfigurationError(field, 'must be one of { jwk }, { pem, kid }, { pkcs12, passphrase }, { certificateChainPem, privateKeyPem }, { file } or { signer }.');
}

function jwkSigner(input: JsonWebKey | string, kidOption: string | undefined, alg: GrantAlgorithm | undefined, field: string): LoadedSigner {
  let jwk: JsonWebKey & { kid?: unknown; alg?: unknown };
  if (typeof input === 'string') {
    try {
      jwk = JSON.parse(input) as JsonWebKey;
    } catch {
      const form = keyFormOf(input);
      throw new ConfigurationError(`${field}.jwk`, form === 'pem' ? FITS.pem : 'is not valid JSON: give the private JWK as an object or a JSON string.');
    }
  } else {
    jwk = input;
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new ConfigurationError(`${field}.jwk`, 'must be a JWK object (or its JSON).');
  if ('keys' in jwk) throw new ConfigurationError(`${field}.jwk`, 'is a JWK Set: give the single private JWK you sign with.');
  if (jwk.kty !== 'RSA') throw new KeyError(`Maskinporten grants must be signed with an RSA key; this JWK has kty ${describeValue(jwk.kty)}.`);
  if (jwk.d === undefined) throw new KeyError('This JWK is a public key: give the private JWK (with "d"); only its public half is registered with Digdir.');
  // The JWK's own kid is the one its key is registered under; a configured kid is for a JWK without one.
  if (kidOption !== undefined && jwk.kid !== undefined && kidOption !== jwk.kid) throw kidContradicts(`${field}.kid`, kidOption, jwk.kid);
  const kid = checkKid(kidOption ?? jwk.kid, kidOption === undefined ? `${field}.jwk.kid` : `${field}.kid`);
  const chosen = alg ?? (jwk.alg === undefined ? 'RS256' : checkAlg(jwk.alg, `${field}.jwk.alg`));
  let pk: KeyObject;
  try {
    pk = createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (err) {
    throw new KeyError('The JWK could not be read as an RSA private key.', { cause: err });
  }
  checkRsa(pk);
  return localSigner(pk, chosen, { kid, identity: kidIdentity(kid, pk) });
}

function customSigner(signer: Signer, field: string): LoadedSigner {
  if (typeof signer !== 'object' || signer === null || typeof signer.sign !== 'function') {
    throw new ConfigurationError(field, 'must be an object with sign(data): Promise<Uint8Array>, alg, and kid or x5c.');
  }
  const alg = checkAlg(signer.alg, `${field}.alg`);
  const hasKid = signer.kid !== undefined;
  const hasX5c = signer.x5c !== undefined;
  if (hasKid === hasX5c) throw new ConfigurationError(field, 'must set exactly one of kid (a registered key) and x5c (an enterprise certificate chain).');
  if (hasKid) {
    const kid = checkKid(signer.kid, `${field}.kid`);
    return Object.assign(Object.create(signer) as Signer, { alg, kid, x5c: undefined, identity: `kid:${kid}`, certificate: undefined, sign: (d: Uint8Array) => signer.sign(d) });
  }
  const x5c = signer.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.some((c) => typeof c !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(c))) {
    throw new ConfigurationError(`${field}.x5c`, 'must be a non-empty array of standard base64 DER certificates, leaf first, no root.');
  }
  const info = inspectCertificate(Buffer.from(x5c[0] as string, 'base64'));
  return Object.assign(Object.create(signer) as Signer, { alg, kid: undefined, x5c: [...x5c], identity: `x5t#S256:${info.thumbprintS256}`, certificate: info, sign: (d: Uint8Array) => signer.sign(d) });
}
