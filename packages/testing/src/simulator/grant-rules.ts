// The rules Maskinporten applies to a JWT grant (docs/maskinporten-rules.md §2 and §4), in the order a
// client would meet them. Each violation becomes a GrantRejection with Maskinporten's error shape.
import { X509Certificate, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { GrantRejection, reject } from './errors.js';
import type { SimulatorClient, SimulatorConsent, SimulatorRejection } from './types.js';

const ALGORITHMS = new Set(['RS256', 'RS384', 'RS512']);
const GRANT_CLAIMS = new Set(['aud', 'iss', 'iat', 'exp', 'jti', 'scope', 'resource', 'pid', 'consumer_org', 'iss_onbehalfof', 'authorization_details']);
const SYSTEMUSER_FIELDS = new Set(['type', 'systemuser_org', 'externalRef']);
const CONSENT_FIELDS = new Set(['type', 'id', 'from']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CONSENT_FROM = /^urn:altinn:(?:person:identifier-no:\d{11}|organization:identifier-no:\d{9})$/;

export interface GrantContext {
  issuer: string;
  now: number; // ms
  clients: Map<string, SimulatorClient>;
  trustedCas: X509Certificate[];
  seenJti: Set<string>;
  /** Scope -> organisations the API owner granted it (MP-250 for others). */
  scopeAccess?: Record<string, string[]> | undefined;
  /** Whether a key added through the self-service API is still propagating (not yet accepted). */
  isKeyPending?: ((clientId: string, kid: string) => boolean) | undefined;
  /** What a grant signed with a pending key gets; default MP-124, as for an unknown kid. */
  pendingKeyRejection?: SimulatorRejection | undefined;
}

export interface AcceptedGrant {
  client: SimulatorClient;
  clientAmr: 'private_key_jwt' | 'virksomhetssertifikat';
  claims: Record<string, unknown>;
  scopes: string[];
  /** The registered consent the grant named, if any. */
  consent?: SimulatorConsent | undefined;
}

function decodePart(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return value as Record<string, unknown>;
}

/** Decodes header and claims without verifying; undefined when the assertion is not a compact JWS. */
export function decodeGrant(assertion: string): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  try {
    return { header: decodePart(parts[0] as string), claims: decodePart(parts[1] as string) };
  } catch {
    return undefined;
  }
}

/** Organisation number from a SEID 2.0 (organizationIdentifier NTRNO-) or SEID 1.0 (serialNumber) subject. */
export function organizationNumberOf(cert: X509Certificate): string | undefined {
  const lines = cert.subject.split('\n');
  for (const line of lines) {
    const m = /^(?:organizationIdentifier|2\.5\.4\.97)=NTRNO-(\d{9})$/.exec(line);
    if (m) return m[1];
  }
  for (const line of lines) {
    const m = /^serialNumber=(\d{9})$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

function verifyChain(chain: X509Certificate[], trusted: X509Certificate[], now: number): 'ok' | 'untrusted' | 'expired' {
  for (const cert of chain) {
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) return 'expired';
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const parent = chain[i + 1] as X509Certificate;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return 'untrusted';
  }
  const top = chain[chain.length - 1] as X509Certificate;
  const anchored = trusted.some((ca) => ca.fingerprint256 === top.fingerprint256 || (top.checkIssued(ca) && top.verify(ca.publicKey)));
  return anchored ? 'ok' : 'untrusted';
}

function isOrgno(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{9}$/.test(value)) return false;
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(value[i]), 0);
  const rest = 11 - (sum % 11);
  const check = rest === 11 ? 0 : rest;
  return check !== 10 && check === Number(value[8]);
}

async function signingKey(header: Record<string, unknown>, client: SimulatorClient, ctx: GrantContext): Promise<{ key: KeyObject; amr: AcceptedGrant['clientAmr'] }> {
  if (typeof header.kid === 'string') {
    const kid = header.kid;
    // A key written through self-service is unknown to /token until it has propagated
    // (docs/maskinporten-rules.md §4.2). Digdir does not say what such a grant gets: MP-124 here,
    // unless the test asked for another answer.
    const pending = ctx.isKeyPending?.(client.clientId, kid) === true;
    const answer = ctx.pendingKeyRejection;
    if (pending && answer !== undefined) throw new GrantRejection(answer.status, answer.error, answer.code, answer.description ?? `The key "${kid}" is not active yet.`);
    const jwk = pending ? undefined : client.jwks?.find((k) => (k as { kid?: string }).kid === kid);
    if (jwk) {
      // A registered key lives a year; an expired one gives MP-121 (docs/maskinporten-rules.md §3.4).
      const exp = (jwk as { exp?: unknown }).exp;
      if (typeof exp === 'number' && exp * 1000 <= ctx.now) throw reject.auth('MP-121', `Expired key. The key "${header.kid}" registered on the client has expired: upload it again or rotate to a new key.`);
      return { key: createPublicKey({ key: jwk, format: 'jwk' }), amr: 'private_key_jwt' };
    }
    // A certificate registered in self-service is named by its kid (docs/maskinporten-rules.md §10).
    const registered = client.registeredCertificates?.find((c) => c.kid === header.kid);
    if (!registered) throw reject.auth('MP-124', `Unknown key id (kid) "${header.kid}" for client.`);
    const cert = new X509Certificate(registered.certificatePem);
    if (Date.parse(cert.validFrom) > ctx.now || Date.parse(cert.validTo) < ctx.now) throw reject.auth('MP-124', 'The registered certificate is expired or not yet valid.');
    if (organizationNumberOf(cert) !== client.orgno) throw reject.auth('MP-122', "The certificate's organisation number does not match the organisation owning the client.");
    return { key: cert.publicKey, amr: 'virksomhetssertifikat' };
  }
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.some((c) => typeof c !== 'string')) {
    throw reject.grant('MP-123', 'Invalid assertion. JWT validation failed. x5c must be an array of base64 encoded certificates.');
  }
  if (!client.acceptCertificates) throw reject.auth('MP-124', 'Client is not registered for authentication with an enterprise certificate.');
  let chain: X509Certificate[];
  try {
    chain = (x5c as string[]).map((c) => {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(c)) throw new Error('not standard base64');
      return new X509Certificate(Buffer.from(c, 'base64'));
    });
  } catch {
    throw reject.grant('MP-123', 'Invalid assertion. JWT validation failed. x5c contains an invalid certificate.');
  }
  const status = verifyChain(chain, ctx.trustedCas, ctx.now);
  if (status === 'untrusted') throw reject.auth('MP-120', 'Certificate is not issued by a trusted CA for this environment.');
  if (status === 'expired') throw reject.auth('MP-124', 'Certificate is expired or not yet valid.');
  const leaf = chain[0] as X509Certificate;
  if (organizationNumberOf(leaf) !== client.orgno) {
    throw reject.auth('MP-122', "The certificate's organisation number does not match the organisation owning the client.");
  }
  return { key: leaf.publicKey, amr: 'virksomhetssertifikat' };
}

/** Applies every grant rule; resolves with the accepted grant or throws a GrantRejection. */
export async function checkGrant(assertion: string, ctx: GrantContext): Promise<AcceptedGrant> {
  const decoded = decodeGrant(assertion);
  if (!decoded) throw reject.request('MP-011', 'Invalid assertion. Invalid parameter value: not a compact JWS.');
  const { header, claims } = decoded;

  if (typeof header.alg !== 'string' || !ALGORITHMS.has(header.alg)) {
    throw reject.request('MP-011', `Invalid assertion. Unsupported signing algorithm "${String(header.alg)}"; use RS256, RS384 or RS512.`);
  }
  const hasKid = 'kid' in header;
  const hasX5c = 'x5c' in header;
  if (hasKid === hasX5c) throw reject.request('MP-011', 'Invalid assertion. The header must contain exactly one of kid and x5c.');
  // `typ` is undocumented (protocol notes 2.1, Q8), but `JWT` is what most JOSE libraries add
  // (jsonwebtoken always does) and the notes name it as safe; any other value, and any other
  // header parameter, is refused.
  if ('typ' in header && (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT')) {
    throw reject.request('MP-011', `Invalid assertion. Unsupported typ header "${String(header.typ)}"; omit it or use JWT.`);
  }
  const extra = Object.keys(header).filter((k) => k !== 'alg' && k !== 'kid' && k !== 'x5c' && k !== 'typ');
  if (extra.length > 0) throw reject.request('MP-011', `Invalid assertion. Undocumented header parameter: ${extra.join(', ')}.`);
  if (hasKid && typeof header.kid !== 'string') throw reject.request('MP-011', 'Invalid assertion. kid must be a string.');

  const client = typeof claims.iss === 'string' ? ctx.clients.get(claims.iss) : undefined;
  if (!client) throw reject.auth('MP-100', 'Client not found.');

  const { key, amr } = await signingKey(header, client, ctx);
  try {
    await compactVerify(assertion, key, { algorithms: [header.alg] });
  } catch {
    throw reject.auth('MP-124', 'Invalid signature.');
  }

  const unknown = Object.keys(claims).filter((c) => !GRANT_CLAIMS.has(c));
  if (unknown.length > 0) throw reject.grant(undefined, `Invalid assertion. Undocumented claim: ${unknown.join(', ')}.`);

  if (claims.aud !== ctx.issuer) throw reject.auth('MP-110', 'Invalid JWT claim aud.');

  const { iat, exp } = claims;
  if (!Number.isInteger(iat) || !Number.isInteger(exp)) throw reject.auth('MP-130', 'iat and exp must be integer NumericDates.');
  const nowSeconds = ctx.now / 1000;
  if ((iat as number) - nowSeconds > 10) throw reject.auth('MP-130', 'Issue time is after now (iat is more than 10 seconds ahead of our clock).');
  if (nowSeconds - (iat as number) > 10) throw reject.auth('MP-130', 'Issue time is too old (iat is more than 10 seconds behind our clock).');
  if ((exp as number) - (iat as number) > 120) throw reject.auth('MP-130', 'The grant lifetime (exp - iat) must be at most 120 seconds.');
  if ((exp as number) <= nowSeconds) throw reject.auth('MP-130', 'The grant has expired.');

  // jti is "recommended", not required (docs/maskinporten-rules.md §2.2): a grant without one is
  // accepted; one that carries it is never accepted twice.
  if ('jti' in claims) {
    if (typeof claims.jti !== 'string' || claims.jti.length === 0) throw reject.request('MP-011', 'Invalid assertion. jti must be a non-empty string.');
    if (ctx.seenJti.has(claims.jti)) throw reject.grant('MP-012', 'Grant is used before.');
    ctx.seenJti.add(claims.jti);
  }

  if (typeof claims.scope !== 'string' || claims.scope.trim() === '') throw reject.scope('MP-200', 'Missing scope.');
  const scopes = claims.scope.split(' ');
  if (scopes.some((s) => s === '')) throw reject.scope('MP-200', 'scope must be space-separated scope names.');

  if ('resource' in claims) {
    // Digdir's grant page: "currently only array supported" (docs/maskinporten-rules.md §2.2, §10).
    // No MP code is documented for it; invalid_request is the simulator's choice.
    const r = claims.resource;
    if (!Array.isArray(r)) throw reject.request(undefined, 'Invalid resource: currently only array supported.');
    if (r.length === 0 || !r.every((x) => typeof x === 'string' && x.length > 0)) throw reject.request(undefined, 'Invalid resource: a non-empty array of non-empty strings.');
  }

  if ('pid' in claims && (typeof claims.pid !== 'string' || !/^\d{11}$/.test(claims.pid))) {
    throw reject.request(undefined, 'Invalid pid: must be an 11-digit national identity number.');
  }

  if ('iss_onbehalfof' in claims) {
    const onBehalfOf = claims.iss_onbehalfof;
    if (typeof onBehalfOf !== 'string' || onBehalfOf === '') throw reject.request(undefined, 'Invalid iss_onbehalfof: must be a non-empty string.');
    if ('consumer_org' in claims) throw reject.request(undefined, 'iss_onbehalfof and consumer_org cannot be combined.');
    if (client.onBehalfOf && !client.onBehalfOf.includes(onBehalfOf)) throw reject.grant(undefined, `Invalid assertion. Unknown onbehalfof value "${onBehalfOf}" for client.`);
  }

  let allowed = new Set(client.scopes);
  if ('consumer_org' in claims) {
    const consumer = claims.consumer_org;
    if (!isOrgno(consumer)) throw reject.request(undefined, 'Invalid consumer_org: must be a 9-digit organisation number.');
    if (consumer === client.orgno) throw reject.request(undefined, 'The combination consumer_org in claim and delegation scope on client is invalid.');
    const delegated = (client.delegations ?? []).filter((d) => d.consumerOrg === consumer).flatMap((d) => d.scopes);
    const missing = scopes.filter((s) => !delegated.includes(s));
    if (missing.length > 0) throw reject.forbidden('MP-251', `Consumer has not delegated the scope(s) ${missing.join(' ')} to the supplier in Altinn.`);
    allowed = new Set(delegated);
  }
  const notRegistered = scopes.filter((s) => !allowed.has(s));
  if (notRegistered.length > 0) throw reject.scope('MP-200', `Scope(s) not registered on the client: ${notRegistered.join(' ')}.`);
  const wrongType = scopes.filter((s) => client.scopesNotForIntegrationType?.includes(s));
  if (wrongType.length > 0) throw reject.scope('MP-201', `Scope(s) not allowed for this integration type: ${wrongType.join(' ')}.`);
  const consumer = typeof claims.consumer_org === 'string' ? claims.consumer_org : client.orgno;
  const notGranted = scopes.filter((s) => ctx.scopeAccess?.[s] !== undefined && !ctx.scopeAccess[s].includes(consumer));
  if (notGranted.length > 0) throw reject.forbidden('MP-250', `The consumer ${consumer} has not been granted the scope(s) ${notGranted.join(' ')}.`);

  let consent: SimulatorConsent | undefined;
  if ('authorization_details' in claims) consent = checkAuthorizationDetails(claims.authorization_details, client, ctx.now);

  return { client, clientAmr: amr, claims, scopes, consent };
}

function checkAuthorizationDetails(details: unknown, client: SimulatorClient, now: number): SimulatorConsent | undefined {
  if (!Array.isArray(details) || details.length !== 1) throw reject.rar('MP-303', 'authorization_details must be an array with exactly one entry.');
  const entry = details[0] as Record<string, unknown>;
  if (typeof entry !== 'object' || entry === null) throw reject.rar('MP-303', 'authorization_details entries must be objects.');
  if (entry.type === 'urn:altinn:consent') return checkConsent(entry, client, now);
  checkSystemUser(details, client);
  return undefined;
}

function checkConsent(entry: Record<string, unknown>, client: SimulatorClient, now: number): SimulatorConsent {
  const unknown = Object.keys(entry).filter((k) => !CONSENT_FIELDS.has(k));
  if (unknown.length > 0) throw reject.rar('MP-302', `Unknown field(s) in authorization_details: ${unknown.join(', ')}.`);
  if (typeof entry.id !== 'string' || !UUID.test(entry.id)) throw reject.rar('MP-303', 'The consent id must be the consent request\'s UUID.');
  if (typeof entry.from !== 'string' || !CONSENT_FROM.test(entry.from)) throw reject.rar('MP-303', 'The consent from must be an Altinn person or organisation URN.');
  const consent = client.consents?.find((c) => c.id.toLowerCase() === entry.id && c.from === entry.from);
  if (!consent) throw reject.rar('MP-303', 'No consent with this id from this party exists for the client.');
  const validTo = consent.validTo === undefined ? Number.POSITIVE_INFINITY : new Date(consent.validTo).getTime();
  if (validTo <= now) throw reject.rar('MP-303', 'The consent has expired.');
  return consent;
}

function checkSystemUser(details: unknown, client: SimulatorClient): void {
  if (!Array.isArray(details) || details.length !== 1) throw reject.rar('MP-303', 'authorization_details must be an array with exactly one entry.');
  const entry = details[0] as Record<string, unknown>;
  if (typeof entry !== 'object' || entry === null) throw reject.rar('MP-303', 'authorization_details entries must be objects.');
  if (entry.type !== 'urn:altinn:systemuser') throw reject.rar('MP-301', `Unsupported authorization_details type "${String(entry.type)}".`);
  const unknown = Object.keys(entry).filter((k) => !SYSTEMUSER_FIELDS.has(k));
  if (unknown.length > 0) throw reject.rar('MP-302', `Unknown field(s) in authorization_details: ${unknown.join(', ')}.`);
  const org = entry.systemuser_org as Record<string, unknown> | undefined;
  const id = typeof org?.ID === 'string' ? org.ID : '';
  const orgno = id.startsWith('0192:') ? id.slice(5) : '';
  if (!org || org.authority !== 'iso6523-actorid-upis' || !isOrgno(orgno) || Object.keys(org).length !== 2) {
    throw reject.rar('MP-303', 'systemuser_org must be {"authority":"iso6523-actorid-upis","ID":"0192:<orgno>"}.');
  }
  if ('externalRef' in entry && (typeof entry.externalRef !== 'string' || entry.externalRef === '')) {
    throw reject.rar('MP-303', 'externalRef must be a non-empty string.');
  }
  // Without registered system users the simulator accepts any customer; with them, it checks the pair.
  if (!client.systemUsers) return;
  const match = client.systemUsers.find((u) => u.orgno === orgno && (u.externalRef ?? orgno) === (entry.externalRef ?? orgno));
  if (!match) throw reject.rar('MP-303', 'No system user exists for this system, systemuser_org and externalRef.');
}

export { isOrgno };
