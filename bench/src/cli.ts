/**
 * Theory of operation: what the benchmark scripts share on the command line and in their
 * tables: failing with a message, reading a comma list of known ids, and formatting numbers.
 */

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/** Option definitions as node:util `parseArgs` takes them. */
type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** Print `@tether/bench <name>: message` to stderr and exit 1. */
export function failer(name: string): (message: string) => never {
  return (message: string): never => {
    process.stderr.write(`@tether/bench${name === '' ? '' : ` ${name}`}: ${message}\n`);
    process.exit(1);
  };
}

/**
 * Parse a comma list of ids from `allowed` (or `aliases` naming several), failing on an unknown
 * one; the result keeps `allowed`'s order, without duplicates.
 */
export function parseList<T extends string>(
  fail: (message: string) => never,
  text: string,
  allowed: readonly T[],
  what: string,
  aliases: Readonly<Record<string, readonly T[]>> = {},
): T[] {
  const out: T[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const expanded = aliases[item] ?? (allowed.includes(item as T) ? [item as T] : undefined);
    if (expanded === undefined) fail(`unknown ${what} ${JSON.stringify(item)} (expected one of ${[...allowed, ...Object.keys(aliases)].join(', ')})`);
    for (const id of expanded) if (!out.includes(id)) out.push(id);
  }
  if (out.length === 0) fail(`--${what} needs at least one value`);
  // Keep the canonical order whatever order they were given in.
  return allowed.filter((id) => out.includes(id));
}

/** A number with thousands separators and `digits` decimals. */
export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * Read the command line against `options` (node:util `parseArgs`, strict, no positionals):
 * `--help` prints `usage` and exits 0; a flag it refuses fails with its message and `usage`.
 */
export function readFlags<T extends FlagOptions>(argv: readonly string[], usage: string, fail: (message: string) => never, options: T): ParsedFlags<T> {
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return fail(`${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
  }
}

/** The values `readFlags` reads for `T`. */
export type ParsedFlags<T extends FlagOptions> = ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>['values'];

/** The value of `--name` as an integer ≥ `min` (`dflt` when absent); anything else fails. */
export function integerFlag(fail: (message: string) => never, text: string | undefined, dflt: number, name: string, min = 1): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} needs an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  return n;
}
