// PKCS#12 (.p12/.pfx) as Buypass and Commfides deliver enterprise certificates, read with Node
// built-ins only (RFC 7292). Keys in pkcs8ShroudedKeyBag are decrypted by OpenSSL through
// createPrivateKey; encrypted certificate safes (PBES2, or the PKCS#12 3DES scheme) are decrypted
// here. The MAC is verified first, so a wrong passphrase is reported as such.
import { createDecipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { KeyError } from '../errors.js';
import { child, children, integer, octets, oid, readDer } from './der.js';
import type { DerNode } from './der.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha3Des: '1.2.840.113549.1.12.1.3',
  pbeSha40Rc2: '1.2.840.113549.1.12.1.6',
  pbeSha128Rc2: '1.2.840.113549.1.12.1.5',
} as const;

const HASHES: Record<string, { name: string; v: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', v: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', v: 128 },
};
const HMACS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const CIPHERS: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
};

/**
 * The key and certificates in a PKCS#12 file.
 * @example
 * ```ts
 * const { privateKey, certificates }: Pkcs12Contents = parsePkcs12(fs.readFileSync('cert.p12'), passphrase);
 * ```
 */
export interface Pkcs12Contents {
  privateKey: KeyObject;
  certificates: X509Certificate[];
}

function bmpPassword(passphrase: string): Buffer {
  const out = Buffer.alloc((passphrase.length + 1) * 2);
  for (let i = 0; i < passphrase.length; i++) out.writeUInt16BE(passphrase.charCodeAt(i), i * 2);
  return out;
}

/** The PKCS#12 key derivation function (RFC 7292 appendix B). */
function pkcs12Kdf(hashOid: string, password: Buffer, salt: Buffer, iterations: number, id: number, size: number): Buffer {
  const hash = HASHES[hashOid];
  if (!hash) throw new KeyError('The PKCS#12 file uses an unsupported digest algorithm; re-export it with SHA-256.');
  const { v } = hash;
  const fill = (src: Buffer) => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] ?? 0;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const result: Buffer[] = [];
  let produced = 0;
  while (produced < size) {
    let A = createHash(hash.name).update(D).update(I).digest();
    for (let i = 1; i < iterations; i++) A = createHash(hash.name).update(A).digest();
    result.push(A);
    produced += A.length;
    const B = fill(A).subarray(0, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] ?? 0) + (B[k] ?? 0) + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(result).subarray(0, size);
}

function decrypt(algorithm: DerNode, data: Buffer, passphrase: string): Buffer {
  const algOid = oid(child(algorithm, 0));
  const params = child(algorithm, 1);
  if (algOid === OID.pbes2) {
    const kdf = child(params, 0);
    const scheme = child(params, 1);
    if (oid(child(kdf, 0)) !== OID.pbkdf2) throw new KeyError('The PKCS#12 file uses an unsupported key derivation; re-export it with PBKDF2 and AES-256.');
    const kdfParams = children(child(kdf, 1));
    const salt = octets(kdfParams[0] as DerNode);
    const iterations = integer(kdfParams[1] as DerNode);
    const prf = kdfParams.find((n) => n.tag === 0x30);
    const hmac = prf ? HMACS[oid(child(prf, 0))] : 'sha1';
    const cipher = CIPHERS[oid(child(scheme, 0))];
    if (!hmac || !cipher) throw new KeyError('The PKCS#12 file uses an unsupported cipher; re-export it with AES-256-CBC.');
    const keyLength = cipher.startsWith('aes-128') ? 16 : cipher.startsWith('aes-192') || cipher === 'des-ede3-cbc' ? 24 : 32;
    const key = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, iterations, keyLength, hmac);
    const decipher = createDecipheriv(cipher, key, octets(child(scheme, 1)));
    return Buffer.concat([decipher.update(data), decipher.final()]);
  }
  if (algOid === OID.pbeSha3Des) {
    const salt = octets(child(params, 0));
    const iterations = integer(child(params, 1));
    const pw = bmpPassword(passphrase);
    const key = pkcs12Kdf('1.3.14.3.2.26', pw, salt, iterations, 1, 24);
    const iv = pkcs12Kdf('1.3.14.3.2.26', pw, salt, iterations, 2, 8);
    const decipher = createDecipheriv('des-ede3-cbc', key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  }
  if (algOid === OID.pbeSha40Rc2 || algOid === OID.pbeSha128Rc2) {
    throw new KeyError('The PKCS#12 file encrypts its certificates with RC2, which Node.js (OpenSSL 3) no longer supports. Re-export it with AES, e.g. `openssl pkcs12 -legacy -in old.p12 -nodes | openssl pkcs12 -export -certpbe AES-256-CBC -keypbe AES-256-CBC -macalg sha256 -out new.p12`.');
  }
  throw new KeyError(`The PKCS#12 file uses an unsupported encryption scheme (${algOid}); re-export it with AES-256-CBC.`);
}

function verifyMac(pfx: DerNode, authSafeContent: Buffer, passphrase: string): void {
  const macData = children(pfx)[2];
  if (!macData) return; // unprotected files exist; the key decryption still needs the passphrase
  const digestInfo = child(macData, 0);
  const hashOid = oid(child(child(digestInfo, 0), 0));
  const expected = octets(child(digestInfo, 1));
  const salt = octets(child(macData, 1));
  const iterationsNode = children(macData)[2];
  const iterations = iterationsNode ? integer(iterationsNode) : 1;
  const hash = HASHES[hashOid];
  if (!hash) throw new KeyError('The PKCS#12 file uses an unsupported MAC algorithm; re-export it with -macalg sha256.');
  const macKey = pkcs12Kdf(hashOid, bmpPassword(passphrase), salt, iterations, 3, expected.length);
  const actual = createHmac(hash.name, macKey).update(authSafeContent).digest();
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new KeyError('Wrong passphrase for the PKCS#12 file (its integrity check failed).');
  }
}

/**
 * Reads a PKCS#12 file: verifies its MAC with the passphrase, decrypts the private key and
 * returns it with every certificate in the file.
 * @example
 * ```ts
 * import { parsePkcs12 } from '@portvakt/core';
 * const { privateKey, certificates } = parsePkcs12(fs.readFileSync('virksomhet.p12'), process.env.P12_PASS!);
 * ```
 */
export function parsePkcs12(data: Uint8Array, passphrase: string): Pkcs12Contents {
  let pfx: DerNode;
  let authSafeContent: Buffer;
  try {
    pfx = readDer(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    const authSafe = child(pfx, 1);
    if (oid(child(authSafe, 0)) !== OID.data) throw new Error('signed PKCS#12 files are not supported');
    authSafeContent = octets(child(child(authSafe, 1), 0));
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError('The PKCS#12 data could not be read: give the .p12/.pfx file contents as a Buffer (not a path or base64 text).', { cause: err });
  }
  verifyMac(pfx, authSafeContent, passphrase);

  const keys: KeyObject[] = [];
  const certificates: X509Certificate[] = [];
  try {
    for (const info of children(readDer(authSafeContent))) {
      const type = oid(child(info, 0));
      let safeContents: Buffer;
      if (type === OID.data) {
        safeContents = octets(child(child(info, 1), 0));
      } else if (type === OID.encryptedData) {
        const encryptedContentInfo = child(child(child(info, 1), 0), 1);
        const parts = children(encryptedContentInfo);
        const encrypted = parts[2];
        if (!encrypted) continue;
        const content = encrypted.constructed ? Buffer.concat(children(encrypted).map(octets)) : encrypted.value;
        safeContents = decrypt(parts[1] as DerNode, content, passphrase);
      } else {
        continue;
      }
      for (const bag of children(readDer(safeContents))) {
        const bagId = oid(child(bag, 0));
        const value = child(child(bag, 1), 0);
        if (bagId === OID.shroudedKeyBag) {
          keys.push(createPrivateKey({ key: value.raw, format: 'der', type: 'pkcs8', passphrase }));
        } else if (bagId === OID.keyBag) {
          keys.push(createPrivateKey({ key: value.raw, format: 'der', type: 'pkcs8' }));
        } else if (bagId === OID.certBag && oid(child(value, 0)) === OID.x509Certificate) {
          certificates.push(new X509Certificate(octets(child(child(value, 1), 0))));
        }
      }
    }
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError('The PKCS#12 file could not be decrypted: check the passphrase, or re-export the file with AES-256-CBC.', { cause: err });
  }
  const privateKey = keys[0];
  if (!privateKey) throw new KeyError('The PKCS#12 file holds no private key: export the signing certificate together with its key.');
  if (certificates.length === 0) throw new KeyError('The PKCS#12 file holds no certificate.');
  return { privateKey, certificates };
}
