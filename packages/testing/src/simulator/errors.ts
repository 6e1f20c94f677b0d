import { randomBytes } from 'node:crypto';

/** A Maskinporten-style rejection: HTTP status, OAuth `error` and a description with the MP code. */
export class GrantRejection {
  readonly status: number;
  readonly error: string;
  readonly code: string | undefined;
  readonly description: string;
  constructor(status: number, error: string, code: string | undefined, text: string) {
    this.status = status;
    this.error = error;
    this.code = code;
    const trace = randomBytes(8).toString('hex');
    this.description = `${code ? `${code} ` : ''}${text} (trace_id: ${trace})`;
  }
  toBody() {
    return { error: this.error, error_description: this.description };
  }
}

export const reject = {
  request: (code: string | undefined, text: string) => new GrantRejection(400, 'invalid_request', code, text),
  grant: (code: string | undefined, text: string) => new GrantRejection(400, 'invalid_grant', code, text),
  auth: (code: string, text: string) => new GrantRejection(400, 'invalid_grant', code, `Invalid assertion. Client authentication failed. ${text}`),
  scope: (code: string, text: string) => new GrantRejection(400, 'invalid_scope', code, text),
  forbidden: (code: string, text: string) => new GrantRejection(403, 'access_denied', code, text),
  rar: (code: string, text: string) => new GrantRejection(400, 'invalid_authorization_details', code, text),
};
