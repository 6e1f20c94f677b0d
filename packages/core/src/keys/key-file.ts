// A signing key kept in files: a private JWK, a PEM key (with its kid), a PEM certificate chain with
// its key (in one file or two), or a PKCS#12 bundle. The form is read from the content, so one
// option takes whatever a secret mount holds. Nothing read from a file goes into a message.
import { createHash } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { ConfigurationError, KeyError } from '../errors.js';
import type { PortvaktError } from '../errors.js';
import { describeValue } from '../redact.js';
import type { KeyFileSource, KeyInput } from '../types.js';
import { readDer } from './der.js';
import { readKeyFileBytes } from './file-bytes.js';

/**
 * What {@link readKeyFile} found: the key in the form `createMaskinportenClient` takes, which form
 * the file held, and a digest of the bytes read (to tell when the file changed).
 *
 * @example
 * ```ts
 * const { form, key }: KeyFileContents = readKeyFile({ file: '/var/run/secrets/nais.io/maskinporten/MASKINPORTEN_CLIENT_JWK' });
 * ```
 */
export interface KeyFileContents {
  form: 'jwk' | 'pem' | 'certificate' | 'pkcs12';
  key: KeyInput;
  /** SHA-256 (hex) of the file's bytes, and of the certificate file's after them. */
  digest: string;
}

/**
 * Why a key file gave no key: absent, not readable (or not a regular file), too large to be a key
 * file, empty, cut short (a write still under way), complete but not a key Portvakt takes, or (for
 * a followed file) a new key under the kid of the key in use, which Maskinporten cannot hold beside
 * the old one.
 */
export type KeyFileProblem = 'missing' | 'unreadable' | 'too-large' | 'empty' | 'incomplete' | 'invalid' | 'kid-unchanged';

/** A read that failed, with why: what a follower reports without throwing. */
export interface KeyFileFailure {
  problem: KeyFileProblem;
  error: PortvaktError;
  /** Tells one failed state from another, so the same one is reported once. */
  digest: string;
}

const PRIVATE_BLOCK = /-----BEGIN ((?:RSA |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const SOURCE_FIELDS = ['file', 'kid', 'passphrase', 'certificateFile', 'follow'];

class Failed extends Error {
  readonly failure: KeyFileFailure;
  constructor(failure: KeyFileFailure) {
    super(failure.error.message);
    this.failure = failure;
  }
}

function fail(problem: KeyFileProblem, error: PortvaktError, digest: string = problem): never {
  throw new Failed({ problem, error, digest: `${problem}:${digest}` });
}

function readBytes(path: string, field: string): Buffer {
  const read = readKeyFileBytes(path);
  return read.ok ? read.bytes : fail(read.problem, new ConfigurationError(field, read.reason), read.detail);
}

/** Whether a PEM text stops inside a block: a BEGIN line without its END line. */
function cutShort(text: string): boolean {
  const begins = text.match(/-----BEGIN [A-Z0-9 ]+-----/g)?.length ?? 0;
  const ends = text.match(/-----END [A-Z0-9 ]+-----/g)?.length ?? 0;
  return begins > ends;
}

/**
 * A JWK's own kid is the key's kid: the one its public half is registered under. A configured kid
 * is for a JWK without one. One that contradicts the JWK is refused when the key is configured;
 * while a file is followed, the JWK's own kid is taken, since a new kid is what a rotated key looks
 * like.
 */
function jwkOf(text: string, source: KeyFileSource, field: string, digest: string, following: boolean): KeyInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never the parser's message: it quotes the text, which holds the key.
    if (!text.trimEnd().endsWith('}')) fail('incomplete', new KeyError('The key file holds JSON that stops short (a write still under way?).'), digest);
    fail('invalid', new KeyError('The key file is not valid JSON: it must hold one private JWK.'), digest);
  }
  let jwk = parsed as JsonWebKey & { keys?: unknown };
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) fail('invalid', new KeyError('The key file must hold one JWK object.'), digest);
  if (Array.isArray(jwk.keys)) {
    const privateKeys = (jwk.keys as unknown[]).filter((k): k is JsonWebKey => typeof k === 'object' && k !== null && 'd' in k);
    if (privateKeys.length !== 1) fail('invalid', new KeyError(`The key file is a JWK set with ${privateKeys.length} private keys: give a file with one private JWK.`), digest);
    jwk = privateKeys[0] as JsonWebKey;
  }
  if (!('d' in jwk)) fail('invalid', new KeyError('The key file holds a public JWK: give the private key (only its public half is registered with Digdir).'), digest);
  const ownKid = (jwk as { kid?: unknown }).kid;
  if (ownKid === undefined) return source.kid === undefined ? { jwk } : { jwk, kid: source.kid };
  if (source.kid !== undefined && source.kid !== ownKid && !following) fail('invalid', kidContradicts(`${field}.kid`, source.kid, ownKid), digest);
  return { jwk };
}

function pemOf(text: string, certificateText: string | undefined, source: KeyFileSource, field: string, digest: string): { form: KeyFileContents['form']; key: KeyInput } {
  if (cutShort(text) || (certificateText !== undefined && cutShort(certificateText))) {
    fail('incomplete', new KeyError('The key file stops inside a PEM block (a write still under way?).'), digest);
  }
  const privateKeyPem = PRIVATE_BLOCK.exec(text)?.[0];
  if (privateKeyPem === undefined) fail('invalid', new KeyError('The key file has no PEM private key: give the private key, not only a certificate or a public key.'), digest);
  const certificates = [...(text.match(CERTIFICATE_BLOCK) ?? []), ...(certificateText?.match(CERTIFICATE_BLOCK) ?? [])];
  if (certificateText !== undefined && certificates.length === 0) {
    fail('invalid', new KeyError('The certificate file holds no PEM certificate.'), digest);
  }
  const passphrase = source.passphrase;
  if (certificates.length > 0) {
    const chain = { certificateChainPem: certificates.join('\n'), privateKeyPem, passphrase };
    return { form: 'certificate', key: source.kid === undefined ? chain : { ...chain, kid: source.kid } };
  }
  if (source.kid === undefined) fail('invalid', new ConfigurationError(`${field}.kid`, 'is required with a PEM key: give the key id you registered with Digdir.'), digest);
  return { form: 'pem', key: { pem: privateKeyPem, kid: source.kid, passphrase } };
}

function pkcs12Of(bytes: Buffer, source: KeyFileSource, field: string, digest: string): KeyInput {
  try {
    readDer(bytes);
  } catch {
    fail('incomplete', new KeyError('The key file is a binary file cut short (a write still under way?), or not a PKCS#12 bundle.'), digest);
  }
  if (typeof source.passphrase !== 'string') fail('invalid', new ConfigurationError(`${field}.passphrase`, 'is required with a PKCS#12 file (use "" for an unprotected one).'), digest);
  const pkcs12 = new Uint8Array(bytes);
  return source.kid === undefined ? { pkcs12, passphrase: source.passphrase } : { pkcs12, passphrase: source.passphrase, kid: source.kid };
}

/**
 * The error for a configured kid that is not the JWK's own: the grant would name one key and be
 * signed with another, and Maskinporten refuses it (MP-124).
 *
 * @example
 * ```ts
 * throw kidContradicts('key.kid', 'acme-2026-11', 'acme-2027-11'); // Invalid option "key.kid": is "acme-2026-11" but the JWK's own kid is ...
 * ```
 */
export function kidContradicts(field: string, configured: string, own: unknown, configuredAs = 'the configured kid'): ConfigurationError {
  return new ConfigurationError(
    field,
    `is ${describeValue(configured)} but the JWK's own kid is ${describeValue(own)}: Maskinporten knows the key by its JWK's kid and refuses a grant that names another (MP-124). Drop ${configuredAs}, or correct it.`,
  );
}

/** Checks the shape of a `{ file }` key option (not the files themselves). */
export function checkKeyFileSource(source: KeyFileSource, field: string): void {
  for (const name of Object.keys(source)) {
    if (!SOURCE_FIELDS.includes(name)) throw new ConfigurationError(`${field}.${name}`, `is not a field of { ${SOURCE_FIELDS.join(', ')} }: remove it.`);
  }
  if (typeof source.file !== 'string' || source.file.trim() === '') throw new ConfigurationError(`${field}.file`, 'must be the path of the key file.');
  if (source.certificateFile !== undefined && (typeof source.certificateFile !== 'string' || source.certificateFile.trim() === '')) {
    throw new ConfigurationError(`${field}.certificateFile`, 'must be the path of a PEM certificate chain, or left out.');
  }
  if (source.kid !== undefined && typeof source.kid !== 'string') throw new ConfigurationError(`${field}.kid`, 'must be the key id registered with Digdir.');
  if (source.passphrase !== undefined && typeof source.passphrase !== 'string') throw new ConfigurationError(`${field}.passphrase`, 'must be a string.');
}

/**
 * Reads a key file without throwing: the contents, or why there are none. `following`: the file is
 * read again for a key that follows it, so a JWK's own kid is taken over the configured one.
 */
export function tryReadKeyFile(source: KeyFileSource, field = 'key', options: { following?: boolean } = {}): { ok: true; contents: KeyFileContents } | { ok: false; failure: KeyFileFailure } {
  try {
    const bytes = readBytes(source.file, `${field}.file`);
    const certificateBytes = source.certificateFile === undefined ? undefined : readBytes(source.certificateFile, `${field}.certificateFile`);
    const hash = createHash('sha256').update(bytes);
    if (certificateBytes !== undefined) hash.update('\0').update(certificateBytes);
    const digest = hash.digest('hex');
    const text = bytes.toString('utf8');
    if (text.trim() === '') fail('empty', new KeyError('The key file is empty.'), digest);
    let form: KeyFileContents['form'];
    let key: KeyInput;
    if (text.trimStart().startsWith('{')) {
      form = 'jwk';
      key = jwkOf(text, source, field, digest, options.following === true);
    } else if (text.includes('-----BEGIN')) {
      ({ form, key } = pemOf(text, certificateBytes?.toString('utf8'), source, field, digest));
    } else {
      form = 'pkcs12';
      key = pkcs12Of(bytes, source, field, digest);
    }
    return { ok: true, contents: { form, key, digest } };
  } catch (error) {
    if (error instanceof Failed) return { ok: false, failure: error.failure };
    throw error;
  }
}

/**
 * Reads a key kept in a file, whatever its form: a private JWK (or a JWK set with one private key),
 * a PEM private key (give `kid`), a PEM certificate chain with its key (in the file, or the chain in
 * `certificateFile`), or a PKCS#12 bundle (give `passphrase`). Throws a `ConfigurationError` for a
 * file that cannot be read (or is not a regular file, or is over 1 MiB: neither is read), a missing
 * `kid`/`passphrase`, or a `kid` that is not the JWK's own, and a `KeyError` for content that is
 * not a key; neither quotes the file.
 *
 * @example
 * ```ts
 * import { readKeyFile } from '@portvakt/core';
 * const { key } = readKeyFile({ file: 'secrets/acme-2026-11.private.pem', kid: 'acme-2026-11' });
 * createMaskinportenClient({ clientId, environment: 'test', key });
 * ```
 */
export function readKeyFile(source: KeyFileSource): KeyFileContents {
  if (typeof source !== 'object' || source === null) throw new ConfigurationError('key', 'must be { file, kid?, passphrase?, certificateFile? }.');
  checkKeyFileSource(source, 'key');
  const read = tryReadKeyFile(source);
  if (!read.ok) throw read.failure.error;
  return read.contents;
}
