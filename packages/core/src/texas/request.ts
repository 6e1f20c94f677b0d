// What a request to NAIS Texas can say (docs/maskinporten-rules.md §11.1): scopes as `target`, one
// `resource`, and `authorization_details` passed on to Maskinporten unread (system users and
// consents). Texas signs the grant itself and has no way to add `consumer_org`, `pid` or
// `iss_onbehalfof`, nor to sign with a certificate: such a request is refused here, before any
// request is sent, with what to use instead.
import { ConfigurationError } from '../errors.js';
import { authorizationDetailsOf } from '../grant/index.js';
import type { NormalizedTokenRequest } from '../grant/index.js';

/** What the app's own client (with the key) is for, the fix named in every refusal. */
const USE_THE_CLIENT = 'createMaskinportenClient() with the app\'s own key (fromEnv() reads it), not NAIS Texas; see docs/nais.md';

/** Why Texas cannot serve each claim it cannot send. */
const CANNOT_SEND: Readonly<Record<'consumerOrg' | 'pid' | 'onBehalfOf', string>> = Object.freeze({
  consumerOrg: `NAIS Texas cannot ask for a token on behalf of a customer (consumer_org, Altinn delegation): it has no such parameter (nais/texas#144). Use ${USE_THE_CLIENT}.`,
  pid: `NAIS Texas cannot ask for a token restricted to one person (pid): it has no such parameter. Use ${USE_THE_CLIENT}.`,
  onBehalfOf: `NAIS Texas cannot send iss_onbehalfof (deprecated by Digdir): it has no such parameter. Use ${USE_THE_CLIENT}, or better Altinn delegation or a system user.`,
});

/** The options of createMaskinportenClient() that mean "sign with this key", which Texas does not take. */
export const SIGNING_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  key: `NAIS Texas signs with the key NAIS holds for the app: give no key. To sign with your own key or an enterprise certificate (x5c), which Texas cannot, use ${USE_THE_CLIENT}.`,
  environment: 'NAIS Texas knows its Maskinporten: give its token endpoint as `endpoint` (NAIS_TOKEN_ENDPOINT) instead.',
  algorithm: `NAIS Texas signs with its own algorithm: give none. To choose it, use ${USE_THE_CLIENT}.`,
  grantLifetime: `NAIS Texas makes its own grants: give no grant lifetime. To choose it, use ${USE_THE_CLIENT}.`,
});

/** A token request in Texas' words: the JSON body, `skip_cache` aside. */
export interface TexasRequestBody {
  readonly identity_provider: 'maskinporten';
  readonly target: string;
  readonly resource?: string;
  readonly authorization_details?: readonly Record<string, unknown>[];
}

/**
 * The body Texas gets for `request`, or a {@link ConfigurationError} naming the claim (prefixed by
 * `fieldPrefix`) when Texas cannot send it.
 */
export function texasRequestBody(request: NormalizedTokenRequest, fieldPrefix = ''): TexasRequestBody {
  for (const claim of ['consumerOrg', 'pid', 'onBehalfOf'] as const) {
    if (request[claim] !== undefined) throw new ConfigurationError(`${fieldPrefix}${claim}`, CANNOT_SEND[claim]);
  }
  const body: { identity_provider: 'maskinporten'; target: string; resource?: string; authorization_details?: Record<string, unknown>[] } = { identity_provider: 'maskinporten', target: request.scope };
  if (request.resource !== undefined) {
    const distinct = [...new Set(request.resource)];
    // Texas takes one resource, a string (nais/texas doc/openapi-spec.json).
    if (distinct.length > 1) throw new ConfigurationError(`${fieldPrefix}resource`, `NAIS Texas takes one resource per token, not ${distinct.length}: ask for one token per audience, or use ${USE_THE_CLIENT}.`);
    body.resource = distinct[0] as string;
  }
  const details = authorizationDetailsOf(request);
  if (details !== undefined) body.authorization_details = details;
  return body;
}
