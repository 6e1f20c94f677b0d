// Argument parsing on node:util parseArgs, with --help on every command and one-line usage errors.
import { parseArgs } from 'node:util';
import { closestName } from '@portvakt/core/internal';
import { UsageError } from './errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Shown in --help: the value's name, e.g. `DIR`. */
  value?: string;
  description: string;
  /** Accepted but left out of --help (an older name kept working). */
  hidden?: boolean;
}

export interface CommandSpec {
  /** `keygen`, `keys rotate`. */
  name: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Extra paragraphs for --help. */
  details?: string;
}

export type ParsedFlags = Record<string, string | boolean | string[] | undefined>;

export const COMMON_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', description: 'Print the result as JSON (for scripts and CI).' },
  help: { type: 'boolean', short: 'h', description: 'Show this help.' },
};

export function helpText(spec: CommandSpec): string {
  const flags = { ...spec.flags, ...COMMON_FLAGS };
  const rows = Object.entries(flags).filter(([, f]) => f.hidden !== true).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}${f.multiple ? ' ...' : ''}`;
    return [left, f.description] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const lines = [`Usage: portvakt ${spec.name} [options]`, '', spec.summary, '', 'Options:'];
  for (const [left, text] of rows) lines.push(`  ${left.padEnd(width)}${text}`);
  if (spec.details) lines.push('', spec.details);
  lines.push('', 'Exit codes: 0 ok, 1 check or operation failed, 2 usage error, 3 configuration error, 4 Maskinporten or self-service unreachable.');
  return lines.join('\n');
}

/**
 * The flag that names an env file. Not `--env-file`: Node.js (20, 22 and 24) takes a script
 * argument of that name for itself, before the CLI sees it (nodejs/node#54232): a missing file ends
 * the process with Node's own message and exit code 9, and an existing one is Node's business, not
 * Portvakt's.
 */
export const DOTENV_FLAG = 'dotenv';
const NODE_TAKES = /^--env-file(?:-if-exists)?(?:=|$)/;

/** The flag a mistyped one (`--scopes`) was meant to be, from the command's own flags. */
function suggestionFor(option: string, spec: CommandSpec): string | undefined {
  const names = Object.entries({ ...spec.flags, ...COMMON_FLAGS }).filter(([, f]) => f.hidden !== true).map(([name]) => name);
  const name = option.replace(/^-+/, '').split('=')[0] ?? '';
  return name === '' ? undefined : closestName(name, names);
}

/** Parses a command's flags; `undefined` means --help was asked for. */
export function parseFlags(spec: CommandSpec, argv: string[]): ParsedFlags | undefined {
  const takesDotenv = Object.keys(spec.flags).some((name) => name === DOTENV_FLAG || name.endsWith(`-${DOTENV_FLAG}`));
  const nodeFlag = argv.find((arg) => NODE_TAKES.test(arg));
  if (nodeFlag !== undefined && takesDotenv) {
    throw new UsageError(`${nodeFlag.split('=')[0]} is Node.js's own option (Node takes it before Portvakt sees it, nodejs/node#54232): give the file with --${DOTENV_FLAG} FILE. See \`portvakt ${spec.name} --help\`.`);
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, f] of Object.entries({ ...spec.flags, ...COMMON_FLAGS })) {
    options[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  }
  let values: ParsedFlags;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }) as { values: ParsedFlags });
  } catch (error) {
    // parseArgs's messages name the flag; shorten them to one line without its advice on "--".
    const message = error instanceof Error ? error.message.split('. To specify')[0] ?? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec(message)?.[1] : undefined;
    const suggestion = unknown === undefined ? undefined : suggestionFor(unknown, spec);
    const hint = suggestion === undefined ? '' : `: did you mean --${suggestion}?`;
    throw new UsageError(`${message.replace(/\.$/, '')}${hint}${hint === '' ? '.' : ''} See \`portvakt ${spec.name} --help\`.`);
  }
  if (values.help === true) return undefined;
  return values;
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

export function listFlag(flags: ParsedFlags, name: string): string[] {
  const value = flags[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function requireFlag(flags: ParsedFlags, name: string, command: string): string {
  const value = stringFlag(flags, name);
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required. See \`portvakt ${command} --help\`.`);
  return value;
}

/** A positive number of seconds or milliseconds from a flag. */
export function numberFlag(flags: ParsedFlags, name: string, fallback: number, command: string): number {
  const text = stringFlag(flags, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number, not ${JSON.stringify(text.slice(0, 20))}. See \`portvakt ${command} --help\`.`);
  return value;
}
