/**
 * Theory of operation: what the benchmark scripts share on the command line and in their
 * tables: failing with a message, reading a comma list of known ids, and formatting numbers.
 */

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
 * Read the command line with `parse` (node:util `parseArgs`, strict): `--help` prints `usage` and
 * exits 0; a flag `parse` refuses fails with its message and `usage`.
 */
export function readFlags<T>(argv: readonly string[], usage: string, fail: (message: string) => never, parse: (args: string[]) => T): T {
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parse([...argv]);
  } catch (err) {
    return fail(`${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
  }
}

/** `text` as an integer ≥ 1 (`dflt` when absent), failing with `what` in the message. */
export function positiveInteger(fail: (message: string) => never, text: string | undefined, dflt: number, what: string): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) fail(`${what} needs an integer ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}
