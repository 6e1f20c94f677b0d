// Reading a request to the Texas stand-in as nais/texas reads it (src/handler.rs, JsonOrForm and
// src/oauth/identity_provider.rs): JSON or a form, by the Content-Type prefix; anything else, and
// a body that does not fit the request type, is Texas' own 400 invalid_request.

/** An answer of the stand-in: a status and a JSON body. */
export interface TexasAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The identity providers Texas knows, with the name it prints for each (`azuread` is an alias). */
const PROVIDERS: Readonly<Record<string, string>> = { entra_id: 'entra_id', azuread: 'entra_id', tokenx: 'tokenx', maskinporten: 'maskinporten', idporten: 'idporten' };
const PROVIDER_LIST = '`entra_id`, `azuread`, `tokenx`, `maskinporten`, `idporten`';

/** A token request as Texas has it after reading the body. */
export interface TexasTokenRequest {
  identity_provider: string;
  target: string;
  resource?: string;
  authorization_details?: Record<string, unknown>[];
  skip_cache?: boolean;
}

/** An introspection request as Texas has it after reading the body. */
export interface TexasIntrospectRequest {
  identity_provider: string;
  token: string;
}

/** Texas' own error answer (RFC 6749 §5.2 shape). */
export function texasError(status: number, error: string, description: string): TexasAnswer {
  return { status, body: { error, error_description: description } };
}

class BodyRejection extends Error {}

type Shape = 'json' | 'form';

function readRecord(contentType: string | undefined, raw: string): { shape: Shape; record: Record<string, unknown> } | TexasAnswer {
  const type = contentType ?? '';
  if (type.startsWith('application/json')) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return texasError(400, 'invalid_request', `Failed to parse the request body as JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return texasError(400, 'invalid_request', 'Failed to deserialize the JSON body into the target type: invalid type: expected a struct');
    }
    return { shape: 'json', record: value as Record<string, unknown> };
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return { shape: 'form', record: Object.fromEntries(new URLSearchParams(raw)) };
  }
  return texasError(400, 'invalid_request', `unsupported media type: ${type}: expected one of \`application/json\`, \`application/x-www-form-urlencoded\``);
}

function rejectionOf(shape: Shape, message: string): TexasAnswer {
  return texasError(400, 'invalid_request', shape === 'json' ? `Failed to deserialize the JSON body into the target type: ${message}` : `Failed to deserialize form body: ${message}`);
}

function requiredString(record: Record<string, unknown>, name: string): string {
  const value = record[name];
  if (value === undefined) throw new BodyRejection(`missing field \`${name}\``);
  if (typeof value !== 'string') throw new BodyRejection(`${name}: invalid type: expected a string`);
  return value;
}

function provider(record: Record<string, unknown>): string {
  const value = requiredString(record, 'identity_provider');
  if (PROVIDERS[value] === undefined) throw new BodyRejection(`identity_provider: unknown variant \`${value}\`, expected one of ${PROVIDER_LIST}`);
  return PROVIDERS[value];
}

/** `authorization_details`: a JSON array of objects, or a string holding one (the only form a form body has). */
function authorizationDetails(value: unknown): Record<string, unknown>[] | undefined {
  if (value === undefined || value === null) return undefined;
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch (error) {
      throw new BodyRejection(`authorization_details: failed to parse authorization_details JSON string: ${(error as Error).message}`);
    }
  }
  if (!Array.isArray(list) || list.some((entry) => typeof entry !== 'object' || entry === null || Array.isArray(entry))) {
    throw new BodyRejection('authorization_details: data did not match any variant of untagged enum RequestValue');
  }
  return list as Record<string, unknown>[];
}

function skipCache(shape: Shape, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (shape === 'form' && (value === 'true' || value === 'false')) return value === 'true';
  throw new BodyRejection('skip_cache: invalid type: expected a boolean');
}

/** Reads a `POST /api/v1/token` body, or answers with Texas' 400. */
export function readTokenRequest(contentType: string | undefined, raw: string): TexasTokenRequest | TexasAnswer {
  const read = readRecord(contentType, raw);
  if ('status' in read) return read;
  const { shape, record } = read;
  try {
    const request: TexasTokenRequest = { target: requiredString(record, 'target'), identity_provider: provider(record) };
    const resource = record.resource;
    if (resource !== undefined && resource !== null) {
      if (typeof resource !== 'string') throw new BodyRejection('resource: invalid type: expected a string');
      request.resource = resource;
    }
    const details = authorizationDetails(record.authorization_details);
    if (details !== undefined) request.authorization_details = details;
    const skip = skipCache(shape, record.skip_cache);
    if (skip !== undefined) request.skip_cache = skip;
    return request;
  } catch (error) {
    if (error instanceof BodyRejection) return rejectionOf(shape, error.message);
    throw error;
  }
}

/** Reads a `POST /api/v1/introspect` body, or answers with Texas' 400. */
export function readIntrospectRequest(contentType: string | undefined, raw: string): TexasIntrospectRequest | TexasAnswer {
  const read = readRecord(contentType, raw);
  if ('status' in read) return read;
  const { shape, record } = read;
  try {
    return { token: requiredString(record, 'token'), identity_provider: provider(record) };
  } catch (error) {
    if (error instanceof BodyRejection) return rejectionOf(shape, error.message);
    throw error;
  }
}

/** Reads a `POST /api/v1/token/exchange` body (`target`, `identity_provider`, `user_token`), or answers with Texas' 400. */
export function readExchangeRequest(contentType: string | undefined, raw: string): { identity_provider: string } | TexasAnswer {
  const read = readRecord(contentType, raw);
  if ('status' in read) return read;
  const { shape, record } = read;
  try {
    requiredString(record, 'target');
    const identityProvider = provider(record);
    requiredString(record, 'user_token');
    skipCache(shape, record.skip_cache);
    return { identity_provider: identityProvider };
  } catch (error) {
    if (error instanceof BodyRejection) return rejectionOf(shape, error.message);
    throw error;
  }
}

/** A value as JSON with object members sorted, so equal requests give equal keys whatever the member order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
