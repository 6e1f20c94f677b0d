/**
 * The errors of `@portvakt/skyporten`. A cloud that refuses a Skyporten token answers with its own
 * code (`InvalidIdentityToken`, `invalid_grant`, `AADSTS70021`, ...); {@link SkyportenExchangeError}
 * names that code, what it means for a Skyporten set-up (the audience, the subject, the issuer's
 * trailing slash, the clock) and the fix. Messages carry the token's public claims (`iss`, `sub`,
 * `aud`) where they help, never the token, and never the cloud SDK's error object (which can hold
 * the request, token included).
 */
import { PortvaktError } from '@portvakt/core';
import { nameErrorClass } from '@portvakt/core/internal';

/**
 * The codes of this package's errors.
 * @example
 * ```ts
 * const code: SkyportenErrorCode = 'ERR_PORTVAKT_SKYPORTEN_EXCHANGE';
 * ```
 */
export type SkyportenErrorCode = 'ERR_PORTVAKT_SKYPORTEN_EXCHANGE' | 'ERR_PORTVAKT_SKYPORTEN_SDK_MISSING';

/**
 * The cloud an exchange was made with.
 * @example
 * ```ts
 * const cloud: SkyportenCloud = 'aws';
 * ```
 */
export type SkyportenCloud = 'aws' | 'google' | 'azure';

/**
 * What a refusal says about the set-up:
 * - `audience`: the token's `aud` is not an audience the cloud's trust lists;
 * - `subject`: the token's `sub` (`<consumer>;<scope>`) is not the one the trust names (a role's
 *   trust policy, a service account binding);
 * - `trust`: Entra's federated credential did not match issuer, subject or audience (AADSTS70021
 *   does not say which);
 * - `issuer`: the cloud has no trust for the token's issuer (often a trailing slash);
 * - `expired`: the token was outside its lifetime at the cloud (a clock off, or a token kept too long);
 * - `identity`: the role, provider, service account or client id named is wrong;
 * - `unavailable`: the cloud or its call to Skyporten's keys failed (transient);
 * - `other`: anything else; the cloud's code and message say what.
 *
 * @example
 * ```ts
 * if (err instanceof SkyportenExchangeError && err.problem === 'audience') alertProvider(err.fix);
 * ```
 */
export type SkyportenProblem = 'audience' | 'subject' | 'trust' | 'issuer' | 'expired' | 'identity' | 'unavailable' | 'other';

const CLOUD_NAMES: Readonly<Record<SkyportenCloud, string>> = { aws: 'AWS', google: 'Google Cloud', azure: 'Microsoft Entra ID' };

/**
 * A cloud refused to exchange the Skyporten token for credentials. `cloudCode` is the cloud's own
 * code (`InvalidIdentityToken`, `AccessDenied`, `invalid_grant`, `PERMISSION_DENIED`,
 * `AADSTS70021`, ...), `problem` what it means, `fix` what to change. Not retried, except that an
 * expired token is replaced by a new one once before this is thrown.
 *
 * @example
 * ```ts
 * import { SkyportenExchangeError } from '@portvakt/skyporten';
 * try {
 *   await s3.send(new ListObjectsV2Command({ Bucket }));
 * } catch (err) {
 *   if (err instanceof SkyportenExchangeError) console.error(err.cloud, err.cloudCode, err.fix);
 * }
 * ```
 */
export class SkyportenExchangeError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_SKYPORTEN_EXCHANGE' as const;
  static {
    nameErrorClass(this, 'SkyportenExchangeError');
  }
  declare readonly code: 'ERR_PORTVAKT_SKYPORTEN_EXCHANGE';
  readonly cloud: SkyportenCloud;
  /** The cloud's own error code. */
  readonly cloudCode: string;
  /** The cloud's own message (secrets masked). */
  readonly cloudMessage: string;
  readonly problem: SkyportenProblem;
  /** What to change, in the cloud's terms. */
  readonly fix: string;
  /** The HTTP status the cloud answered with, when known. */
  readonly status: number | undefined;

  constructor(details: { cloud: SkyportenCloud; cloudCode: string; cloudMessage: string; problem: SkyportenProblem; fix: string; status?: number | undefined }) {
    super(`${CLOUD_NAMES[details.cloud]} refused the Skyporten token (${details.cloudCode}${details.cloudMessage === '' ? '' : `: ${details.cloudMessage}`}). Fix: ${details.fix}`);
    this.cloud = details.cloud;
    this.cloudCode = details.cloudCode;
    this.cloudMessage = details.cloudMessage;
    this.problem = details.problem;
    this.fix = details.fix;
    this.status = details.status;
  }
}

/**
 * A cloud entry (`@portvakt/skyporten/aws`, `/google`, `/azure`) was used without the cloud SDK it
 * drives: `sdk` names the package to install. The SDKs are optional peer dependencies, so an app
 * installs only the clouds it uses.
 *
 * @example
 * ```ts
 * import { SkyportenSdkMissingError } from '@portvakt/skyporten';
 * if (err instanceof SkyportenSdkMissingError) console.error(`npm install ${err.sdk}`);
 * ```
 */
export class SkyportenSdkMissingError extends PortvaktError {
  static override readonly code = 'ERR_PORTVAKT_SKYPORTEN_SDK_MISSING' as const;
  static {
    nameErrorClass(this, 'SkyportenSdkMissingError');
  }
  declare readonly code: 'ERR_PORTVAKT_SKYPORTEN_SDK_MISSING';
  /** The package to install, e.g. `@aws-sdk/client-sts`. */
  readonly sdk: string;
  /** The entry that needs it, e.g. `@portvakt/skyporten/aws`. */
  readonly entry: string;
  constructor(entry: string, sdk: string, range: string) {
    super(`${entry} needs ${sdk} (${range}), which is not installed: run \`npm install ${sdk}\`. The cloud SDKs are optional peer dependencies of @portvakt/skyporten, so an app installs only the ones it uses.`);
    this.sdk = sdk;
    this.entry = entry;
  }
}

/**
 * Every error this package throws itself, as a union (`switch (err.code)` narrows it). Errors of
 * the token source (`@portvakt/core`'s) pass through as they are.
 * @example
 * ```ts
 * function explain(err: AnySkyportenError) { return err.code === 'ERR_PORTVAKT_SKYPORTEN_EXCHANGE' ? err.fix : `npm install ${err.sdk}`; }
 * ```
 */
export type AnySkyportenError = SkyportenExchangeError | SkyportenSdkMissingError;
