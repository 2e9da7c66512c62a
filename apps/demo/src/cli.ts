#!/usr/bin/env node
/**
 * Theory of operation: `pnpm demo [command] [flags]`.
 * - (no command): load the page with every strategy through the emulated link, print the table
 *   (measurement beside the model), write report.html;
 * - `sweep --rtt a,b,c` | `--bandwidth a,b,c` | `--slow a,b,c`: the comparison at each value,
 *   one table, and where each strategy wins;
 * - `serve [--port n]`: the dashboard (Fastify) on 127.0.0.1;
 * - `lab <name>`: one of the chapter's experiments on real sockets; `lab all`: every lab in turn,
 *   then one summary table (measured beside expected).
 * A progress bar on a terminal, plain lines otherwise; `--json` prints machine-readable results
 * instead of tables.
 */

import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LABS, formatAllLabs, formatLab, runAllLabs } from './labs/index.js';
import { STRATEGY_NAMES } from './model.js';
import type { StrategyName } from './model.js';
import { STRATEGY_LABELS, describeParams, describeWork, formatRun, modelApplies, table } from './format.js';
import { renderReport } from './report.js';
import { DEFAULT_PARAMS, MODEL_TOLERANCE, runComparison, runWork } from './run.js';
import type { Progress, RunParams, RunResult } from './run.js';
import { runSweep } from './sweep.js';
import type { SweepAxis, SweepResult } from './sweep.js';

const HELP = `tether demo — HTTP/1.1 connection strategies compared through an emulated network

usage: pnpm demo [sweep|serve|lab <name>] [flags]

  --rtt <ms>              round-trip time (default 50)
  --bandwidth <Mbit/s>    link bandwidth, shared by all connections (default 10; "inf" = unlimited)
  --iw <segments>         initial congestion window in 1460-byte segments (default 10; "inf" = none)
  --objects <n>           embedded objects on the page (default 30)
  --sizes <min-max>       object sizes in KB (default 2-60)
  --connections <n>       connections of the parallel and pooled strategies (default 6)
  --strategies <a,b,…>    ${STRATEGY_NAMES.join(', ')}
  --repeat <n>            runs per strategy, median shown (default 1)
  --quick                 a small page (10 objects): finishes in well under 20 s
  --json                  print JSON instead of tables, e.g. \`pnpm demo --json | jq .\`
  --report <file>         where to write the HTML report, relative to the directory you ran
                          the command in (default report.html; "-" = none)

  sweep --rtt 0,10,50,100,200 | --bandwidth 1,10,100 | --slow 0,200,500
                          the comparison at each value (--slow: the first object answered that
                          many ms late — head-of-line blocking)
  serve [--port <n>]      the dashboard on http://127.0.0.1:<n> (default 8090)
  lab <name>              one of the chapter's experiments on real sockets:
                          ${Object.keys(LABS).join(', ')}
  lab all                 every lab in turn, then one summary table (--quick: smaller counts)
`;

/** Parsed command line. */
interface Args {
  readonly command: 'run' | 'sweep' | 'serve' | 'lab' | 'help';
  readonly lab?: string;
  readonly params: RunParams;
  readonly json: boolean;
  readonly quick: boolean;
  readonly report: string | null;
  readonly port: number;
  readonly sweep?: { readonly axis: SweepAxis; readonly values: readonly number[] };
}

/** A command line that cannot be run. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command line that parsed but cannot run here (a busy port): one line, exit 1, no stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

function fail(message: string): never {
  throw new UsageError(message);
}

function num(flag: string, text: string | undefined, allowInf = false): number {
  if (text === undefined) fail(`${flag} needs a value`);
  if (allowInf && /^(inf|infinity|unlimited)$/i.test(text)) return Number.POSITIVE_INFINITY;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0) fail(`${flag}: not a non-negative number: ${text}`);
  return v;
}

function list(flag: string, text: string | undefined, allowInf = false): number[] {
  if (text === undefined) fail(`${flag} needs a comma-separated list`);
  return text.split(',').map((t) => num(flag, t.trim(), allowInf));
}

/** Parse `argv` (without node and the script). */
export function parseArgs(argv: readonly string[]): Args {
  const rest = [...argv];
  // Help wins over everything else on the line, so `pnpm demo sweep --help` prints it too.
  if (rest[0] === 'help' || rest.includes('--help') || rest.includes('-h')) {
    return { command: 'help', params: DEFAULT_PARAMS, json: false, quick: false, report: null, port: 8090 };
  }
  let command: Args['command'] = 'run';
  let lab: string | undefined;
  if (rest[0] === 'sweep' || rest[0] === 'serve') command = rest.shift() as 'sweep' | 'serve';
  else if (rest[0] === 'lab') {
    rest.shift();
    command = 'lab';
    lab = rest.shift();
    if (lab === undefined || !(lab === 'all' || lab in LABS)) fail(`lab needs one of: all, ${Object.keys(LABS).join(', ')}`);
  }
  let p: RunParams = DEFAULT_PARAMS;
  let json = false;
  let quick = false;
  let report: string | null = 'report.html';
  let port = 8090;
  let sweep: Args['sweep'];
  let sizes: [number, number] | undefined;
  let objects: number | undefined;
  while (rest.length > 0) {
    const flag = rest.shift()!;
    const value = (): string | undefined => rest.shift();
    switch (flag) {
      case '--rtt':
        if (command === 'sweep') sweep = { axis: 'rtt', values: list(flag, value()) };
        else p = { ...p, rttMs: num(flag, value()) };
        break;
      case '--bandwidth':
        if (command === 'sweep') sweep = { axis: 'bandwidth', values: list(flag, value(), true).map((m) => (m * 1e6) / 8) };
        else p = { ...p, bandwidth: (num(flag, value(), true) * 1e6) / 8 };
        break;
      case '--slow':
        if (command !== 'sweep') fail('--slow is a sweep axis: pnpm demo sweep --slow 0,200,500');
        sweep = { axis: 'slow', values: list(flag, value()) };
        break;
      case '--iw':
        p = { ...p, initialWindow: num(flag, value(), true) * 1460 };
        break;
      case '--objects':
        objects = Math.round(num(flag, value()));
        break;
      case '--sizes': {
        const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(value() ?? '');
        if (m === null) fail('--sizes takes min-max in KB, e.g. 2-60');
        sizes = [Number(m[1]) * 1000, Number(m[2]) * 1000];
        break;
      }
      case '--connections':
        p = { ...p, connections: Math.max(1, Math.round(num(flag, value()))) };
        break;
      case '--strategies': {
        const names = (value() ?? '').split(',').map((s) => s.trim());
        for (const n of names) if (!(STRATEGY_NAMES as readonly string[]).includes(n)) fail(`unknown strategy ${n}; known: ${STRATEGY_NAMES.join(', ')}`);
        p = { ...p, strategies: names as StrategyName[] };
        break;
      }
      case '--repeat':
        p = { ...p, repeat: Math.max(1, Math.round(num(flag, value()))) };
        break;
      case '--quick':
        quick = true;
        break;
      case '--json':
        json = true;
        break;
      case '--report':
        report = value() ?? fail('--report needs a file name');
        if (report === '-') report = null;
        break;
      case '--port':
        port = Math.round(num(flag, value()));
        break;
      default:
        fail(`unknown argument ${flag}`);
    }
  }
  if (quick) p = { ...p, page: { ...p.page, objects: 10 } };
  if (objects !== undefined) p = { ...p, page: { ...p.page, objects } };
  if (sizes !== undefined) p = { ...p, page: { ...p.page, minBytes: sizes[0], maxBytes: sizes[1] } };
  if (command === 'sweep' && sweep === undefined) fail('sweep needs --rtt, --bandwidth or --slow with a list of values');
  return { command, ...(lab === undefined ? {} : { lab }), params: p, json, quick, report, port, ...(sweep === undefined ? {} : { sweep }) };
}

/** Progress on stderr: a bar on a terminal, lines otherwise. */
function progressPrinter(json: boolean): (p: Progress) => void {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  return (p) => {
    if (p.type === 'start') {
      if (!tty) process.stderr.write(`running ${p.total} page load(s)…\n`);
      return;
    }
    const line = `${STRATEGY_LABELS[p.strategy]}: ${Math.round(p.trace.totalMs)} ms`;
    if (tty) {
      const width = 24;
      const filled = Math.round((p.done / p.total) * width);
      const elapsed = ((performance.now() - started) / 1000).toFixed(1);
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} ${elapsed} s  ${line}`);
      if (p.done === p.total) process.stderr.write('\n');
    } else if (!json || !tty) {
      process.stderr.write(`  ${p.done}/${p.total} ${line}\n`);
    }
  };
}

/**
 * The directory the user typed the command in. Under `pnpm demo` the CLI runs in apps/demo/, and
 * pnpm passes the user's directory as INIT_CWD (the outer pnpm sets it; the inner one keeps it).
 */
export function userCwd(env: NodeJS.ProcessEnv = process.env): string {
  const init = env.INIT_CWD;
  return init !== undefined && init !== '' && path.isAbsolute(init) ? init : process.cwd();
}

function writeReport(file: string | null, run: RunResult | null, sweep: SweepResult | null): void {
  if (file === null) return;
  const target = path.resolve(userCwd(), file);
  writeFileSync(target, renderReport({ run, sweep }));
  process.stderr.write(`report: ${target}\n`);
}

function formatSweep(s: SweepResult): string {
  const unit = { rtt: 'RTT ms', bandwidth: 'Mbit/s', slow: 'slow ms' }[s.axis];
  const header = [unit, ...s.strategies.map((n) => n), 'fastest'];
  const rows = s.points.map((pt) => {
    const cells = s.strategies.map((n) => {
      const r = pt.run.results.find((x) => x.strategy === n)!;
      const flagged = modelApplies(n) && Math.abs(r.gap) > MODEL_TOLERANCE;
      return `${Math.round(r.trace.totalMs)} (${Math.round(r.model.totalMs)})${flagged ? ' !' : ''}`;
    });
    const best = [...pt.run.results].sort((a, b) => a.trace.totalMs - b.trace.totalMs)[0]!;
    return [s.axis === 'bandwidth' ? `${+((pt.value * 8) / 1e6).toFixed(2)}` : `${pt.value}`, ...cells, best.strategy];
  });
  const off = s.points.flatMap((pt) => pt.run.results.filter((r) => modelApplies(r.strategy) && Math.abs(r.gap) > MODEL_TOLERANCE));
  const verdict =
    off.length === 0
      ? `Every HTTP/1.1 strategy is within ±${MODEL_TOLERANCE * 100}% of the model at every point.`
      : `${off.length} measurement(s) differ from the model by more than ±${MODEL_TOLERANCE * 100}% (marked !; --repeat 3 takes the median of three runs).`;
  const header0 = `sweep of ${s.axis}: total ms measured (model); ${describeParams(s.points[0]!.run.params, s.axis)}`;
  return [header0, describeWork(s.points.flatMap((pt) => runWork(pt.run))), '', table([header, ...rows]), '', verdict, ...s.notes].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  switch (args.command) {
    case 'help':
      process.stdout.write(HELP);
      return;
    case 'lab': {
      if (args.lab === 'all') {
        const all = await runAllLabs(LABS, {
          quick: args.quick,
          log: (line) => process.stderr.write(`${line}\n`),
          onRow: (row, done, total) => process.stderr.write(`${done}/${total} ${row.name}: ${row.ok ? 'ok' : 'NOT observed'} (${Math.round(row.ms)} ms)\n`),
        });
        process.stdout.write(args.json ? `${JSON.stringify(all, null, 2)}\n` : `${formatAllLabs(all)}\n`);
        return;
      }
      const lab = LABS[args.lab!]!;
      const result = await lab.run({ quick: args.quick, log: (line) => process.stderr.write(`${line}\n`) });
      process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatLab(result)}\n`);
      return;
    }
    case 'serve': {
      const { startDashboard } = await import('./dashboard.js');
      let dashboard: Awaited<ReturnType<typeof startDashboard>>;
      try {
        dashboard = await startDashboard({ port: args.port });
      } catch (err) {
        if ((err as NodeJS.ErrnoException | null)?.code !== 'EADDRINUSE') throw err;
        throw new CliError(`port ${args.port} is in use on 127.0.0.1; pick another with --port <n> (0: any free port)`);
      }
      process.stdout.write(`dashboard: ${dashboard.url}  (Ctrl-C to stop)\n`);
      const stop = (): void => void dashboard.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    case 'sweep': {
      const sweep = await runSweep(args.params, args.sweep!.axis, args.sweep!.values, progressPrinter(args.json));
      process.stdout.write(args.json ? `${JSON.stringify(sweep, null, 2)}\n` : `${formatSweep(sweep)}\n`);
      writeReport(args.report, null, sweep);
      return;
    }
    case 'run': {
      const run = await runComparison(args.params, progressPrinter(args.json));
      process.stdout.write(args.json ? `${JSON.stringify(run, null, 2)}\n` : `${formatRun(run)}\n`);
      writeReport(args.report, run, null);
      return;
    }
  }
}

// Run when executed, not when imported (the tests import parseArgs).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`tether demo: ${err.message}\n(see --help)\n`);
      process.exit(2);
    }
    if (err instanceof CliError) {
      process.stderr.write(`tether demo: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`tether demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
