// Tokens in Redis are bearer credentials. Optional AES-256-GCM with the Redis key as associated
// data, so a value copied to another key, or changed at all, fails to open and counts as a miss.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigurationError } from '@portvakt/core';

const VERSION = 'v1';
const IV_BYTES = 12;
/** The full GCM tag. A shorter one (Node accepts 4 to 16 bytes) would be far easier to forge. */
const TAG_BYTES = 16;

/**
 * Reads a 32-byte key from bytes, base64/base64url or hex text.
 * @example
 * ```ts
 * parseEncryptionKey(process.env.PORTVAKT_TOKEN_KEY!); // 32 bytes, or a ConfigurationError
 * ```
 */
export function parseEncryptionKey(value: Uint8Array | string, field = 'encryptionKey'): Buffer {
  let key: Buffer | undefined;
  if (value instanceof Uint8Array) key = Buffer.from(value);
  else if (typeof value === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) key = Buffer.from(value, 'base64');
  }
  if (!key || key.length !== 32) {
    throw new ConfigurationError(field, 'must be 32 bytes for AES-256-GCM: a Buffer, or base64/hex text such as the output of `openssl rand -base64 32`.');
  }
  return key;
}

/** AES-256-GCM with a random 96-bit IV and the Redis key as associated data: `v1.<iv>.<ciphertext>.<tag>`. */
export function seal(key: Buffer, redisKey: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(redisKey));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}.${iv.toString('base64url')}.${ct.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/**
 * Undefined when the value was not sealed with this key for this Redis key, was changed, or
 * carries a tag shorter than 16 bytes (a truncated tag would otherwise still verify).
 */
export function open(key: Buffer, redisKey: string, sealed: string): string | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 4) return undefined;
  const [version, ivText, ctText, tagText] = parts as [string, string, string, string];
  if (version !== VERSION || !ivText || !ctText || !tagText) return undefined;
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(redisKey));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
