// Reading NAIS Texas' answer (docs/maskinporten-rules.md §11.1). A token is read as Maskinporten's
// is. An error keeps Texas' `error` and `error_description`: Texas' own `server_error` and any 5xx
// (Maskinporten unreachable, or its 5xx passed on) are transient and retried; every other OAuth
// error (Maskinporten's `invalid_scope`, `invalid_grant`, `invalid_client` passed on, Texas' own
// `invalid_request`) is a refusal, never retried, with a hint in NAIS' terms.
import { MalformedResponseError, TokenEndpointError } from '../errors.js';
import { MP_CODE_HINTS } from '../mp-codes.js';
import { isTransientStatus, parseJsonObject, readBodyText } from '../shared/index.js';
import { oauthField, parseTokenResponse, refuseRedirect } from '../transport/index.js';
import type { AttemptOutcome } from '../transport/index.js';
import { parseDateHeader } from '../transport/retry.js';

/** The NAIS manifest settings a Maskinporten consumer needs (https://doc.nais.io/auth/maskinporten/how-to/consume/). */
const MANIFEST = 'spec.maskinporten.enabled: true, with the scope listed under spec.maskinporten.scopes.consumes';

/** What to do about a refusal Texas passed on or made, in NAIS' terms. */
export function texasHint(error: string, description: string | undefined, mpCode: string | undefined): string | undefined {
  const text = description ?? '';
  if (/identity provider '[^']*' is not enabled/.test(text)) {
    return `Maskinporten is not enabled for this app in NAIS: set ${MANIFEST}, in the app's NAIS manifest, and deploy it.`;
  }
  if (error === 'invalid_scope') {
    return `The app's Maskinporten client may not ask for this scope: list it under spec.maskinporten.scopes.consumes in the NAIS manifest and deploy (it can take some minutes to reach Maskinporten), and check that the API owner has given your organisation access to it.`;
  }
  if (error === 'invalid_request' && /media type|deserialize|parse/i.test(text)) {
    return 'NAIS Texas could not read the request Portvakt sent: report it to Portvakt with this message.';
  }
  if (error === 'invalid_client') {
    return `Maskinporten did not accept the client NAIS registered for the app: check ${MANIFEST} in the NAIS manifest and redeploy; NAIS holds the key.`;
  }
  return mpCode === undefined ? undefined : MP_CODE_HINTS[mpCode];
}

/** Classifies one answer of Texas; throws MalformedResponseError for a redirect or an unreadable body. */
export async function readTexasOutcome(response: Response): Promise<AttemptOutcome> {
  const { status } = response;
  refuseRedirect(response);
  if (status >= 200 && status <= 299) return { kind: 'success', response: parseTokenResponse(await readBodyText(response), status) };
  const serverDateMs = parseDateHeader(response.headers.get('date'));
  const body = parseJsonObject(await readBodyText(response));
  const error = typeof body?.error === 'string' && body.error !== '' ? oauthField(body.error) : undefined;
  const description = typeof body?.error_description === 'string' ? oauthField(body.error_description) : undefined;
  if (isTransientStatus(status) || error === 'server_error') {
    const detail = error === undefined ? undefined : description === undefined ? error : `${error}: ${description}`;
    return { kind: 'transient', status, retryAfter: response.headers.get('retry-after'), serverDateMs, detail };
  }
  if (error !== undefined) {
    const mpCode = description?.match(/MP-\d{3}/)?.[0];
    const errorUri = typeof body?.error_uri === 'string' ? oauthField(body.error_uri) : undefined;
    return { kind: 'rejected', serverDateMs, error: new TokenEndpointError({ status, error, errorDescription: description, errorUri, via: 'texas', hint: texasHint(error, description, mpCode) }) };
  }
  if (status === 501 || status === 505) return { kind: 'unavailable', status };
  throw new MalformedResponseError(`NAIS Texas answered HTTP ${status} without an OAuth error body (expected JSON with an "error" field).`, status);
}
