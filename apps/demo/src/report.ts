/**
 * Theory of operation: the self-contained `report.html` — no CDN, everything inlined: the
 * comparison table, one waterfall per strategy (one row per request, like a browser's network
 * panel: queued, connecting, waiting for the first byte, receiving; the model's predicted end
 * of each object as a tick), and for a sweep one line chart per metric drawn with Chart.js,
 * whose bundle is read from node_modules and inlined. The dashboard reuses `waterfallSvg`.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { STRATEGY_LABELS, describeParams, modelApplies } from './format.js';
import { MODEL_TOLERANCE } from './run.js';
import type { RunResult, StrategyResult } from './run.js';
import type { SweepResult } from './sweep.js';

const require = createRequire(import.meta.url);

/** Chart.js's UMD bundle, for inlining (and for the dashboard to serve). */
export function chartJsSource(): string {
  // The package's exports map names only its modules; the UMD bundle sits beside them in dist/.
  return readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
}

/** Escape text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Segment colours of a waterfall row. */
export const WATERFALL_COLOURS = { queued: '#d9d9d9', connect: '#f5a623', wait: '#4a90d9', receive: '#2e7d32', model: '#c62828' } as const;

/** One strategy's waterfall as an SVG element. `scaleMs`: the time axis length (shared across strategies). */
export function waterfallSvg(r: StrategyResult, scaleMs: number): string {
  const rows = r.trace.requests;
  const rowH = 12;
  const left = 150;
  const width = 900;
  const plot = width - left - 10;
  const height = rows.length * rowH + 30;
  const x = (ms: number): number => left + (Math.max(0, ms) / scaleMs) * plot;
  const parts: string[] = [];
  // Time grid every 100 ms (or coarser).
  const step = scaleMs > 4000 ? 1000 : scaleMs > 2000 ? 500 : scaleMs > 800 ? 200 : 100;
  for (let t = 0; t <= scaleMs; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="0" x2="${x(t).toFixed(1)}" y2="${height - 18}" stroke="#eee"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - 4}" font-size="9" text-anchor="middle" fill="#666">${t}</text>`);
  }
  const objectIndex = (path: string): number => (path.startsWith('/objects/') ? Number(path.slice('/objects/'.length)) : -1);
  rows.forEach((q, i) => {
    const y = i * rowH + 2;
    const seg = (from: number | undefined, to: number | undefined, colour: string, what: string): void => {
      if (from === undefined || to === undefined || to <= from) return;
      parts.push(`<rect x="${x(from).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(to) - x(from)).toFixed(1)}" height="${rowH - 3}" fill="${colour}"><title>${escapeHtml(`${q.path} ${what}: ${Math.round(from)}–${Math.round(to)} ms`)}</title></rect>`);
    };
    parts.push(`<text x="${left - 4}" y="${y + rowH - 4}" font-size="9" text-anchor="end" fill="#333">${escapeHtml(`${q.path} #${q.connection % 1000}`)}</text>`);
    seg(q.queued, q.connectStart ?? q.sent, WATERFALL_COLOURS.queued, 'queued');
    seg(q.connectStart, q.connected, WATERFALL_COLOURS.connect, 'connecting');
    seg(q.connected ?? q.sent, q.sent, WATERFALL_COLOURS.queued, 'queued');
    seg(q.sent, q.firstByte, WATERFALL_COLOURS.wait, 'waiting');
    seg(q.firstByte, q.end, WATERFALL_COLOURS.receive, 'receiving');
    const k = objectIndex(q.path);
    const predicted = k >= 0 ? r.model.objectEndMs[k] : undefined;
    if (predicted !== undefined) parts.push(`<line x1="${x(predicted).toFixed(1)}" y1="${y - 1}" x2="${x(predicted).toFixed(1)}" y2="${y + rowH - 2}" stroke="${WATERFALL_COLOURS.model}" stroke-width="1.5"><title>model: ${Math.round(predicted)} ms</title></line>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`waterfall of ${r.strategy}`)}">${parts.join('')}</svg>`;
}

const LEGEND = `<p class="legend">${Object.entries({ queued: 'queued', connect: 'connecting (a loopback connect: netem charges the emulated handshake to the first bytes, so it shows as waiting)', wait: 'waiting (request → first byte)', receive: 'receiving', model: "model's predicted end" })
  .map(([k, label]) => `<span><i style="background:${WATERFALL_COLOURS[k as keyof typeof WATERFALL_COLOURS]}"></i>${label}</span>`)
  .join(' ')}</p>`;

/** The comparison table as HTML. */
export function resultTable(run: RunResult): string {
  const head = ['strategy', 'total ms', 'model ms', 'gap', 'first object ms', 'connections', 'handshakes', 'requests/conn', 'KB down', 'retries'];
  const rows = run.results.map((r) => {
    const flagged = modelApplies(r.strategy) && Math.abs(r.gap) > MODEL_TOLERANCE;
    const perConn = r.trace.requestsPerConnection.reduce((a, b) => a + b, 0) / Math.max(1, r.trace.requestsPerConnection.length);
    const cells = [
      STRATEGY_LABELS[r.strategy],
      `${Math.round(r.trace.totalMs)}`,
      `${Math.round(r.model.totalMs)}`,
      `${r.gap >= 0 ? '+' : ''}${(r.gap * 100).toFixed(0)}%`,
      `${Math.round(r.trace.firstObjectMs)}`,
      `${r.trace.connections}`,
      `${r.link.handshakes}`,
      perConn.toFixed(1),
      `${Math.round(r.link.bytesDown / 1000)}`,
      `${r.trace.retries}`,
    ];
    return `<tr${flagged ? ' class="flagged"' : ''}>${cells.map((c, i) => `<td${i === 0 ? '' : ' class="n"'}>${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function runSection(run: RunResult): string {
  const scale = Math.max(...run.results.map((r) => Math.max(r.trace.totalMs, r.model.totalMs))) * 1.02;
  const waterfalls = run.results
    .map((r) => `<h3>${escapeHtml(STRATEGY_LABELS[r.strategy])} — ${Math.round(r.trace.totalMs)} ms (model ${Math.round(r.model.totalMs)} ms)</h3>${waterfallSvg(r, scale)}`)
    .join('\n');
  return `<section><h2>Comparison</h2><p>${escapeHtml(describeParams(run.params))}</p>${resultTable(run)}<p class="note">Rows in red differ from the model by more than ±${MODEL_TOLERANCE * 100}% (HTTP/1.1 strategies).</p><h2>Waterfalls</h2>${LEGEND}${waterfalls}</section>`;
}

/** The data a sweep chart needs: one series per strategy, measured and model. */
export function sweepSeries(s: SweepResult): { labels: string[]; series: { name: string; measured: number[]; model: number[] }[] } {
  const labels = s.points.map((p) => (s.axis === 'bandwidth' ? `${+((p.value * 8) / 1e6).toFixed(2)} Mbit/s` : `${p.value} ms`));
  const series = s.strategies.map((name) => ({
    name,
    measured: s.points.map((p) => Math.round(p.run.results.find((r) => r.strategy === name)?.trace.totalMs ?? Number.NaN)),
    model: s.points.map((p) => Math.round(p.run.results.find((r) => r.strategy === name)?.model.totalMs ?? Number.NaN)),
  }));
  return { labels, series };
}

function sweepSection(s: SweepResult): string {
  const data = JSON.stringify(sweepSeries(s)).replace(/</g, '\\u003c');
  const axis = { rtt: 'RTT', bandwidth: 'bandwidth', slow: 'delay of the first object' }[s.axis];
  return `<section><h2>Sweep of ${axis}</h2><p>Total page load time per strategy (solid: measured, dashed: model).</p>
<div class="chart"><canvas id="sweep"></canvas></div>
<ul>${s.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<script>
(() => {
  const d = ${data};
  const colours = ['#c62828', '#ef6c00', '#2e7d32', '#1565c0', '#6a1b9a', '#00838f', '#5d4037'];
  const datasets = [];
  d.series.forEach((s, i) => {
    datasets.push({ label: s.name, data: s.measured, borderColor: colours[i % colours.length], backgroundColor: colours[i % colours.length], tension: 0.2 });
    datasets.push({ label: s.name + ' (model)', data: s.model, borderColor: colours[i % colours.length], borderDash: [4, 4], pointRadius: 0, tension: 0.2 });
  });
  new Chart(document.getElementById('sweep'), { type: 'line', data: { labels: d.labels, datasets }, options: { animation: false, scales: { y: { title: { display: true, text: 'ms' }, beginAtZero: true } } } });
})();
</script>
${s.points.map((p) => `<details><summary>${escapeHtml(s.axis)} = ${p.value}</summary>${runSection(p.run)}</details>`).join('\n')}
</section>`;
}

/** Shared page styles (the dashboard uses them too). */
export const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #ddd}th{text-align:left;background:#f5f5f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.flagged td{color:#c62828;font-weight:600}
.legend span{margin-right:14px}.legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
.chart{max-width:900px}.note{color:#666}h3{margin:14px 0 2px;font-size:14px}`;

/** The whole report. */
export function renderReport(content: { run: RunResult | null; sweep: SweepResult | null }): string {
  const body = [content.run === null ? '' : runSection(content.run), content.sweep === null ? '' : sweepSection(content.sweep)].join('\n');
  const chart = content.sweep === null ? '' : `<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tether demo report</title><style>${STYLE}</style>${chart}</head>
<body><h1>tether: HTTP/1.1 connection strategies</h1>
<p>Generated ${escapeHtml(new Date().toISOString())} by <code>pnpm demo</code>. Every strategy loaded the same page through a fresh emulated link (@tether/netem).</p>
${body}
</body></html>
`;
}
