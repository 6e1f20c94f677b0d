// portvakt doctor: checks a Maskinporten setup step by step and stops at the first broken step,
// naming the fix. Exit 0 when every step passes (warnings included), 1 otherwise.
import { numberFlag, parseFlags } from '../args.js';
import type { CommandSpec } from '../args.js';
import { CommandError, UsageError } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { CommandIo, Printer } from '../io.js';
import { CLIENT_FLAGS, REQUEST_FLAGS, resolveClientOptions, tokenRequestOf } from '../options.js';
import { checkClock, checkKey, checkReachable, checkScopes, checkToken, describeEnvironment } from '../doctor/steps.js';
import { runTexasSteps, TEXAS_ORDER, texasEndpointOf } from '../doctor/texas.js';
import { environmentOf } from '../options.js';
import type { StepResult } from '../doctor/steps.js';
import { help } from './shared.js';

export const doctorSpec: CommandSpec = {
  name: 'doctor',
  summary: 'Check a Maskinporten setup: options, key or certificate, metadata, clock, a real token request, granted scopes. Stops at the first broken step and names the fix.',
  flags: {
    ...CLIENT_FLAGS,
    ...REQUEST_FLAGS,
    timeout: { type: 'string', value: 'SECONDS', description: 'Timeout of each network check (default 10).' },
    'texas-endpoint': { type: 'string', value: 'URL', description: "Check NAIS Texas at this token endpoint (else NAIS_TOKEN_ENDPOINT, unless --key or --client-id is given)." },
  },
  details: 'Reads the same options as your service (fromEnv()); flags override. With NAIS_TOKEN_ENDPOINT set (NAIS\' Texas sidecar), checks a token request through Texas and what its error means instead. Exits 1 at the first failed step.',
};

const ORDER: StepResult['name'][] = ['options', 'key', 'metadata', 'clock', 'token', 'scopes'];

async function runSteps(argv: ReturnType<typeof parseFlags> & object, io: CommandIo, timeoutMs: number): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  let resolved;
  let request;
  try {
    resolved = resolveClientOptions(argv, io);
    request = tokenRequestOf(argv, resolved.options, 'doctor');
  } catch (error) {
    if (error instanceof UsageError) {
      steps.push({ name: 'options', status: 'fail', summary: error.message, fix: 'give --scope or set MASKINPORTEN_SCOPES.' });
      return steps;
    }
    if (error instanceof CommandError) {
      steps.push({ name: 'options', status: 'fail', summary: error.message, fix: error.fix ?? 'check the MASKINPORTEN_* variables.' });
      return steps;
    }
    throw error;
  }
  const { options, keySource } = resolved;
  const scopes = [request.scope ?? []].flat();
  steps.push({
    name: 'options', status: 'ok',
    summary: `Client ${options.clientId}, environment ${describeEnvironment(options)}, key from ${keySource}, scope ${scopes.join(' ')}.`,
    details: { clientId: options.clientId, environment: describeEnvironment(options), keySource, scopes },
  });
  const key = checkKey(options, keySource, Date.now());
  steps.push(key.step);
  if (key.step.status === 'fail') return steps;
  const reach = await checkReachable(options, timeoutMs, globalThis.fetch);
  steps.push(reach.step);
  if (reach.step.status === 'fail') return steps;
  const clock = checkClock(reach.date);
  steps.push(clock);
  if (clock.status === 'fail') return steps;
  const token = await checkToken(options, request, timeoutMs);
  steps.push(token.step);
  if (token.step.status === 'fail' || token.granted === undefined) return steps;
  steps.push(checkScopes(scopes, token.granted));
  return steps;
}

export async function doctor(argv: string[], io: CommandIo, print: Printer): Promise<ExitCode> {
  const flags = parseFlags(doctorSpec, argv);
  if (flags === undefined) return help(print, doctorSpec);
  const timeoutMs = numberFlag(flags, 'timeout', 10, 'doctor') * 1000;
  // A NAIS app with Texas has no key to check: its checks are Texas' (an unreadable env file is
  // reported by the client's steps).
  let env: Record<string, string | undefined> | undefined;
  try {
    env = environmentOf(flags, io);
  } catch {
    env = undefined;
  }
  const texas = env === undefined ? undefined : texasEndpointOf(flags, env);
  const steps = texas !== undefined && env !== undefined ? await runTexasSteps(flags, env, texas, timeoutMs) : await runSteps(flags, io, timeoutMs);
  const failed = steps.find((s) => s.status === 'fail');
  const skipped = (texas === undefined ? ORDER : TEXAS_ORDER).filter((name) => !steps.some((s) => s.name === name));
  if (flags.json === true) {
    print.json({ ok: failed === undefined, steps: [...steps, ...skipped.map((name) => ({ name, status: 'skipped', summary: 'not run: an earlier step failed' }))] });
  } else {
    const mark = { ok: print.colour.ok('✓'), warn: print.colour.bad('!'), fail: print.colour.bad('✗'), skipped: print.colour.dim('-') };
    for (const step of steps) {
      print.out(`${mark[step.status]} ${step.name.padEnd(8)} ${step.summary}`);
      if (step.fix !== undefined) print.out(`  ${' '.repeat(8)} fix: ${step.fix}`);
    }
    for (const name of skipped) print.out(print.colour.dim(`- ${name.padEnd(8)} not run`));
    print.out(failed === undefined ? print.colour.ok('The setup works.') : print.colour.bad(`The ${failed.name} step failed: fix it and run \`portvakt doctor\` again.`));
  }
  return failed === undefined ? EXIT_CODES.ok : EXIT_CODES.checkFailed;
}
