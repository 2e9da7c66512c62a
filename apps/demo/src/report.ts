/**
 * Theory of operation: the self-contained `report.html` — no CDN, everything inlined: the
 * comparison table, one waterfall per strategy (one row per request, like a browser's network
 * panel: queued, connecting, waiting for the first byte, receiving; a numbered chip per
 * connection; the model's predicted end of each object as a tick; a legend and axis titles in
 * every one), drawn at its own time scale and at the shared one (a switch shows one or the
 * other), and for a sweep a line chart on numeric axes drawn with Chart.js, whose bundle is
 * read from node_modules and inlined. Every chart has a sentence under it saying what to look
 * at. The dashboard reuses `waterfallSvg` and the captions.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { STRATEGY_LABELS, describeParams, describeWork, modelApplies } from './format.js';
import { MODEL_TOLERANCE } from './run.js';
import type { StrategyName } from './model.js';
import { runWork } from './run.js';
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

/** What each colour of a waterfall means (the legend drawn in every waterfall). */
const PHASES: readonly (readonly [keyof typeof WATERFALL_COLOURS, string])[] = [
  ['queued', 'queued (waiting for a connection)'],
  ['connect', 'connecting (handshake)'],
  ['wait', 'waiting (request → first byte)'],
  ['receive', 'receiving'],
  ['model', "model's predicted end"],
];

/** Colours of connections (the chip beside each row): distinct hues, cycled. */
export const CONNECTION_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;

/** One sentence per strategy under its waterfall: what to look at. */
export const WATERFALL_CAPTIONS: Readonly<Record<StrategyName, string>> = {
  serial: 'Every row opens its own connection (orange) and starts only when the row above has ended: the page pays one handshake and one round trip per object, one after another.',
  parallel: 'Six rows at a time, each with its own connection chip and its own handshake (orange): the handshakes overlap, but every object still pays one.',
  persistent: 'One connection chip for every row and a single handshake at the top: the rows still follow one another, one round trip (blue) each.',
  pipelined: 'One connection and every request sent at once: the blue waits overlap, and the objects arrive back to back in request order.',
  pooled: 'Six connection chips, each handshake paid once (orange only on the first row of each): after that each connection takes the next object.',
  'pooled-pipelined': 'Six connections, each pipelining its share after its first response: few handshakes and few round trips.',
  multiplexed: 'One HTTP/2 connection, every stream requested at once; the server sends the streams one 16 KB frame each in turn, so responses that fit in one frame end first, in request order, and the larger ones interleave and end last (as the red ticks predict).',
};

/** A time step for grid lines: about ten lines across `scaleMs`. */
function gridStep(scaleMs: number): number {
  const raw = scaleMs / 10;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  return [1, 2, 5, 10].map((m) => m * pow).find((v) => v >= raw) ?? 10 * pow;
}

/**
 * One strategy's waterfall as an SVG element: a legend, one row per request in the order
 * issued (its path, a chip naming and colouring its connection, its phases), the model's
 * predicted end of each object as a tick, and a time axis in ms. `scaleMs`: the axis length.
 */
export function waterfallSvg(r: StrategyResult, scaleMs: number): string {
  const rows = r.trace.requests;
  const rowH = 12;
  const top = 48;
  const left = 200;
  const width = 900;
  const plot = width - left - 10;
  const bottom = top + rows.length * rowH;
  const height = bottom + 34;
  const x = (ms: number): number => left + (Math.min(Math.max(0, ms), scaleMs) / scaleMs) * plot;
  const parts: string[] = [];
  // Legend: the phases, then what the chips are.
  let lx = 4;
  for (const [k, label] of PHASES) {
    parts.push(
      k === 'model'
        ? `<line x1="${lx + 5}" y1="4" x2="${lx + 5}" y2="14" stroke="${WATERFALL_COLOURS.model}" stroke-width="2"/>`
        : `<rect x="${lx}" y="5" width="12" height="9" fill="${WATERFALL_COLOURS[k]}"/>`,
    );
    parts.push(`<text x="${lx + 15}" y="13" font-size="10" fill="#333">${escapeHtml(label)}</text>`);
    lx += 22 + label.length * 5.4;
  }
  parts.push(`<text x="4" y="27" font-size="10" fill="#333">Chip beside each row: the connection that carried it, numbered in the order opened (same chip = same connection).</text>`);
  // Time grid and axis.
  const step = gridStep(scaleMs);
  for (let t = 0; t <= scaleMs + 1e-9; t += step) {
    const at = x(t).toFixed(1);
    parts.push(`<line x1="${at}" y1="${top - 2}" x2="${at}" y2="${bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${at}" y="${bottom + 11}" font-size="9" text-anchor="middle" fill="#666">${+t.toFixed(3)}</text>`);
  }
  parts.push(`<text x="${left + plot / 2}" y="${bottom + 28}" font-size="10" text-anchor="middle" fill="#333">time since the page load started (ms)</text>`);
  parts.push(`<text x="${left - 36}" y="${top - 6}" font-size="10" text-anchor="end" fill="#333">request (in the order issued)</text>`);
  // Connections numbered 1, 2, … in the order they first appear.
  const numbers = new Map<number, number>();
  for (const q of rows) if (!numbers.has(q.connection)) numbers.set(q.connection, numbers.size + 1);
  const objectIndex = (path: string): number => (path.startsWith('/objects/') ? Number(path.slice('/objects/'.length)) : -1);
  rows.forEach((q, i) => {
    const y = top + 12 + i * rowH - 10;
    const n = numbers.get(q.connection) ?? 0;
    const seg = (from: number | undefined, to: number | undefined, colour: string, what: string): void => {
      if (from === undefined || to === undefined || to <= from) return;
      parts.push(`<rect x="${x(from).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(to) - x(from)).toFixed(1)}" height="${rowH - 3}" fill="${colour}"><title>${escapeHtml(`${q.path} on connection ${n}, ${what}: ${Math.round(from)}–${Math.round(to)} ms`)}</title></rect>`);
    };
    parts.push(`<text x="${left - 36}" y="${y + rowH - 4}" font-size="9" text-anchor="end" fill="#333">${escapeHtml(q.path)}</text>`);
    const colour = CONNECTION_COLOURS[(n - 1) % CONNECTION_COLOURS.length]!;
    parts.push(`<rect class="chip" x="${left - 32}" y="${y}" width="26" height="${rowH - 3}" rx="2" fill="${colour}"><title>connection ${n}</title></rect>`);
    parts.push(`<text x="${left - 19}" y="${y + rowH - 4}" font-size="8" text-anchor="middle" fill="#fff">${n}</text>`);
    const sent = Math.max(q.sent, q.connected ?? q.sent);
    seg(q.queued, q.connectStart ?? q.sent, WATERFALL_COLOURS.queued, 'queued');
    seg(q.connectStart, q.connected, WATERFALL_COLOURS.connect, 'connecting');
    seg(q.connected ?? q.sent, q.sent, WATERFALL_COLOURS.queued, 'queued');
    seg(sent, q.firstByte, WATERFALL_COLOURS.wait, 'waiting');
    seg(q.firstByte, q.end, WATERFALL_COLOURS.receive, 'receiving');
    const k = objectIndex(q.path);
    const predicted = k >= 0 ? r.model.objectEndMs[k] : undefined;
    if (predicted !== undefined) parts.push(`<line x1="${x(predicted).toFixed(1)}" y1="${y - 1}" x2="${x(predicted).toFixed(1)}" y2="${y + rowH - 2}" stroke="${WATERFALL_COLOURS.model}" stroke-width="1.5"><title>model: ${Math.round(predicted)} ms</title></line>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`waterfall of ${r.strategy}`)}"><rect width="${width}" height="${height}" fill="#fff"/>${parts.join('')}</svg>`;
}

/** The time axis of a strategy's own waterfall: its measurement or its model, whichever ends later. */
export function ownScale(r: StrategyResult): number {
  return Math.max(r.trace.totalMs, r.model.totalMs) * 1.02;
}

/**
 * A strategy's waterfall at its own scale and at `sharedMs` (every strategy's longest), the
 * second hidden until the page's "same time scale" box is ticked; the caption under it.
 */
export function waterfallFigure(r: StrategyResult, sharedMs: number): string {
  return `<figure class="waterfall" data-strategy="${escapeHtml(r.strategy)}"><div class="own-scale">${waterfallSvg(r, ownScale(r))}</div><div class="shared-scale">${waterfallSvg(r, sharedMs)}</div><figcaption>${escapeHtml(WATERFALL_CAPTIONS[r.strategy])}</figcaption></figure>`;
}

/** The "same time scale" switch for the waterfalls below it (a class on the document's body). */
export const SCALE_SWITCH = `<label class="scale-switch"><input type="checkbox" onchange="document.body.classList.toggle('shared', this.checked); for (const box of document.querySelectorAll('.scale-switch input')) box.checked = this.checked"> same time scale for every strategy (to compare their lengths)</label>`;

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
  const shared = Math.max(...run.results.map(ownScale));
  const waterfalls = run.results
    .map((r) => `<h3>${escapeHtml(STRATEGY_LABELS[r.strategy])} — ${Math.round(r.trace.totalMs)} ms (model ${Math.round(r.model.totalMs)} ms)</h3>${waterfallFigure(r, shared)}`)
    .join('\n');
  return `<section><h2>Comparison</h2><p>${escapeHtml(describeParams(run.params))}</p><p class="note">${escapeHtml(describeWork(runWork(run)))}</p>${resultTable(run)}<p class="note">Rows in red differ from the model by more than ±${MODEL_TOLERANCE * 100}% (HTTP/1.1 strategies).</p><h2>Waterfalls</h2><p>One row per request, like a browser's network panel. Each waterfall has its own time scale, so that the fast strategies fill the width; ${SCALE_SWITCH}</p>${waterfalls}</section>`;
}

/** Bytes per second in Mbit/s, the unit of the bandwidth axis. */
const mbits = (bytesPerSecond: number): number => +((bytesPerSecond * 8) / 1e6).toFixed(3);

/** How a sweep axis is shown: its title with units, a value in those units, and a point's name. */
export const SWEEP_AXES = {
  rtt: { title: 'round-trip time (ms)', value: (v: number): number => v, point: (v: number): string => `RTT ${v} ms` },
  bandwidth: { title: 'bandwidth (Mbit/s)', value: mbits, point: (v: number): string => `bandwidth ${mbits(v)} Mbit/s` },
  slow: { title: 'delay of the first object (ms)', value: (v: number): number => v, point: (v: number): string => `first object ${v} ms late` },
} as const satisfies Record<SweepResult['axis'], { title: string; value: (v: number) => number; point: (v: number) => string }>;

/** What to look at in each kind of sweep chart. */
export const SWEEP_CAPTIONS: Readonly<Record<SweepResult['axis'], string>> = {
  rtt: 'Look at the slopes: each line rises by the number of round trips its strategy waits for in turn, so serial and persistent climb steeply while the strategies that overlap their requests stay nearly flat.',
  bandwidth: 'Look at the left side: when bandwidth is scarce the bytes dominate and every strategy takes about as long; as it grows, round trips dominate and the strategies spread apart.',
  slow: 'Look at pipelined: it rises one for one with the delay, because the responses behind the late one must wait (head-of-line blocking); multiplexed and pooled hardly move.',
};

/** The data of a sweep chart: x in the axis's units, one series per strategy, measured and model, in ms. */
export function sweepSeries(s: SweepResult): { axisTitle: string; x: number[]; series: { name: string; label: string; measured: number[]; model: number[] }[] } {
  const axis = SWEEP_AXES[s.axis];
  const series = s.strategies.map((name) => ({
    name,
    label: STRATEGY_LABELS[name],
    measured: s.points.map((p) => Math.round(p.run.results.find((r) => r.strategy === name)?.trace.totalMs ?? Number.NaN)),
    model: s.points.map((p) => Math.round(p.run.results.find((r) => r.strategy === name)?.model.totalMs ?? Number.NaN)),
  }));
  return { axisTitle: axis.title, x: s.points.map((p) => axis.value(p.value)), series };
}

function sweepSection(s: SweepResult): string {
  const data = JSON.stringify(sweepSeries(s)).replace(/</g, '\\u003c');
  const what = { rtt: 'RTT', bandwidth: 'bandwidth', slow: 'delay of the first object' }[s.axis];
  return `<section class="sweep"><h2>Sweep of ${what}</h2><p>Total page load time per strategy at each ${escapeHtml(what)} (solid lines and points: measured; dashed: model).
<label><input type="checkbox" id="sweep-logx"> logarithmic ${escapeHtml(what)} axis${s.axis === 'bandwidth' ? '' : ' (0 is left out)'}</label>
<label><input type="checkbox" id="sweep-logy"> logarithmic time axis (to tell the fast strategies apart)</label></p>
<div class="chart"><canvas id="sweep"></canvas></div>
<p class="caption">${escapeHtml(SWEEP_CAPTIONS[s.axis])}</p>
<p class="note">${escapeHtml(describeWork(s.points.flatMap((p) => runWork(p.run))))}</p>
<ul>${s.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<script>
(() => {
  const d = ${data};
  const colours = ${JSON.stringify(CONNECTION_COLOURS.slice(0, 7))};
  const shapes = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot', 'rectRounded'];
  const datasets = [];
  d.series.forEach((s, i) => {
    const colour = colours[i % colours.length];
    const points = (ys) => d.x.map((x, j) => ({ x, y: ys[j] }));
    datasets.push({ label: s.label, data: points(s.measured), borderColor: colour, backgroundColor: colour, pointStyle: shapes[i % shapes.length], pointRadius: 5, borderWidth: 2 });
    datasets.push({ label: s.label + ' (model)', data: points(s.model), borderColor: colour, borderDash: [4, 4], borderWidth: 1, pointRadius: 0 });
  });
  const chart = new Chart(document.getElementById('sweep'), {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      plugins: { legend: { labels: { usePointStyle: true, filter: (item) => !item.text.endsWith('(model)') } } },
      scales: {
        x: { type: 'linear', title: { display: true, text: d.axisTitle } },
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'page load time (ms)' } },
      },
    },
  });
  const toggle = (id, axis) => document.getElementById(id).addEventListener('change', (e) => {
    chart.options.scales[axis].type = e.target.checked ? 'logarithmic' : 'linear';
    chart.update();
  });
  toggle('sweep-logx', 'x');
  toggle('sweep-logy', 'y');
})();
</script>
${s.points.map((p) => `<details><summary>${escapeHtml(SWEEP_AXES[s.axis].point(p.value))}</summary>${runSection(p.run)}</details>`).join('\n')}
</section>`;
}

/** Shared page styles (the dashboard uses them too). */
export const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #ddd}th{text-align:left;background:#f5f5f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.flagged td{color:#c62828;font-weight:600}
.legend span{margin-right:14px}.legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
.chart{max-width:900px}.note{color:#666}h3{margin:14px 0 2px;font-size:14px}
figure{margin:0 0 8px}figcaption,.caption{color:#444;font-size:13px;max-width:900px}.shared-scale{display:none}body.shared .shared-scale{display:block}body.shared .own-scale{display:none}`;

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
