// Digdir's self-service API for a client's key set (docs/maskinporten-rules.md §1.4, §4.2 and §4.3), as the
// simulator serves it: GET /clients/{client_id}/jwks reads the set, POST or PUT replaces the whole
// set. The caller is an admin client: a Maskinporten token from this simulator whose scope holds
// idporten:dcr.modify (idporten:dcr.read is enough to read), for a client its organisation owns.
// A key added by a write is accepted at /token only after the propagation delay (Digdir: 0-2
// minutes), measured on the simulator's clock.
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import type { SimulatorClient } from './types.js';

export const SELF_SERVICE_PATH = /^\/clients\/([^/]+)\/jwks$/;
export const SELF_SERVICE_MODIFY_SCOPE = 'idporten:dcr.modify';
const READ_SCOPES = new Set(['idporten:dcr.read', 'idporten:dcr.modify', 'idporten:dcr.write']);
/** Digdir's limits on a client's key set (docs/maskinporten-rules.md §4.2). */
const MAX_KEYS = 5;
/** A key lives at most a year from when it was posted (docs/maskinporten-rules.md §4.2). */
const KEY_LIFETIME_SECONDS = 365 * 86_400;
const MIN_BITS = 2048;
const KID = /^[A-Za-z0-9._-]{1,200}$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KNOWN_MEMBERS = new Set(['kty', 'alg', 'use', 'kid', 'e', 'n', 'x5c', 'x5t', 'x5t#S256', 'exp', 'iat', 'key_ops']);

export interface SelfServiceAnswer {
  status: number;
  body: unknown;
}

export interface SelfService {
  /** Answers one request to /clients/{id}/jwks. */
  handle(method: string, clientId: string, authorization: string | undefined, body: string): Promise<SelfServiceAnswer>;
  /** Whether a grant signed with this client's key `kid` must still be refused: the key is not yet propagated. */
  isPending(clientId: string, kid: string): boolean;
}

interface Parts {
  now: () => number;
  issuer: () => string;
  /** The keys the simulator signs its access tokens with. */
  publishedKeys: () => JsonWebKey[];
  clients: Map<string, SimulatorClient>;
  propagationMs: number;
}

function problem(status: number, error: string, description: string): SelfServiceAnswer {
  return { status, body: { error, error_description: description } };
}

/** Checks one JWK against Digdir's rules; the message names the rule. */
function checkKey(value: unknown, index: number, nowSeconds: number): string | undefined {
  const at = `keys[${index}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${at} must be a JWK object.`;
  const jwk = value as Record<string, unknown>;
  const secret = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (secret.length > 0) return `${at} carries private key members (${secret.join(', ')}): upload only the public key.`;
  if (jwk.kty !== 'RSA') return `${at}: only RSA keys are accepted (kty "RSA").`;
  if (typeof jwk.kid !== 'string' || !KID.test(jwk.kid)) return `${at}: kid is required (letters, digits, ".", "_" and "-").`;
  if (jwk.alg !== 'RS256') return `${at}: alg must be RS256.`;
  // Digdir: every key is sent with kty, alg, use, e and n (docs/maskinporten-rules.md §4.2).
  if (jwk.use !== 'sig') return `${at}: use is required and must be "sig" (send kty, alg, use, e and n).`;
  if (jwk.exp !== undefined) {
    if (!Number.isInteger(jwk.exp)) return `${at}: exp must be a NumericDate (whole seconds).`;
    if ((jwk.exp as number) > nowSeconds + KEY_LIFETIME_SECONDS) return `${at}: exp may be at most one year from now.`;
  }
  const unknown = Object.keys(jwk).filter((m) => !KNOWN_MEMBERS.has(m));
  if (unknown.length > 0) return `${at}: unknown member(s) ${unknown.join(', ')}.`;
  if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return `${at}: n and e are required.`;
  try {
    const bits = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' }).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_BITS) return `${at}: the key is ${bits} bits; at least ${MIN_BITS} are required.`;
  } catch {
    return `${at}: n and e are not a valid RSA public key.`;
  }
  return undefined;
}

/** Reads and checks a JWK set body; the keys, or the rule it breaks. */
export function parseKeySet(body: string, nowMs: number): JsonWebKey[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'The body must be a JSON JWK set: {"keys":[...]}.';
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return 'The body must be a JSON JWK set: {"keys":[...]}.';
  if (keys.length === 0) return 'The set must hold at least one key.';
  if (keys.length > MAX_KEYS) return `A client may have at most ${MAX_KEYS} keys; this set has ${keys.length}.`;
  for (let i = 0; i < keys.length; i++) {
    const problemText = checkKey(keys[i], i, Math.floor(nowMs / 1000));
    if (problemText !== undefined) return problemText;
  }
  const kids = keys.map((k) => (k as { kid: string }).kid);
  const duplicate = kids.find((kid, i) => kids.indexOf(kid) !== i);
  if (duplicate !== undefined) return `The kid "${duplicate}" appears more than once: each kid must be unique.`;
  return keys as JsonWebKey[];
}

export function createSelfService(parts: Parts): SelfService {
  // clientId -> kid -> when the key becomes usable at /token (simulator clock).
  const activation = new Map<string, Map<string, number>>();

  async function admin(authorization: string | undefined): Promise<{ scopes: Set<string>; orgno: string | undefined } | undefined> {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '');
    if (!match) return undefined;
    try {
      const { payload } = await jwtVerify(match[1] as string, createLocalJWKSet({ keys: parts.publishedKeys() } as JSONWebKeySet), {
        issuer: parts.issuer(),
        algorithms: ['RS256'],
        currentDate: new Date(parts.now()),
      });
      const consumer = payload.consumer as { ID?: unknown } | undefined;
      const orgno = typeof consumer?.ID === 'string' ? consumer.ID.replace(/^0192:/, '') : undefined;
      return { scopes: new Set(typeof payload.scope === 'string' ? payload.scope.split(' ') : []), orgno };
    } catch {
      return undefined;
    }
  }

  return {
    async handle(method, clientId, authorization, body) {
      const caller = await admin(authorization);
      if (!caller) return problem(401, 'invalid_token', 'A Maskinporten access token (Bearer) from this issuer is required.');
      const write = method === 'POST' || method === 'PUT';
      if (!write && method !== 'GET') return problem(405, 'method_not_allowed', 'Use GET to read the key set, POST or PUT to replace it.');
      const allowed = write ? caller.scopes.has(SELF_SERVICE_MODIFY_SCOPE) : [...caller.scopes].some((s) => READ_SCOPES.has(s));
      if (!allowed) return problem(403, 'insufficient_scope', `The token needs the scope ${write ? SELF_SERVICE_MODIFY_SCOPE : 'idporten:dcr.read'}.`);
      const client = parts.clients.get(clientId);
      // Another organisation's client is reported as missing, as a registry does not confirm it exists.
      if (!client || client.orgno !== caller.orgno) return problem(404, 'not_found', `No client "${clientId}" owned by the caller's organisation.`);
      if (!write) return { status: 200, body: { keys: client.jwks ?? [] } };

      const keys = parseKeySet(body, parts.now());
      if (typeof keys === 'string') return problem(400, 'invalid_request', keys);
      // Each key written lives a year from now unless it names an earlier exp, and posting a key
      // again without exp restarts its year (docs/maskinporten-rules.md §4.2, §4.4). MP-121 at
      // /token after that (grant-rules.ts).
      const expires = Math.floor(parts.now() / 1000) + KEY_LIFETIME_SECONDS;
      const before = new Set((client.jwks ?? []).map((k) => (k as { kid?: string }).kid));
      const times = activation.get(clientId) ?? new Map<string, number>();
      const at = parts.now() + parts.propagationMs;
      for (const key of keys) {
        const kid = (key as { kid: string }).kid;
        if (!before.has(kid) && parts.propagationMs > 0) times.set(kid, at);
      }
      // A dropped key forgets its pending time, so adding it back waits again.
      for (const kid of times.keys()) if (!keys.some((k) => (k as { kid: string }).kid === kid)) times.delete(kid);
      activation.set(clientId, times);
      // The whole set is replaced; the caller's objects are never changed.
      const stored = keys.map((k) => ({ ...k, exp: (k as { exp?: number }).exp ?? expires }));
      parts.clients.set(clientId, { ...client, jwks: stored });
      return { status: 200, body: { keys: stored.map((k) => ({ ...k })) } };
    },
    isPending(clientId, kid) {
      const at = activation.get(clientId)?.get(kid);
      return at !== undefined && parts.now() < at;
    },
  };
}
