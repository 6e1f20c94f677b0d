// The simulator to the letter of Digdir's pages (docs/maskinporten-rules.md): each rule with a test
// that it refuses the violation and one that it accepts the valid form.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, generateClientKey, startMaskinportenSimulator } from '@portvakt/testing';
import type { MaskinportenSimulator, SimulatorOptions } from '@portvakt/testing';
import { baseClaims, postToken, signGrant } from './helpers.js';

const ORG = '991825827';
const admin = generateClientKey({ kid: 'admin-key' });
const app = generateClientKey({ kid: 'app-key-1' });
const next = generateClientKey({ kid: 'app-key-2' });
const YEAR_MS = 365 * 86_400_000;
const clock = createManualClock(Date.UTC(2026, 10, 30, 12, 0, 0));
// Two simulators for the whole file (a start makes RSA keys, which is what costs): the default
// one, and one with the options some rules need. Each test starts with the clients as they were.
let sim: MaskinportenSimulator;
let special: MaskinportenSimulator;
const clients = () => [
  { clientId: 'admin', orgno: ORG, scopes: ['idporten:dcr.modify'], jwks: [admin.publicJwk] },
  { clientId: 'app', orgno: ORG, scopes: ['demo:x'], jwks: [app.publicJwk] },
];
const specialOptions: SimulatorOptions = {
  audienceWithoutResource: 'unspecified',
  selfServicePropagationMs: 60_000,
  selfServicePendingRejection: { status: 401, error: 'invalid_client', code: 'MP-999', description: 'Key not active.' },
};

beforeAll(async () => {
  [sim, special] = await Promise.all([startMaskinportenSimulator({ clock, clients: clients() }), startMaskinportenSimulator({ clock, clients: clients(), ...specialOptions })]);
});
afterAll(async () => {
  await Promise.all([sim?.close(), special?.close()]);
});
beforeEach(() => {
  for (const client of clients()) {
    sim.addClient(client);
    special.addClient(client);
  }
});

const grant = (s: MaskinportenSimulator, claims: Record<string, unknown> = {}, key = app, clientId = 'app', scope = 'demo:x') =>
  signGrant({ alg: 'RS256', kid: key.kid }, { ...baseClaims(s.issuer, clientId, scope, clock.now()), ...claims }, key.privateKeyPem);

async function writeKeys(s: MaskinportenSimulator, keys: unknown[]): Promise<{ status: number; json: { keys?: Record<string, unknown>[]; error_description?: string } }> {
  const token = (await postToken(s.tokenEndpoint, grant(s, {}, admin, 'admin', 'idporten:dcr.modify'))).json.access_token as string;
  const res = await fetch(`${s.selfServiceUrl}/clients/app/jwks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ keys }),
  });
  return { status: res.status, json: (await res.json()) as { keys?: Record<string, unknown>[]; error_description?: string } };
}

describe('jti is "recommended" (jwtgrant)', () => {
  it('accepts a grant without jti', async () => {
    const s = sim;
    const { jti: _jti, ...claims } = baseClaims(s.issuer, 'app', 'demo:x', clock.now());
    const res = await postToken(s.tokenEndpoint, signGrant({ alg: 'RS256', kid: app.kid }, claims, app.privateKeyPem));
    expect(res.status).toBe(200);
  });

  it('still refuses a grant whose jti was used before (MP-012)', async () => {
    const s = sim;
    const once = grant(s);
    expect((await postToken(s.tokenEndpoint, once)).status).toBe(200);
    const again = await postToken(s.tokenEndpoint, once);
    expect(again.status).toBe(400);
    expect(again.json.error_description).toMatch(/^MP-012 Grant is used before/);
  });
});

describe('resource: "currently only array supported" (jwtgrant)', () => {
  it('refuses resource as a string, with Digdir\'s words', async () => {
    const s = sim;
    const res = await postToken(s.tokenEndpoint, grant(s, { resource: 'https://api.example.no' }));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_request');
    expect(res.json.error_description).toMatch(/currently only array supported/);
  });

  it('accepts resource as an array and puts it in the token', async () => {
    const s = sim;
    const res = await postToken(s.tokenEndpoint, grant(s, { resource: ['https://api.example.no'] }));
    expect(res.status).toBe(200);
    expect(decodeJwt(res.json.access_token as string).aud).toEqual(['https://api.example.no']);
  });
});

describe('self-service: a key must carry use (admin API: kty, alg, use, e, n)', () => {
  it('refuses a key without use, and leaves the set as it was', async () => {
    const s = sim;
    const { use: _use, ...withoutUse } = next.publicJwk;
    const res = await writeKeys(s, [app.publicJwk, withoutUse]);
    expect(res.status).toBe(400);
    expect(res.json.error_description).toMatch(/keys\[1\]: use is required and must be "sig"/);
    expect((await postToken(s.tokenEndpoint, grant(s, {}, next))).json.error_description).toMatch(/^MP-124 /);
  });

  it('accepts the same key with use: "sig"', async () => {
    const s = sim;
    expect((await writeKeys(s, [app.publicJwk, next.publicJwk])).status).toBe(200);
    expect((await postToken(s.tokenEndpoint, grant(s, {}, next))).status).toBe(200);
  });
});

describe('self-service: at most 5 keys (admin API)', () => {
  const keys = [1, 2, 3, 4, 5, 6].map((i) => ({ ...app.publicJwk, kid: `k${i}` }));

  it('refuses a sixth key', async () => {
    const s = sim;
    const res = await writeKeys(s, keys);
    expect(res.status).toBe(400);
    expect(res.json.error_description).toMatch(/at most 5 keys/);
  });

  it('accepts five', async () => {
    const s = sim;
    expect((await writeKeys(s, keys.slice(0, 5))).status).toBe(200);
  });
});

describe('self-service: a key lives a year from when it was posted (client registration, MP-121)', () => {
  it('refuses the key with MP-121 "Expired key" a year after it was posted, on the simulator\'s clock', async () => {
    const s = sim;
    const written = await writeKeys(s, [app.publicJwk, next.publicJwk]);
    expect(written.json.keys?.map((k) => k.exp)).toEqual([Math.floor((clock.now() + YEAR_MS) / 1000), Math.floor((clock.now() + YEAR_MS) / 1000)]);
    const posted = clock.now();
    try {
      clock.set(posted + YEAR_MS);
      const res = await postToken(s.tokenEndpoint, grant(s, {}, next));
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('invalid_grant');
      expect(res.json.error_description).toMatch(/^MP-121 .*Expired key/);
    } finally {
      clock.set(posted);
    }
  });

  it('accepts it until then, and a key posted again starts a new year', async () => {
    const s = sim;
    await writeKeys(s, [app.publicJwk, next.publicJwk]);
    const posted = clock.now();
    try {
      clock.set(posted + YEAR_MS - 2_000);
      expect((await postToken(s.tokenEndpoint, grant(s, {}, next))).status).toBe(200);
      // Posted again without exp: a year from now.
      await writeKeys(s, [next.publicJwk]);
      clock.set(posted + YEAR_MS + 60_000);
      expect((await postToken(s.tokenEndpoint, grant(s, {}, next))).status).toBe(200);
      // An exp further than a year ahead is refused.
      const far = await writeKeys(s, [{ ...next.publicJwk, exp: Math.floor(clock.now() / 1000) + 366 * 86_400 }]);
      expect(far.status).toBe(400);
      expect(far.json.error_description).toMatch(/at most one year/);
    } finally {
      clock.set(posted);
    }
  });
});

describe('the key set Maskinporten publishes carries x5c (wellknown)', () => {
  it('publishes a certificate for each signing key, for that very key, before and after a rotation', async () => {
    const s = sim;
    await s.rotateSigningKey();
    const { keys } = (await (await fetch(s.jwksUri)).json()) as { keys: { kid: string; n: string; e: string; x5c?: string[] }[] };
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key.x5c).toHaveLength(1);
      const certificate = new X509Certificate(Buffer.from(key.x5c?.[0] ?? '', 'base64'));
      expect(certificate.publicKey.export({ format: 'jwk' })).toMatchObject({ n: key.n, e: key.e });
      expect(certificate.verify(createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }))).toBe(true);
    }
  });
});

describe('aud without resource (audience-restricted tokens)', () => {
  it('leaves aud out by default, as Digdir\'s recent examples do', async () => {
    const s = sim;
    const res = await postToken(s.tokenEndpoint, grant(s));
    expect(decodeJwt(res.json.access_token as string).aud).toBeUndefined();
  });

  it('writes aud "unspecified" when asked to, as the audience page documents, and the resource when one is asked for', async () => {
    const s = special;
    expect(decodeJwt((await postToken(s.tokenEndpoint, grant(s))).json.access_token as string).aud).toBe('unspecified');
    expect(decodeJwt((await postToken(s.tokenEndpoint, grant(s, { resource: ['https://api.example.no'] }))).json.access_token as string).aud).toEqual(['https://api.example.no']);
    await expect(startMaskinportenSimulator({ audienceWithoutResource: 'sometimes' as 'absent' })).rejects.toThrow(/audienceWithoutResource/);
  });
});

describe('a key written through self-service before it reaches /token', () => {
  it('is answered with MP-124 by default, and with the answer a test asks for', async () => {
    const s = special;
    await writeKeys(s, [app.publicJwk, next.publicJwk]);
    const pending = await postToken(s.tokenEndpoint, grant(s, {}, next));
    expect(pending.status).toBe(401);
    expect(pending.json).toMatchObject({ error: 'invalid_client' });
    expect(pending.json.error_description).toMatch(/^MP-999 Key not active\./);
    const posted = clock.now();
    try {
      clock.set(posted + 60_000);
      expect((await postToken(s.tokenEndpoint, grant(s, {}, next))).status).toBe(200);
    } finally {
      clock.set(posted);
    }
  });
});
