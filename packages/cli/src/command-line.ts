// The "Next:" lines and fixes a command prints are commands to copy: they repeat the flags the
// user gave (the env files, the self-service URL, the environment) that the next command takes, so
// the copy runs against the same client as the first.
import type { CommandSpec, ParsedFlags } from './args.js';
import { COMMON_FLAGS } from './args.js';

/** A shell word: as it is when it needs no quoting, else in single quotes. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * `portvakt <next.name>` with every flag of `given` that `next` takes (not `--json`, not those in
 * `omit`), in the order given, then `extra` (flag, value) pairs.
 */
export function commandLine(next: CommandSpec, given: ParsedFlags, extra: readonly (readonly [flag: string, value?: string])[] = [], omit: readonly string[] = []): string {
  const words = ['portvakt', next.name];
  const extraFlags = new Set(extra.map(([flag]) => flag));
  for (const [name, value] of Object.entries(given)) {
    if (!(name in next.flags) || name in COMMON_FLAGS || omit.includes(name) || extraFlags.has(name) || value === undefined || value === false) continue;
    for (const one of Array.isArray(value) ? value : [value]) words.push(one === true ? `--${name}` : `--${name} ${shellWord(String(one))}`);
  }
  for (const [flag, value] of extra) words.push(value === undefined ? `--${flag}` : `--${flag} ${shellWord(value)}`);
  return words.join(' ');
}
