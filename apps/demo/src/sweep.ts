/**
 * Theory of operation: the comparison repeated along one axis — RTT, bandwidth, or the delay of
 * one slow object — and a few sentences on what changes along it: which strategy wins where,
 * how much parallel connections gain over one persistent connection as bandwidth shrinks (they
 * stop helping when it is scarce), and how long the other objects wait behind a slow one when
 * pipelined (head-of-line blocking) compared with multiplexed.
 */

import type { StrategyName } from './model.js';
import { runComparison } from './run.js';
import type { Progress, RunParams, RunResult } from './run.js';

/** What a sweep varies. */
export type SweepAxis = 'rtt' | 'bandwidth' | 'slow';

/** One value of the axis and the comparison there. */
export interface SweepPoint {
  readonly value: number;
  readonly run: RunResult;
}

/** A whole sweep. */
export interface SweepResult {
  readonly axis: SweepAxis;
  readonly strategies: readonly StrategyName[];
  readonly points: readonly SweepPoint[];
  /** What the sweep shows, in sentences. */
  readonly notes: readonly string[];
}

/** When every object but the slow one (index 0) was complete. */
export function othersDoneMs(run: RunResult, strategy: StrategyName): number {
  const r = run.results.find((x) => x.strategy === strategy);
  if (r === undefined) return Number.NaN;
  const slowPath = `/objects/${run.params.slow?.index ?? -1}`;
  const objects = r.trace.requests.filter((q) => q.path.startsWith('/objects/') && q.path !== slowPath);
  return Math.max(...objects.map((q) => q.end));
}

function total(run: RunResult, strategy: StrategyName): number {
  return run.results.find((x) => x.strategy === strategy)?.trace.totalMs ?? Number.NaN;
}

function notesFor(axis: SweepAxis, points: readonly SweepPoint[], strategies: readonly StrategyName[]): string[] {
  const notes: string[] = [];
  const label = (v: number): string => (axis === 'bandwidth' ? `${+((v * 8) / 1e6).toFixed(2)} Mbit/s` : axis === 'rtt' ? `RTT ${v} ms` : `${v} ms late`);
  for (const pt of points) {
    const best = [...pt.run.results].sort((a, b) => a.trace.totalMs - b.trace.totalMs)[0];
    if (best !== undefined) notes.push(`At ${label(pt.value)} the fastest is ${best.strategy} (${Math.round(best.trace.totalMs)} ms).`);
  }
  const has = (s: StrategyName): boolean => strategies.includes(s);
  if (axis === 'bandwidth' && has('pooled') && has('persistent')) {
    const gains = points.map((pt) => ({ v: pt.value, gain: total(pt.run, 'persistent') / total(pt.run, 'pooled') }));
    notes.push(
      `Parallel connections vs one: pooled is ${gains.map((g) => `${g.gain.toFixed(1)}× at ${label(g.v)}`).join(', ')} faster than persistent — ` +
        'the gain shrinks as bandwidth gets scarce, because the connections then only split the same link.',
    );
  }
  if (axis === 'rtt' && has('serial') && has('pipelined')) {
    const gains = points.map((pt) => `${(total(pt.run, 'serial') / total(pt.run, 'pipelined')).toFixed(1)}× at ${label(pt.value)}`);
    notes.push(`Round trips cost more as RTT grows: serial takes ${gains.join(', ')} as long as pipelined.`);
  }
  if (axis === 'slow') {
    for (const s of ['pipelined', 'multiplexed', 'pooled'] as const) {
      if (!has(s)) continue;
      const waits = points.map((pt) => `${Math.round(othersDoneMs(pt.run, s))} ms at ${label(pt.value)}`);
      notes.push(`${s}: the other objects were all in by ${waits.join(', ')}.`);
    }
    if (has('pipelined') && has('multiplexed')) {
      notes.push('Pipelined responses must come back in request order, so everything behind the slow object waits for it (head-of-line blocking); multiplexed streams do not.');
    }
  }
  return notes;
}

/** Run the comparison at each of `values` along `axis`. */
export async function runSweep(base: RunParams, axis: SweepAxis, values: readonly number[], onProgress: (p: Progress) => void = () => undefined): Promise<SweepResult> {
  const points: SweepPoint[] = [];
  for (const value of values) {
    const params: RunParams =
      axis === 'rtt' ? { ...base, rttMs: value } : axis === 'bandwidth' ? { ...base, bandwidth: value } : { ...base, slow: { index: 0, delayMs: value } };
    points.push({ value, run: await runComparison(params, onProgress) });
  }
  return { axis, strategies: base.strategies, points, notes: notesFor(axis, points, base.strategies) };
}
