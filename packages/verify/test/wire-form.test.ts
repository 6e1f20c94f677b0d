// One issued token, one accepted spelling: padded, spaced, newline and other-bit variants of a
// valid token are refused by verify() and by verifyRequest(), and never enter the memory of
// verified tokens (each would be a fresh RSA check and a fresh entry). Also the strict RFC 3339
// reader behind a consent's validTo.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier, verifyRequest } from '@portvakt/verify';
import { parseRfc3339 } from '../src/rfc3339.js';

const factory = createTokenFactory();
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The segment with the unused low bits of its last character set: the same bytes, another spelling. */
function otherBits(segment: string): string {
  const tail = segment.length % 4;
  const last = ALPHABET.indexOf(segment.at(-1) as string);
  return `${segment.slice(0, -1)}${ALPHABET[last | (tail === 2 ? 0b1111 : 0b11)]}`;
}

/** Variants of a valid token that Node's base64 decoder reads as the same bytes. */
function variants(token: string): [string, string][] {
  const [h = '', p = '', s = ''] = token.split('.');
  const mid = Math.floor(s.length / 2);
  const list: [string, string][] = [
    ['the signature padded with ==', `${token}==`],
    ['the signature padded with =', `${token}=`],
    ['the payload padded', `${h}.${p}==.${s}`],
    ['the header padded', `${h}=.${p}.${s}`],
    ['a space inside the signature', `${h}.${p}.${s.slice(0, mid)} ${s.slice(mid)}`],
    ['a newline inside the signature', `${h}.${p}.${s.slice(0, mid)}\n${s.slice(mid)}`],
    ['a newline inside the payload', `${h}.${p.slice(0, 10)}\n${p.slice(10)}.${s}`],
    ['a tab at the end', `${token}\t`],
    ['base64 (not base64url) characters', `${h}.${p}.${s.replaceAll('-', '+').replaceAll('_', '/')}`],
  ];
  if (s.length % 4 !== 0) list.push(['other unused bits in the signature\'s last character', `${h}.${p}.${otherBits(s)}`]);
  if (p.length % 4 !== 0) list.push(['other unused bits in the payload\'s last character', `${h}.${otherBits(p)}.${s}`]);
  if (h.length % 4 !== 0) list.push(['other unused bits in the header\'s last character', `${otherBits(h)}.${p}.${s}`]);
  return list.filter(([, variant]) => variant !== token);
}

describe('one accepted spelling per token', () => {
  it('the variants decode to the very bytes of the valid token (so only the spelling can refuse them)', async () => {
    const token = await factory.mint();
    const [, , s = ''] = token.split('.');
    expect(Buffer.from(`${s}==`, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    if (s.length % 4 !== 0) expect(Buffer.from(otherBits(s), 'base64url')).toEqual(Buffer.from(s, 'base64url'));
  });

  it.each(['', 'x', 'xx'])('verify() refuses every variant with 401 malformed, accepts the token, and remembers it once (payload padded with %j)', async (padding) => {
    const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks } });
    // Three payload lengths, so the payload's last character carries 0, 2 or 4 unused bits.
    const token = await factory.mint({ scope: 'nav:read', padding });
    const list = variants(token);
    expect(list.length).toBeGreaterThanOrEqual(10);
    for (const [name, variant] of list) {
      await expect(verifier.verify(variant), name).rejects.toMatchObject({ status: 401, reason: 'malformed' });
    }
    await expect(verifier.verify(token)).resolves.toMatchObject({ scopes: ['nav:read'] });
    // The variants again, after the token is remembered: still refused, still not remembered.
    for (const [name, variant] of list) {
      await expect(verifier.verify(variant), name).rejects.toMatchObject({ reason: 'malformed' });
      expect(verifier.recall(variant), name).toBeUndefined();
    }
    expect(inspect(verifier)).toContain('remembered tokens: 1');
  });

  it('verifyRequest() refuses "Bearer <token>==" and the other header-safe variants, before and after the token is remembered', async () => {
    const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks } });
    const token = await factory.mint();
    const headerSafe = variants(token).filter(([, v]) => !/\s/.test(v));
    for (const round of ['before', 'after']) {
      for (const [name, variant] of headerSafe) {
        const request = { headers: { authorization: `Bearer ${variant}` } };
        await expect(Promise.resolve().then(() => verifyRequest(verifier, request)), `${round}: ${name}`).rejects.toMatchObject({ status: 401 });
        expect(request).not.toHaveProperty('maskinportenToken');
      }
      await verifyRequest(verifier, { headers: { authorization: `Bearer ${token}` } });
    }
    expect(inspect(verifier)).toContain('remembered tokens: 1');
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2028-01-01T14:30:00+00:00', Date.UTC(2028, 0, 1, 14, 30)],
    ['2025-11-14T10:48:55.759557+00:00', Date.UTC(2025, 10, 14, 10, 48, 55, 759)],
    ['2028-01-01t14:30:00z', Date.UTC(2028, 0, 1, 14, 30)],
    ['2028-01-01T14:30:00-02:30', Date.UTC(2028, 0, 1, 17, 0)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2016-12-31T23:59:60Z', Date.UTC(2017, 0, 1)],
    ['0099-01-01T00:00:00Z', -59_042_995_200_000],
  ])('%s', (text, at) => {
    expect(parseRfc3339(text)).toBe(at);
  });

  it.each(['99999', '2028', '2028-01-01', '2028-01-01T14:30Z', '2028-01-01T14:30:00', '2028-01-01 14:30:00Z', '2023-02-29T00:00:00Z', '2028-13-01T00:00:00Z', '2028-00-10T00:00:00Z', '2028-01-01T23:60:00Z', '2028-01-01T00:00:61Z', '2028-01-01T00:00:00+24:00', '2028-01-01T00:00:00.Z', ' 2028-01-01T00:00:00Z', '2028-01-01T00:00:00Z\n', '２０２８-01-01T00:00:00Z'])(
    'refuses %j',
    (text) => {
      expect(parseRfc3339(text)).toBeUndefined();
    },
  );
});
