// The answers every guard gives, in one table: the Express middleware, the Nest guard and the
// Fastify plugin each mount the routes below on a real app and run every case against it, so the
// three answer alike (status, WWW-Authenticate, problem code and body) by construction. Imported by
// the tests of @portvakt/express, @portvakt/nestjs and @portvakt/fastify.
import { createTokenFactory } from '@portvakt/testing';
import type { MaskinportenTokenClaims, RequestRequirements } from '@portvakt/verify';

export const factory = createTokenFactory();
/** The verifier's environment for every app of the table. */
export const environment = { issuer: factory.issuer, jwks: factory.jwks };

export const CUSTOMER = '910753614';
export const VENDOR = '991825827';
export const OTHER = '974761076';
export const PID = '05848998356';
export const OTHER_PID = '01010199999';
const PERSON = `urn:altinn:person:identifier-no:${PID}`;
const SYSTEM = `${VENDOR}_payroll`;

/** What a route needs of a request in its functions: its path parameters. */
export interface ParamsRequest {
  params: unknown;
}
const param = (request: ParamsRequest, name: string): string | undefined => (request.params as Record<string, string | undefined>)[name];

/**
 * Each route of the table and the requirements its guard declares (beyond the verifier's own,
 * which are none). Paths use `:name` parameters, which Express, Nest and Fastify all read.
 */
export const ROUTES: Readonly<Record<string, RequestRequirements<ParamsRequest>>> = {
  '/plain': {},
  '/scope': { scope: 'nav:write' },
  '/consumers': { consumers: [CUSTOMER] },
  '/audience': { audience: 'https://api.example.no/' },
  '/pid': { pid: true },
  '/persons/:pid': { pid: (request) => param(request, 'pid') },
  '/consent': { consent: { resource: 'ske-inntekt', metadata: { inntektsaar: '2025' } } },
  '/system-user': { systemUser: { systemId: SYSTEM, customers: [CUSTOMER] }, consumers: [VENDOR] },
  '/policy/:orgno': { organizationPolicy: async (claims: MaskinportenTokenClaims, request) => claims.consumerOrg === param(request, 'orgno') },
};

/** The body a route answers with when it lets the request through. */
export const okBody = (claims: MaskinportenTokenClaims | undefined) => ({ consumer: claims?.consumerOrg ?? null, pid: claims?.pid ?? null });

const right = (metadata: Record<string, string>, spelling: 'metadata' | 'metaData' = 'metadata') => ({ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'ske-inntekt' }], [spelling]: metadata });
const consentDetails = (to: string, validTo: string, spelling: 'metadata' | 'metaData' = 'metadata') => [{
  type: 'urn:altinn:consent',
  id: '0a7d59f8-8c62-4312-9fb4-62456664c96f',
  from: PERSON,
  to: { authority: 'iso6523-actorid-upis', ID: `0192:${to}` },
  consented: '2025-11-14T10:48:55.759557+00:00',
  validTo,
  consentRights: [right({ inntektsaar: '2025' }, spelling)],
}];

const invalid = (description: string) => `Bearer error="invalid_token", error_description="${description}"`;
const forbidden = (description: string) => `Bearer error="insufficient_scope", error_description="${description}"`;
const NOT_THE_PERSON = forbidden('The token is not for the person this request is about');
const NO_CONSENT = forbidden('The token carries no valid consent for this resource');
const MALFORMED = invalid('The access token is not a well-formed signed JWT');

/** One request of the table and the answer every framework must give. */
export interface HttpCase {
  readonly name: string;
  readonly path: string;
  /** The Authorization header, or undefined for none. */
  readonly authorization: () => Promise<string | undefined>;
  readonly status: number;
  /** `WWW-Authenticate`, or null for none. */
  readonly challenge: string | null;
  /** The problem body's `code`, or the claims' consumer for a 200. */
  readonly code: string | undefined;
  /** True when the token of a 200 is one more token the verifier then remembers. */
  readonly remembers?: boolean;
}

const bearer = (make: () => Promise<string>) => async () => `Bearer ${await make()}`;
const accepted = (name: string, path: string, make: () => Promise<string>): HttpCase => ({ name, path, authorization: bearer(make), status: 200, challenge: null, code: undefined, remembers: true });
const refused = (name: string, path: string, make: () => Promise<string | undefined> | (() => Promise<string>), status: number, challenge: string, code: string): HttpCase => ({
  name,
  path,
  authorization: make as () => Promise<string | undefined>,
  status,
  challenge,
  code,
});

const mint = factory.mint.bind(factory);

export const CASES: readonly HttpCase[] = [
  refused('no token', '/plain', async () => undefined, 401, 'Bearer', 'token_missing'),
  accepted('a valid token', '/plain', () => mint()),
  refused('an expired token', '/plain', bearer(() => mint({}, { now: Date.now() - 600_000 })), 401, invalid('The access token expired'), 'invalid_token'),
  refused('a token without jti', '/plain', bearer(() => mint({ jti: undefined })), 401, invalid('The token lacks a claim Maskinporten always sets'), 'invalid_token'),
  // One spelling per token: the padded and spaced variants of a valid token (a newline cannot be sent in a header).
  refused('a valid token padded with ==', '/plain', async () => `Bearer ${await mint()}==`, 401, MALFORMED, 'invalid_token'),
  refused('a valid token padded with =', '/plain', async () => `Bearer ${await mint()}=`, 401, MALFORMED, 'invalid_token'),
  refused('a valid token with a space inside', '/plain', async () => {
    const token = await mint();
    return `Bearer ${token.slice(0, 200)} ${token.slice(200)}`;
  }, 401, MALFORMED, 'invalid_token'),
  refused('a valid token with a tab inside', '/plain', async () => {
    const token = await mint();
    return `Bearer ${token.slice(0, 200)}\t${token.slice(200)}`;
  }, 401, MALFORMED, 'invalid_token'),
  accepted('the scope required', '/scope', () => mint({ scope: 'nav:read nav:write' })),
  refused('a missing scope', '/scope', bearer(() => mint({ scope: 'nav:read' })), 403, forbidden('The access token lacks a required scope", scope="nav:write'), 'insufficient_scope'),
  accepted('a consumer served', '/consumers', () => mint({ consumerOrgno: CUSTOMER })),
  refused('a consumer not served', '/consumers', bearer(() => mint({ consumerOrgno: OTHER })), 403, forbidden('The consumer organisation is not allowed'), 'organization_not_allowed'),
  accepted('the audience', '/audience', () => mint({ audience: 'https://api.example.no/' })),
  refused('aud "unspecified" (no audience)', '/audience', bearer(() => mint({ audience: 'unspecified' })), 401, invalid('The token is not meant for this API'), 'invalid_token'),
  accepted('a pid-restricted token', '/pid', () => mint({ pid: PID })),
  refused('no pid where one is required', '/pid', bearer(() => mint()), 403, NOT_THE_PERSON, 'person_not_allowed'),
  accepted('the person in the path', `/persons/${PID}`, () => mint({ pid: PID })),
  refused('another person than the one in the path', `/persons/${OTHER_PID}`, bearer(() => mint({ pid: PID })), 403, NOT_THE_PERSON, 'person_not_allowed'),
  refused('no pid where the path names a person', `/persons/${PID}`, bearer(() => mint()), 403, NOT_THE_PERSON, 'person_not_allowed'),
  accepted('a consent to the consumer, with its metadata', '/consent', () => mint({ consumerOrgno: CUSTOMER, authorization_details: consentDetails(CUSTOMER, '2099-01-01T00:00:00Z') })),
  accepted('a consent whose metadata is spelt metaData', '/consent', () => mint({ consumerOrgno: CUSTOMER, authorization_details: consentDetails(CUSTOMER, '2099-01-01T00:00:00Z', 'metaData') })),
  refused('a consent to another organisation', '/consent', bearer(() => mint({ consumerOrgno: CUSTOMER, authorization_details: consentDetails(OTHER, '2099-01-01T00:00:00Z') })), 403, NO_CONSENT, 'consent_missing'),
  refused('an expired consent', '/consent', bearer(() => mint({ consumerOrgno: CUSTOMER, authorization_details: consentDetails(CUSTOMER, '2024-01-01T00:00:00Z') })), 401, invalid('The consent in the token has expired'), 'invalid_token'),
  refused('a consent validTo that is no date-time ("99999")', '/consent', bearer(() => mint({ consumerOrgno: CUSTOMER, authorization_details: consentDetails(CUSTOMER, '99999') })), 401, invalid('The token has a claim of the wrong type'), 'invalid_token'),
  refused('no consent', '/consent', bearer(() => mint({ consumerOrgno: CUSTOMER })), 403, NO_CONSENT, 'consent_missing'),
  accepted('a system user of the system, for the customer', '/system-user', () => mint({ consumerOrgno: VENDOR, systemUser: { orgno: CUSTOMER, systemId: SYSTEM } })),
  refused('a system user for another customer', '/system-user', bearer(() => mint({ consumerOrgno: VENDOR, systemUser: { orgno: OTHER, systemId: SYSTEM } })), 403, forbidden('The token has no system user allowed here'), 'system_user_not_allowed'),
  refused('no system user', '/system-user', bearer(() => mint({ consumerOrgno: VENDOR })), 403, forbidden('The token has no system user allowed here'), 'system_user_not_allowed'),
  accepted('the organisation policy says yes', `/policy/${CUSTOMER}`, () => mint({ consumerOrgno: CUSTOMER })),
  refused('the organisation policy says no', `/policy/${OTHER}`, bearer(() => mint({ consumerOrgno: CUSTOMER })), 403, forbidden('The consumer organisation is not allowed'), 'organization_not_allowed'),
];

/** How many distinct tokens the table's accepted cases leave remembered (every other token was refused). */
export const REMEMBERED_AFTER_CASES = CASES.filter((c) => c.remembers === true).length;

/** An answer as the tests compare it. */
export interface HttpAnswer {
  status: number;
  challenge: string | null;
  body: Record<string, unknown>;
}

/** Sends one case to `origin` and reads the answer. */
export async function send(origin: string, c: HttpCase): Promise<HttpAnswer> {
  const authorization = await c.authorization();
  const res = await fetch(`${origin}${c.path}`, { headers: authorization === undefined ? {} : { authorization } });
  const text = await res.text();
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** The answer a case must get: the status, the challenge, and the problem body (or a 200's body). */
export function expectedAnswer(c: HttpCase): HttpAnswer {
  if (c.status === 200) return { status: 200, challenge: null, body: expectedOkBody(c) };
  const code = c.code as string;
  // An invalid token's detail is the sentence of its challenge's error_description.
  const detail = code === 'invalid_token' ? `${/error_description="([^"]+)"/.exec(c.challenge ?? '')?.[1]}.` : DETAILS[code];
  return { status: c.status, challenge: c.challenge, body: { type: 'about:blank', title: c.status === 401 ? 'Unauthorized' : 'Forbidden', status: c.status, detail, code } };
}

function expectedOkBody(c: HttpCase): Record<string, unknown> {
  if (c.path.startsWith('/persons') || c.path === '/pid') return { consumer: VENDOR, pid: PID };
  if (c.path === '/consent' || c.path === '/consumers' || c.path.startsWith('/policy')) return { consumer: CUSTOMER, pid: null };
  return { consumer: VENDOR, pid: null };
}

const DETAILS: Readonly<Record<string, string>> = {
  token_missing: 'A Maskinporten access token is required: send Authorization: Bearer <token>.',
  insufficient_scope: 'The access token lacks a required scope (nav:write).',
  organization_not_allowed: "The token's consumer organisation may not use this API.",
  person_not_allowed: 'The access token is not for the person this request is about.',
  consent_missing: 'The access token carries no valid consent, given to its consumer, for this resource.',
  system_user_not_allowed: 'The access token has no Altinn system user allowed here.',
};
