/**
 * The comparison end to end through @tether/netem on loopback: every HTTP/1.1 strategy lands
 * within the model's tolerance, opens the connections the model says, re-sends nothing; a sweep
 * runs; the report is self-contained (no address outside the file).
 */
import { describe, expect, it } from 'vitest';
import { formatRun, modelApplies } from '../src/format.js';
import { predict } from '../src/model.js';
import { renderReport } from '../src/report.js';
import { DEFAULT_PARAMS, MODEL_TOLERANCE, runComparison } from '../src/run.js';
import { runSweep } from '../src/sweep.js';

describe('end to end', () => {
  it('quick scenario (RTT 50 ms, 10 Mbit/s, IW 10, 10 objects): measurement within ±15% of the model', async () => {
    const run = await runComparison({ ...DEFAULT_PARAMS, page: { ...DEFAULT_PARAMS.page, objects: 10 } });
    for (const r of run.results) {
      expect(r.trace.retries, r.strategy).toBe(0);
      expect(r.trace.requests, r.strategy).toHaveLength(11);
      expect(r.trace.connections, r.strategy).toBe(r.model.connections);
      expect(r.link.handshakes, r.strategy).toBe(r.model.handshakes);
      // Each new connection's connecting phase is the emulated handshake: at least one RTT.
      const opened = r.trace.requests.filter((q) => q.connectStart !== undefined);
      expect(opened.length, r.strategy).toBe(r.trace.connections);
      for (const q of opened) expect((q.connected ?? 0) - (q.connectStart ?? 0), `${r.strategy} ${q.path}`).toBeGreaterThanOrEqual(DEFAULT_PARAMS.rttMs - 1);
      if (modelApplies(r.strategy)) expect(Math.abs(r.gap), `${r.strategy}: measured ${Math.round(r.trace.totalMs)} ms, model ${Math.round(r.model.totalMs)} ms`).toBeLessThanOrEqual(MODEL_TOLERANCE);
    }
    // The machine's work was measured, went into the model, and the output says so.
    for (const r of run.results) {
      expect(r.work.requestMs, r.strategy).toBeGreaterThanOrEqual(0);
      expect(r.work.connectMs, r.strategy).toBeGreaterThanOrEqual(0);
      expect(r.model, r.strategy).toEqual(predict(r.strategy, { ...run.scenario, ...r.work }));
    }
    expect(formatRun(run)).toContain("The model includes this machine's own work, measured on loopback just before each page load:");
    // The body bytes are the page's, whatever the strategy.
    const bytes = new Set(run.results.map((r) => r.trace.bodyBytes));
    expect(bytes.size).toBe(1);
    const html = renderReport({ run, sweep: null });
    // Each waterfall twice: at its own time scale and at the shared one.
    expect(html.match(/<svg /g)).toHaveLength(2 * run.results.length);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('measured on loopback just before each page load');
  }, 60_000);

  it('a sweep of the slow object shows head-of-line blocking: pipelined waits, multiplexed does not', async () => {
    const sweep = await runSweep({ ...DEFAULT_PARAMS, rttMs: 20, strategies: ['pipelined', 'multiplexed'], page: { ...DEFAULT_PARAMS.page, objects: 6, maxBytes: 10_000 } }, 'slow', [0, 400]);
    const late = sweep.points[1]!.run;
    const others = (s: string): number => Math.max(...late.results.find((r) => r.strategy === s)!.trace.requests.filter((q) => q.path.startsWith('/objects/') && q.path !== '/objects/0').map((q) => q.end));
    expect(others('pipelined')).toBeGreaterThan(400);
    expect(others('multiplexed')).toBeLessThan(300);
    expect(sweep.notes.join('\n')).toMatch(/head-of-line blocking/);
    const html = renderReport({ run: null, sweep });
    expect(html).toContain('new Chart(');
    expect(html).not.toMatch(/(src|href)="https?:/);
  }, 60_000);
});
