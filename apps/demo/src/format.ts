/**
 * Theory of operation: plain-text rendering of results for the terminal — the comparison table
 * (measurement beside the model, gaps beyond the tolerance flagged and explained), sweep tables,
 * and the parameters line. No colours: the output reads the same in a log file.
 */

import type { StrategyName } from './model.js';
import { MODEL_TOLERANCE } from './run.js';
import type { MachineWork, RunParams, RunResult, StrategyResult } from './run.js';

/** Human names of the strategies. */
export const STRATEGY_LABELS: Readonly<Record<StrategyName, string>> = {
  serial: 'serial (new connection each)',
  parallel: 'parallel (6 new connections)',
  persistent: 'persistent (1 keep-alive)',
  pipelined: 'pipelined (1 connection)',
  pooled: 'pooled (6 keep-alive)',
  'pooled-pipelined': 'pooled + pipelined',
  multiplexed: 'multiplexed (HTTP/2)',
};

/** Whether the model's tolerance applies (HTTP/1.1 strategies). */
export function modelApplies(strategy: StrategyName): boolean {
  return strategy !== 'multiplexed';
}

/** Render rows as an aligned table; the first row is the header. Columns after the first are right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** `10 Mbit/s`, `512 kbit/s`. */
export function formatBandwidth(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond)) return 'unlimited';
  const bits = bytesPerSecond * 8;
  return bits >= 1e6 ? `${+(bits / 1e6).toFixed(2)} Mbit/s` : `${+(bits / 1e3).toFixed(1)} kbit/s`;
}

/** One line describing the scenario; `swept` names the parameter a sweep varies (left out here). */
export function describeParams(p: RunParams, swept?: 'rtt' | 'bandwidth' | 'slow'): string {
  const iw = Number.isFinite(p.initialWindow) ? `IW ${+(p.initialWindow / 1460).toFixed(1)} segments` : 'no slow start';
  const slow = p.slow === undefined || swept === 'slow' ? '' : `, object ${p.slow.index} answered ${p.slow.delayMs} ms late`;
  const rtt = swept === 'rtt' ? 'RTT swept' : `RTT ${p.rttMs} ms`;
  const bandwidth = swept === 'bandwidth' ? 'bandwidth swept' : formatBandwidth(p.bandwidth);
  return `${rtt}, ${bandwidth}, ${iw}; ${p.page.objects} objects of ${p.page.minBytes / 1000}–${p.page.maxBytes / 1000} KB; ${p.connections} connections for parallel/pooled; ${p.repeat} run(s) each, median shown${slow}`;
}

/** The sentence saying the model includes the machine's work, and that it was measured (the range over page loads). */
export function describeWork(works: readonly MachineWork[]): string {
  const range = (pick: (w: MachineWork) => number): string => {
    const lo = Math.min(...works.map(pick)).toFixed(1);
    const hi = Math.max(...works.map(pick)).toFixed(1);
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  return `The model includes this machine's own work, measured on loopback just before each page load: ${range((w) => w.requestMs)} ms per request, ${range((w) => w.connectMs)} ms more per new connection.`;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)}` : '–');

/** Why a flagged gap is likely there (the interesting part: what the model left out, or a bug). */
function explainGap(r: StrategyResult): string {
  const t = r.trace;
  if (t.retries > 0) return `${t.retries} request(s) were re-sent: a connection dropped`;
  if (t.connections > r.model.connections) return `the client opened ${t.connections} connections where the model expects ${r.model.connections}`;
  if (r.gap > 0) return 'slower than the model: an extra round trip or a stall (look at the waterfall)';
  return 'faster than the model: the model over-counts round trips here';
}

/** The comparison table and, below it, a note per flagged gap. */
export function formatRun(run: RunResult): string {
  const header = ['strategy', 'total ms', 'model ms', 'gap', '1st object ms', 'conns', 'handshakes', 'req/conn', 'KB down', 'retries'];
  const rows = run.results.map((r) => {
    const t = r.trace;
    const flagged = modelApplies(r.strategy) && Math.abs(r.gap) > MODEL_TOLERANCE;
    const perConn = t.requestsPerConnection.length === 0 ? '–' : `${+(t.requestsPerConnection.reduce((a, b) => a + b, 0) / t.requestsPerConnection.length).toFixed(1)}`;
    return [
      STRATEGY_LABELS[r.strategy],
      ms(t.totalMs),
      ms(r.model.totalMs),
      `${r.gap >= 0 ? '+' : ''}${(r.gap * 100).toFixed(0)}%${flagged ? ' !' : ''}`,
      ms(t.firstObjectMs),
      `${t.connections}`,
      `${r.link.handshakes}`,
      perConn,
      `${Math.round(r.link.bytesDown / 1000)}`,
      `${t.retries}`,
    ];
  });
  const lines = [describeParams(run.params), describeWork(run.results.map((r) => r.work)), '', table([header, ...rows])];
  const flagged = run.results.filter((r) => modelApplies(r.strategy) && Math.abs(r.gap) > MODEL_TOLERANCE);
  lines.push('');
  if (flagged.length === 0) lines.push(`Every HTTP/1.1 strategy is within ±${MODEL_TOLERANCE * 100}% of the model (gap = measured vs model, total time).`);
  for (const r of flagged) lines.push(`! ${STRATEGY_LABELS[r.strategy]}: ${(r.gap * 100).toFixed(0)}% off the model — ${explainGap(r)}.`);
  const fastest = [...run.results].sort((a, b) => a.trace.totalMs - b.trace.totalMs)[0];
  if (fastest !== undefined) lines.push(`Fastest: ${STRATEGY_LABELS[fastest.strategy]}, ${ms(fastest.trace.totalMs)} ms.`);
  return lines.join('\n');
}
