// AWS credentials from Skyporten tokens: an AWS SDK v3 credential provider that gets a token from
// the token source at every exchange, calls STS AssumeRoleWithWebIdentity with it, and returns the
// credentials with their `expiration`, so the SDK asks again in time (docs/maskinporten-rules.md §11.4).
import { ConfigurationError } from '@portvakt/core';
import { inspectSymbol, numberOption, refuseUnknownOptions } from '@portvakt/core/internal';
import { CredentialCache, refreshMarginMs } from '../credential-cache.js';
import type { Expiring } from '../credential-cache.js';
import { COMMON_KEYS, readSkyportenSettings } from '../options.js';
import type { SkyportenTokenOptions } from '../options.js';
import { sdkLoader } from '../sdk.js';
import { exchangeWithToken } from '../token.js';
import type { SkyportenToken } from '../token.js';
import { awsExchangeError, saysExpired } from './errors.js';

/**
 * Options of {@link fromSkyporten}: the common Skyporten options plus the role to assume.
 *
 * @example
 * ```ts
 * const options: SkyportenAwsOptions = {
 *   client, scope: 'entur:skyporten.demo', audience: 'https://skyporten.entur.org',
 *   roleArn: 'arn:aws:iam::123456789012:role/skyporten-role',
 * };
 * ```
 */
export interface SkyportenAwsOptions extends SkyportenTokenOptions {
  /** The role the provider created for you, `arn:aws:iam::<account>:role/<name>`. */
  roleArn: string;
  /** The session name, in CloudTrail and the assumed role's ARN; default `portvakt-skyporten`. */
  roleSessionName?: string | undefined;
  /** How long the credentials live, 900 to 43 200 seconds (at most the role's MaxSessionDuration); default 3600. */
  durationSeconds?: number | undefined;
  /** STS's region; default `AWS_REGION`, else `eu-north-1`. AssumeRoleWithWebIdentity needs no credentials, so any region works. */
  region?: string | undefined;
  /** Extra `STSClient` configuration (`endpoint`, `maxAttempts`, `requestHandler`, ...), for proxies and tests. */
  stsClientConfig?: Record<string, unknown> | undefined;
}

/**
 * The credentials the provider returns: an `AwsCredentialIdentity` with `expiration`.
 * @example
 * ```ts
 * const { accessKeyId, expiration }: SkyportenAwsCredentials = await provider();
 * ```
 */
export interface SkyportenAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When AWS says they expire; the SDK refreshes 5 minutes before. */
  readonly expiration: Date;
}

/**
 * An AWS SDK v3 credential provider (`AwsCredentialIdentityProvider`): give it as `credentials` to
 * any client. One provider can serve many clients; they share its credentials and its exchanges.
 *
 * @example
 * ```ts
 * const provider: SkyportenAwsCredentialProvider = fromSkyporten({ client, scope, audience, roleArn });
 * const s3 = new S3Client({ region: 'eu-north-1', credentials: provider });
 * ```
 */
export interface SkyportenAwsCredentialProvider {
  (): Promise<SkyportenAwsCredentials>;
  /** AssumeRoleWithWebIdentity calls started so far. */
  readonly exchanges: number;
}

const OPTION_KEYS = [...COMMON_KEYS, 'roleArn', 'roleSessionName', 'durationSeconds', 'region', 'stsClientConfig'];
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** The AWS SDK refreshes credentials this long before `expiration`. */
const AWS_SDK_WINDOW_MS = 300_000;

const loadSts = sdkLoader('aws', () => import('@aws-sdk/client-sts'));

/**
 * Creates an AWS credential provider for Skyporten: at each refresh it gets a Skyporten token from
 * `client` (never one kept from before), assumes `roleArn` with it through STS
 * `AssumeRoleWithWebIdentity`, and returns the credentials with their `expiration`. Credentials
 * are cached by their own expiry (until 5 minutes before, when the SDK asks again); concurrent
 * callers share one exchange. A refusal is a {@link SkyportenExchangeError} naming AWS's code and
 * the fix; an expired token is replaced once. Needs `@aws-sdk/client-sts` (an optional peer
 * dependency): without it, the first call fails with `SkyportenSdkMissingError`.
 *
 * @example
 * ```ts
 * import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
 * import { createMaskinportenClient } from '@portvakt/core';
 * import { fromSkyporten } from '@portvakt/skyporten/aws';
 *
 * const client = createMaskinportenClient({ clientId, environment: 'skyporten-prod', key: { jwk } });
 * const s3 = new S3Client({
 *   region: 'eu-west-1',
 *   credentials: fromSkyporten({
 *     client,
 *     scope: 'entur:skyporten.demo',
 *     audience: 'https://skyporten.entur.org',
 *     roleArn: 'arn:aws:iam::123456789012:role/skyporten-role',
 *   }),
 * });
 * await s3.send(new ListObjectsV2Command({ Bucket: 'skyporten-test-bucket' }));
 * ```
 */
export function fromSkyporten(options: SkyportenAwsOptions): SkyportenAwsCredentialProvider {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object: { client, scope, audience, roleArn }.');
  refuseUnknownOptions(options, OPTION_KEYS, '');
  const settings = readSkyportenSettings(options);
  const { roleArn, roleSessionName = 'portvakt-skyporten', stsClientConfig } = options;
  if (typeof roleArn !== 'string' || !ROLE_ARN.test(roleArn)) throw new ConfigurationError('roleArn', 'must be a role ARN, arn:aws:iam::<12-digit account>:role/<name>, as the provider gave it.');
  if (typeof roleSessionName !== 'string' || !SESSION_NAME.test(roleSessionName)) throw new ConfigurationError('roleSessionName', 'must be 2 to 64 characters of letters, digits and _+=,.@-.');
  const durationSeconds = numberOption(options.durationSeconds, 'durationSeconds', { fallback: 3600, min: 900, max: 43_200, integer: true, unit: 'seconds' });
  const region = options.region ?? process.env.AWS_REGION ?? 'eu-north-1';
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new ConfigurationError('region', 'must be an AWS region such as "eu-north-1".');
  if (stsClientConfig !== undefined && (typeof stsClientConfig !== 'object' || stsClientConfig === null)) throw new ConfigurationError('stsClientConfig', 'must be an object of STSClient configuration.');
  const clientConfig = { region, ...stsClientConfig };

  let sts: Promise<{ send(command: unknown): Promise<unknown>; command: (input: Record<string, unknown>) => unknown }> | undefined;
  const stsClient = () => {
    sts ??= loadSts().then((sdk) => {
      const client = new sdk.STSClient(clientConfig);
      return { send: (command: unknown) => client.send(command as InstanceType<typeof sdk.AssumeRoleWithWebIdentityCommand>), command: (input) => new sdk.AssumeRoleWithWebIdentityCommand(input as never) };
    });
    sts.catch(() => {
      sts = undefined;
    });
    return sts;
  };

  const assume = async (token: SkyportenToken): Promise<Expiring<SkyportenAwsCredentials>> => {
    const client = await stsClient();
    const sentAt = settings.clock.now();
    let output: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } };
    try {
      output = (await client.send(client.command({ RoleArn: roleArn, RoleSessionName: roleSessionName, WebIdentityToken: token.value, DurationSeconds: durationSeconds }))) as typeof output;
    } catch (error) {
      if (saysExpired(error)) throw error;
      throw awsExchangeError(error, token, { audience: settings.audience, scope: settings.scope, roleArn }) ?? error;
    }
    const c = output.Credentials;
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined || c.SessionToken === undefined || !(c.Expiration instanceof Date)) {
      throw awsExchangeError(Object.assign(new Error("STS answered without credentials."), { name: "MalformedResponse", $metadata: { httpStatusCode: 200 } }), token, { audience: settings.audience, scope: settings.scope, roleArn }) as unknown as Error;
    }
    const credentials = Object.freeze({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration });
    return { value: credentials, expiresAtMs: c.Expiration.getTime(), issuedAtMs: sentAt };
  };

  const cache = new CredentialCache<SkyportenAwsCredentials>(
    () =>
      exchangeWithToken(settings, assume, saysExpired).catch((error: unknown) => {
        // A second "expired" comes here as STS's own error.
        throw awsExchangeError(error, undefined, { audience: settings.audience, scope: settings.scope, roleArn }) ?? error;
      }),
    settings.clock,
    (issued, expires) => refreshMarginMs(issued, expires, AWS_SDK_WINDOW_MS),
  );

  const provider = (async () => (await cache.get()).value) as SkyportenAwsCredentialProvider;
  Object.defineProperties(provider, {
    exchanges: { get: () => cache.exchanges, enumerable: true },
    [inspectSymbol]: { value: () => `SkyportenAwsCredentialProvider { roleArn: '${roleArn}', audience: '${settings.audience}', scope: '${settings.scope}' }` },
    toJSON: { value: () => ({ roleArn, audience: settings.audience, scope: settings.scope }) },
  });
  return provider;
}
