// A local AWS STS for Skyporten tests: AssumeRoleWithWebIdentity as an IAM OIDC provider and a
// role's trust policy decide it (docs/maskinporten-rules.md §11.4), and GetCallerIdentity, signed
// with the credentials it issued, so a test can show that an AWS SDK client really uses them.
// It speaks STS's query protocol (a form POST, an XML answer) and its error codes.
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { checkIdentityToken, peekClaims, readRequestBody } from './identity-token.js';

/**
 * An IAM OIDC identity provider: the issuer it stands for and its client ids (audiences).
 * @example
 * ```ts
 * const provider: AwsOidcProvider = { issuer: sky.issuer, clientIds: ['https://skyporten.example.no'] };
 * ```
 */
export interface AwsOidcProvider {
  /** The issuer, exactly as tokens carry it in `iss`. */
  issuer: string;
  /** The audiences the provider accepts (IAM's `ClientIDList`). */
  clientIds: string[];
}

/**
 * A role whose trust policy allows `sts:AssumeRoleWithWebIdentity` from a provider, on the
 * condition `"<provider>:sub"` equals one of `subjects`.
 * @example
 * ```ts
 * const role: AwsWebIdentityRole = { name: 'skyporten-role', issuer: sky.issuer, subjects: ['0192:991825827;entur:skyporten.demo'] };
 * ```
 */
export interface AwsWebIdentityRole {
  name: string;
  issuer: string;
  subjects: string[];
  /** The longest session, in seconds (IAM's MaxSessionDuration); default 3600. */
  maxSessionDuration?: number;
}

/**
 * Options of {@link startAwsStsStandIn}.
 * @example
 * ```ts
 * const options: AwsStsStandInOptions = { providers: [provider], roles: [role] };
 * ```
 */
export interface AwsStsStandInOptions {
  /** The account id in role ARNs; default `123456789012`. */
  account?: string;
  providers: AwsOidcProvider[];
  roles: AwsWebIdentityRole[];
  /** Epoch ms for token checks and `Expiration`; default `Date.now`. */
  now?: () => number;
}

/**
 * One `AssumeRoleWithWebIdentity` the stand-in answered.
 * @example
 * ```ts
 * const last: AwsAssumeRoleRecord | undefined = sts.assumeRoleRequests.at(-1);
 * ```
 */
export interface AwsAssumeRoleRecord {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  /** The token's `jti`, so a test can tell one token from the next. */
  tokenId: string | undefined;
  /** HTTP status and, for a refusal, STS's error code. */
  status: number;
  errorCode?: string;
}

/**
 * A running AWS STS stand-in. Point an SDK client at it with `endpoint: sts.url`.
 * @example
 * ```ts
 * const sts: AwsStsStandIn = await startAwsStsStandIn({ providers, roles });
 * new STSClient({ region: 'eu-north-1', endpoint: sts.url });
 * ```
 */
export interface AwsStsStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `arn:aws:iam::<account>:role/<name>` */
  roleArn(name: string): string;
  readonly assumeRoleRequests: ReadonlyArray<AwsAssumeRoleRecord>;
  /** Signed calls (GetCallerIdentity) that carried credentials it issued, valid at the time. */
  authenticatedCallCount(): number;
  close(): Promise<void>;
}

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

class StsRefusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  constructor(status: number, code: string, message: string) {
    this.status = status;
    this.code = code;
    this.message = message;
  }
}

function keyId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return prefix + Array.from(randomBytes(16), (b) => alphabet[b % 32]).join('');
}

/**
 * Starts a local AWS STS on 127.0.0.1 that answers `AssumeRoleWithWebIdentity` as IAM would for
 * the configured OIDC providers and roles, checking the token's signature against the issuer's
 * published keys, its `aud` against the provider's client ids (`InvalidIdentityToken: Incorrect
 * token audience`), its `sub` against the role's trust (`AccessDenied`) and its expiry
 * (`ExpiredTokenException`), and `GetCallerIdentity` for the credentials it issued.
 *
 * @example
 * ```ts
 * import { startAwsStsStandIn, startMaskinportenSimulator } from '@portvakt/testing';
 * const sky = await startMaskinportenSimulator({ skyporten: true, clients });
 * const sts = await startAwsStsStandIn({
 *   providers: [{ issuer: sky.issuer, clientIds: ['https://skyporten.example.no'] }],
 *   roles: [{ name: 'reader', issuer: sky.issuer, subjects: ['0192:991825827;demo:sky'] }],
 * });
 * ```
 */
export async function startAwsStsStandIn(options: AwsStsStandInOptions): Promise<AwsStsStandIn> {
  const account = options.account ?? '123456789012';
  const now = options.now ?? (() => Date.now());
  const records: AwsAssumeRoleRecord[] = [];
  const issued = new Map<string, { sessionToken: string; expiresAt: number; arn: string; userId: string }>();
  let authenticated = 0;
  const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;

  async function assumeRole(form: URLSearchParams): Promise<string> {
    const arn = form.get('RoleArn') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    const token = form.get('WebIdentityToken') ?? '';
    const duration = Number(form.get('DurationSeconds') ?? '3600');
    const record: AwsAssumeRoleRecord = { roleArn: arn, roleSessionName: sessionName, durationSeconds: duration, tokenId: peekClaims(token)?.jti, status: 200 };
    records.push(record);
    try {
      if (!SESSION_NAME.test(sessionName)) throw new StsRefusal(400, 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
      const role = options.roles.find((r) => roleArn(r.name) === arn);
      if (!Number.isInteger(duration) || duration < 900 || duration > (role?.maxSessionDuration ?? 3600)) {
        throw new StsRefusal(400, 'ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role, or is under 900.`);
      }
      const check = await checkIdentityToken(token, options.providers.map((p) => p.issuer), now());
      if (!check.ok) {
        switch (check.problem) {
          case 'unknown_issuer':
            throw new StsRefusal(400, 'InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${String(check.claims?.iss ?? '')}`);
          case 'expired':
            throw new StsRefusal(400, 'ExpiredTokenException', `Token expired: current date/time ${Math.floor(now() / 1000)} must be before the expiration date/time ${String(check.claims?.exp ?? '')}`);
          case 'keys_unavailable':
            throw new StsRefusal(400, 'IDPCommunicationError', "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements");
          default:
            throw new StsRefusal(400, 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.');
        }
      }
      const provider = options.providers.find((p) => p.issuer === check.claims.iss) as AwsOidcProvider;
      const audiences = typeof check.claims.aud === 'string' ? [check.claims.aud] : (check.claims.aud ?? []);
      if (!audiences.some((a) => provider.clientIds.includes(a))) throw new StsRefusal(400, 'InvalidIdentityToken', 'Incorrect token audience');
      if (role === undefined || role.issuer !== provider.issuer || typeof check.claims.sub !== 'string' || !role.subjects.includes(check.claims.sub)) {
        throw new StsRefusal(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      }
      const accessKeyId = keyId('ASIA');
      const expiresAt = Math.floor(now() / 1000) * 1000 + duration * 1000;
      const assumed = `arn:aws:sts::${account}:assumed-role/${role.name}/${sessionName}`;
      const userId = `${keyId('AROA')}:${sessionName}`;
      const sessionToken = randomBytes(96).toString('base64');
      issued.set(accessKeyId, { sessionToken, expiresAt, arn: assumed, userId });
      return `<AssumeRoleWithWebIdentityResponse xmlns="${XMLNS}"><AssumeRoleWithWebIdentityResult>`
        + `<SubjectFromWebIdentityToken>${xml(check.claims.sub)}</SubjectFromWebIdentityToken><Audience>${xml(audiences[0] ?? '')}</Audience>`
        + `<AssumedRoleUser><Arn>${xml(assumed)}</Arn><AssumedRoleId>${xml(userId)}</AssumedRoleId></AssumedRoleUser>`
        + `<Credentials><SessionToken>${xml(sessionToken)}</SessionToken><SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>`
        + `<Expiration>${new Date(expiresAt).toISOString()}</Expiration><AccessKeyId>${accessKeyId}</AccessKeyId></Credentials>`
        + `<Provider>${xml(provider.issuer)}</Provider></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`;
    } catch (error) {
      if (error instanceof StsRefusal) {
        record.status = error.status;
        record.errorCode = error.code;
      }
      throw error;
    }
  }

  function callerIdentity(req: http.IncomingMessage): string {
    // SigV4: "AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/sts/aws4_request, ...".
    const keyIdOf = /Credential=([A-Z0-9]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const credentials = keyIdOf === undefined ? undefined : issued.get(keyIdOf);
    if (credentials === undefined || req.headers['x-amz-security-token'] !== credentials.sessionToken) {
      throw new StsRefusal(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
    if (now() >= credentials.expiresAt) throw new StsRefusal(400, 'ExpiredToken', 'The security token included in the request is expired');
    authenticated += 1;
    return `<GetCallerIdentityResponse xmlns="${XMLNS}"><GetCallerIdentityResult><Arn>${xml(credentials.arn)}</Arn><UserId>${xml(credentials.userId)}</UserId><Account>${account}</Account></GetCallerIdentityResult>`
      + `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
  }

  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const form = new URLSearchParams(await readRequestBody(req));
      try {
        if (req.method !== 'POST') throw new StsRefusal(400, 'InvalidAction', 'Only POST is served.');
        const action = form.get('Action');
        const body = action === 'AssumeRoleWithWebIdentity' ? await assumeRole(form) : action === 'GetCallerIdentity' ? callerIdentity(req) : undefined;
        if (body === undefined) throw new StsRefusal(400, 'InvalidAction', `Could not find operation ${String(action)} for version 2011-06-15`);
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() }).end(body);
      } catch (error) {
        const refusal = error instanceof StsRefusal ? error : new StsRefusal(500, 'InternalFailure', 'The stand-in failed.');
        const type = refusal.status >= 500 ? 'Receiver' : 'Sender';
        res.writeHead(refusal.status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() })
          .end(`<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${refusal.code}</Code><Message>${xml(refusal.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      }
    })().catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    roleArn,
    get assumeRoleRequests() {
      return records;
    },
    authenticatedCallCount: () => authenticated,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
