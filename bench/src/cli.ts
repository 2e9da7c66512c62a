/**
 * Theory of operation: what the benchmark scripts share on the command line, around their
 * child processes and in their tables: failing with a message, reading flags and comma lists of
 * known ids, bounding a wait, formatting numbers and ratios, laying out a table, and judging and
 * printing the issue's targets.
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

/** An error's message, or the thrown value as text. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `promise`, or a rejection naming `what` when it is not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A ratio as `1.23×`, or `–` when there is none. */
export const ratioText = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)}×`);

/** A table column: its title, its width in characters, and whether cells are right-aligned. */
export interface Column {
  readonly title: string;
  readonly width: number;
  readonly right: boolean;
}

/** `rows` under `header`, with a rule under the titles; columns two spaces apart. */
export function table(header: readonly Column[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (header[i]!.right ? c.padStart(header[i]!.width) : c.padEnd(header[i]!.width))).join('  ').trimEnd();
  return [line(header.map((c) => c.title)), line(header.map((c) => '-'.repeat(c.width))), ...rows.map(line)].join('\n');
}

/** A ratio the issue requires of tether: at least `ratio`, or with `atMost` at most. */
export interface RatioTarget {
  readonly ratio: number;
  readonly atMost?: boolean;
}

/** A target and what was measured for it. */
export interface Verdict<T extends RatioTarget> {
  readonly target: T;
  readonly label: string;
  /** tether ÷ the other, or null when either side did not produce a number. */
  readonly measured: number | null;
  readonly met: boolean | null;
}

/** Judge `target` from tether's figure (`mine`) and the other's (`theirs`). */
export function verdict<T extends RatioTarget>(target: T, label: string, mine: number | null, theirs: number | null): Verdict<T> {
  const measured = mine === null || theirs === null || theirs <= 0 ? null : mine / theirs;
  const met = measured === null ? null : target.atMost === true ? measured <= target.ratio : measured >= target.ratio;
  return { target, label, measured, met };
}

/** The verdicts as a table: target, measured, required, MET / NOT MET / NOT MEASURED. */
export function renderVerdicts(list: readonly Verdict<RatioTarget>[]): string {
  return table(
    [
      { title: 'target (issue)', width: Math.max(14, ...list.map((v) => v.label.length)), right: false },
      { title: 'measured', width: 8, right: true },
      { title: 'required', width: 8, right: true },
      { title: 'verdict', width: 12, right: false },
    ],
    list.map((v) => [
      v.label,
      ratioText(v.measured),
      // One decimal unless the target has two (1.03).
      `${v.target.atMost === true ? '≤' : '≥'} ${v.target.ratio.toFixed(Number.isInteger(v.target.ratio * 10) ? 1 : 2)}×`,
      v.met === null ? 'NOT MEASURED' : v.met ? 'MET' : 'NOT MET',
    ]),
  );
}
