import { createPrivateKey, randomUUID, sign } from 'node:crypto';

/** Signs a grant by hand so the simulator's rules can be tested without @portvakt/core. */
export function signGrant(header: Record<string, unknown>, claims: Record<string, unknown>, privateKeyPem: string, hash = 'sha256'): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign(hash, Buffer.from(input), createPrivateKey(privateKeyPem));
  return `${input}.${signature.toString('base64url')}`;
}

export function baseClaims(issuer: string, clientId: string, scope: string, nowMs = Date.now()): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return { aud: issuer, iss: clientId, iat, exp: iat + 60, jti: randomUUID(), scope };
}

export async function postToken(tokenEndpoint: string, assertion: string, init: { contentType?: string; grantType?: string } = {}) {
  const body = new URLSearchParams({ grant_type: init.grantType ?? 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  const json = (await res.json()) as Record<string, string>;
  return { status: res.status, json, date: res.headers.get('date') };
}
