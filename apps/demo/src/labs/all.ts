/**
 * Theory of operation: `pnpm demo lab all` — every lab of the registry in sequence (never in
 * parallel: each measures timing on the same machine), then one summary table, a row per lab:
 * its name, what it shows, the figure it measured, the figure it expected, and whether the
 * effect was observed. A lab that throws becomes a row that says so (`error: …`) and the run
 * goes on; every lab bounds its own loops, so the whole run is bounded too.
 *
 * The table is plain text with left-aligned columns; its cells come from each lab's pure
 * `headline(data)`, so the table's shape is tested without running anything.
 */

import type { LabOptions, LabResult } from './lab.js';
import { noLog } from './lab.js';
import type { RegisteredLab } from './index.js';
import { formatMs } from './stats.js';

/** One row of the summary. */
export interface LabSummaryRow {
  readonly name: string;
  readonly shows: string;
  readonly measured: string;
  readonly expected: string;
  /** The effect was observed (false too when the lab failed). */
  readonly ok: boolean;
  /** Wall-clock ms the lab took. */
  readonly ms: number;
  /** The lab's full result, or null when it threw. */
  readonly result: LabResult | null;
  /** Why the lab failed, when it threw. */
  readonly error?: string;
}

/** What `lab all` measured. */
export interface AllLabsResult {
  readonly rows: readonly LabSummaryRow[];
  /** Wall-clock ms of the whole run. */
  readonly ms: number;
  /** Every lab observed its effect. */
  readonly ok: boolean;
  /** Labs were run with smaller counts (`--quick`). */
  readonly quick: boolean;
}

/** Options of {@link runAllLabs}. */
export interface AllLabsOptions extends LabOptions {
  /** Called as each lab finishes (the CLI prints a progress line; the dashboard streams the row). */
  readonly onRow?: (row: LabSummaryRow, done: number, total: number) => void;
}

/** The summary row of a finished lab (pure). */
export function summaryRow(name: string, lab: RegisteredLab, outcome: { readonly result: LabResult } | { readonly error: unknown }, ms: number): LabSummaryRow {
  if ('result' in outcome) {
    const { measured, expected } = lab.headline(outcome.result);
    return { name, shows: lab.shows, measured, expected, ok: outcome.result.ok, ms, result: outcome.result };
  }
  const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
  return { name, shows: lab.shows, measured: `error: ${message.split('\n')[0] ?? ''}`, expected: '—', ok: false, ms, result: null, error: message };
}

/** Run the labs of `labs` (name → lab) one after another, in their order. */
export async function runAllLabs(labs: Readonly<Record<string, RegisteredLab>>, options: AllLabsOptions = {}): Promise<AllLabsResult> {
  const log = options.log ?? noLog;
  const entries = Object.entries(labs);
  const rows: LabSummaryRow[] = [];
  const start = performance.now();
  for (const [name, lab] of entries) {
    log(`— ${name}: ${lab.title}`);
    const labStart = performance.now();
    let outcome: { readonly result: LabResult } | { readonly error: unknown };
    try {
      outcome = { result: await lab.run({ ...(options.quick === undefined ? {} : { quick: options.quick }), log: (line) => log(`  ${line}`) }) };
    } catch (error) {
      outcome = { error };
    }
    const row = summaryRow(name, lab, outcome, performance.now() - labStart);
    rows.push(row);
    options.onRow?.(row, rows.length, entries.length);
  }
  return { rows, ms: performance.now() - start, ok: rows.every((r) => r.ok), quick: options.quick === true };
}

/** The summary as a plain-text table (left-aligned columns), then one line with the total. No trailing newline. */
export function formatAllLabs(all: AllLabsResult): string {
  const header = ['lab', 'shows', 'measured', 'expected', 'ok', 'time'];
  const cells = all.rows.map((r) => [r.name, r.shows, r.measured, r.expected, r.ok ? 'ok' : 'NOT', formatMs(r.ms)]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const passed = all.rows.filter((r) => r.ok).length;
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
    '',
    `${passed} of ${all.rows.length} labs observed their effect in ${formatMs(all.ms)}${all.quick ? ' (quick: smaller counts)' : ''}; \`pnpm demo lab <name>\` explains each.`,
  ].join('\n');
}
