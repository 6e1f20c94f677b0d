#!/usr/bin/env node
// portvakt-skyporten: AWS credentials from Skyporten for the AWS CLI and every tool that reads
// ~/.aws/config, as a credential_process. The AWS CLI runs it when it needs credentials and keeps
// its answer until `Expiration`. The Maskinporten client comes from the MASKINPORTEN_* variables
// (fromEnv(), e.g. MASKINPORTEN_ENVIRONMENT=skyporten-prod); the role and audience from flags.
import { parseArgs } from 'node:util';
import { createMaskinportenClient, fromEnv } from '@portvakt/core';
import { redactSecrets } from '@portvakt/core/internal';
import { fromSkyporten } from './aws/index.js';

const USAGE = `Usage: portvakt-skyporten aws-credential-process --role-arn ARN --audience AUDIENCE --scope SCOPE [options]

Prints AWS credentials from a Skyporten token as credential_process output (JSON, Version 1).
In ~/.aws/config:

  [profile skyporten]
  credential_process = portvakt-skyporten aws-credential-process --role-arn arn:aws:iam::123456789012:role/skyporten-role --audience https://skyporten.entur.org --scope entur:skyporten.demo

The Maskinporten client is read from MASKINPORTEN_CLIENT_ID, MASKINPORTEN_CLIENT_JWK (or the other
key variables) and MASKINPORTEN_ENVIRONMENT=skyporten-test|skyporten-prod (or MASKINPORTEN_WELL_KNOWN_URL).

Options:
  --role-arn ARN            the role the provider created for you (required)
  --audience AUDIENCE       the audience the provider's IAM OIDC provider trusts (required)
  --scope SCOPE             the scope the provider gave your organisation (required)
  --duration-seconds N      credential lifetime, 900 to 43200 (default 3600)
  --session-name NAME       the role session name (default portvakt-skyporten)
  --region REGION           STS's region (default AWS_REGION, else eu-north-1)
  --sts-endpoint URL        another STS endpoint (a VPC endpoint, or a local one in tests)
  -h, --help                this text`;

async function awsCredentialProcess(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'role-arn': { type: 'string' },
      audience: { type: 'string' },
      scope: { type: 'string' },
      'duration-seconds': { type: 'string' },
      'session-name': { type: 'string' },
      region: { type: 'string' },
      'sts-endpoint': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const name of ['role-arn', 'audience', 'scope'] as const) {
    if (values[name] === undefined) throw new UsageProblem(`--${name} is required.`);
  }
  const duration = values['duration-seconds'] === undefined ? undefined : Number(values['duration-seconds']);
  const client = createMaskinportenClient(fromEnv());
  try {
    const provider = fromSkyporten({
      client,
      roleArn: values['role-arn'] as string,
      audience: values.audience as string,
      scope: values.scope as string,
      ...(duration === undefined ? {} : { durationSeconds: duration }),
      ...(values['session-name'] === undefined ? {} : { roleSessionName: values['session-name'] }),
      ...(values.region === undefined ? {} : { region: values.region }),
      ...(values['sts-endpoint'] === undefined ? {} : { stsClientConfig: { endpoint: values['sts-endpoint'] } }),
    });
    const credentials = await provider();
    // The format credential_process must print (AWS CLI and SDKs: Version 1).
    process.stdout.write(`${JSON.stringify({ Version: 1, AccessKeyId: credentials.accessKeyId, SecretAccessKey: credentials.secretAccessKey, SessionToken: credentials.sessionToken, Expiration: credentials.expiration.toISOString() })}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

class UsageProblem extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'aws-credential-process') return await awsCredentialProcess(rest);
    if (command === undefined || command === '-h' || command === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    throw new UsageProblem(`unknown command "${command}".`);
  } catch (error) {
    // Typed errors carry the cloud's code and the fix, never a token; anything else only its message.
    if (error instanceof UsageProblem || (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`portvakt-skyporten: ${(error as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`portvakt-skyporten: ${redactSecrets(error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
