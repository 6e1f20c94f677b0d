// portvakt token: one access token, on stdout only.
import { createMaskinportenClient } from '@portvakt/core';
import { parseFlags } from '../args.js';
import type { CommandSpec } from '../args.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { failureOf } from '../failures.js';
import type { CommandIo, Printer } from '../io.js';
import { CLIENT_FLAGS, REQUEST_FLAGS, resolveClientOptions, tokenRequestOf } from '../options.js';
import { help } from './shared.js';

export const tokenSpec: CommandSpec = {
  name: 'token',
  summary: 'Get an access token from Maskinporten (options from fromEnv(), flags override) and print it on stdout.',
  flags: {
    ...CLIENT_FLAGS,
    ...REQUEST_FLAGS,
    header: { type: 'boolean', description: 'Print "Authorization: Bearer <token>", for curl -H "$(portvakt token --header)".' },
  },
  details: 'The token goes to stdout only; nothing secret is written to stderr.',
};

export async function token(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(tokenSpec, argv);
  if (flags === undefined) return help(print, tokenSpec);
  const { options } = resolveClientOptions(flags, io);
  const request = tokenRequestOf(flags, options, 'token');
  let client;
  try {
    client = createMaskinportenClient(options);
  } catch (error) {
    throw failureOf(error);
  }
  try {
    const accessToken = await client.getToken(request);
    if (flags.json === true) {
      print.json({
        access_token: accessToken.accessToken,
        token_type: accessToken.tokenType,
        scope: accessToken.scope,
        expires_in: accessToken.expiresIn(),
        expires_at: accessToken.expiresAt.toISOString(),
      });
    } else if (flags.header === true) {
      print.out(`Authorization: ${accessToken.authorization}`);
    } else {
      print.out(accessToken.accessToken);
    }
    return EXIT_CODES.ok;
  } catch (error) {
    throw failureOf(error);
  } finally {
    await client.close();
  }
}
