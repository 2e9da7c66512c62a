/**
 * Theory of operation: `pnpm demo serve` — a Fastify app on 127.0.0.1. `GET /` is a page where a
 * user sets the parameters and starts a comparison; `GET /api/run?…` streams it as server-sent
 * events: one `progress` event per page load (with that strategy's waterfall, drawn on the
 * server with the report's SVG code) and a final `result` event with the table. Chart.js is
 * served from node_modules (`/assets/chart.js`), never from a CDN. One comparison runs at a time
 * (they share the machine's timing); a second request while one runs gets 409. The page reads
 * the stream with `fetch` (an EventSource hides a refused request's status and body), so it
 * shows a 400's or 409's message and gives the Run button back. Each waterfall arrives at its
 * own time scale; the `result` event brings them all on the shared scale for the page's switch.
 */

import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { registerLabs } from './dashboard-labs.js';
import { STRATEGY_NAMES } from './model.js';
import type { StrategyName } from './model.js';
import { STRATEGY_LABELS, describeWork } from './format.js';
import { SCALE_SWITCH, STYLE, WATERFALL_CAPTIONS, chartJsSource, escapeHtml, ownScale, resultTable, waterfallSvg } from './report.js';
import { DEFAULT_PARAMS, runComparison, runWork } from './run.js';
import type { RunParams, StrategyResult } from './run.js';

/** A running dashboard. */
export interface Dashboard {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Query parameters of /api/run (all optional). */
interface RunQuery {
  rtt?: string;
  bandwidth?: string;
  iw?: string;
  objects?: string;
  minKb?: string;
  maxKb?: string;
  connections?: string;
  strategies?: string;
}

function bounded(text: string | undefined, dflt: number, min: number, max: number, what: string): number {
  if (text === undefined || text === '') return dflt;
  const v = Number(text);
  if (!Number.isFinite(v) || v < min || v > max) throw new RangeError(`${what} must be between ${min} and ${max}`);
  return v;
}

/** Parameters from a query; limits keep one run short enough for a page (and the machine) to wait for. */
export function paramsFromQuery(q: RunQuery): RunParams {
  const strategies = (q.strategies ?? STRATEGY_NAMES.join(',')).split(',').filter(Boolean);
  for (const s of strategies) if (!(STRATEGY_NAMES as readonly string[]).includes(s)) throw new RangeError(`unknown strategy ${s}`);
  const minKb = bounded(q.minKb, DEFAULT_PARAMS.page.minBytes / 1000, 0.1, 1000, 'minKb');
  const maxKb = bounded(q.maxKb, DEFAULT_PARAMS.page.maxBytes / 1000, minKb, 1000, 'maxKb');
  return {
    ...DEFAULT_PARAMS,
    rttMs: bounded(q.rtt, DEFAULT_PARAMS.rttMs, 0, 500, 'rtt'),
    bandwidth: (bounded(q.bandwidth, 10, 0.1, 1000, 'bandwidth') * 1e6) / 8,
    initialWindow: bounded(q.iw, 10, 1, 100, 'iw') * 1460,
    connections: bounded(q.connections, 6, 1, 16, 'connections'),
    page: { ...DEFAULT_PARAMS.page, objects: bounded(q.objects, 30, 0, 100, 'objects'), minBytes: minKb * 1000, maxBytes: maxKb * 1000 },
    strategies: strategies as StrategyName[],
    repeat: 1,
  };
}

/** The page's icon: three bars of a waterfall. */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="2" width="6" height="3" fill="#f5a623"/><rect x="4" y="7" width="7" height="3" fill="#4a90d9"/><rect x="8" y="12" width="7" height="3" fill="#2e7d32"/></svg>`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tether demo</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"><style>${STYLE}
form{display:flex;flex-wrap:wrap;gap:10px;align-items:end}form label{display:flex;flex-direction:column;font-size:12px}form input{width:90px}
#status{margin:10px 0;color:#555}#status.error{color:#c62828;font-weight:600}</style><script src="/assets/chart.js"></script></head>
<body><h1>tether: HTTP/1.1 connection strategies</h1>
<p><a href="/labs">The chapter's experiments on real sockets (labs) →</a></p>
<form id="params">
<label>RTT ms<input name="rtt" value="50"></label>
<label>bandwidth Mbit/s<input name="bandwidth" value="10"></label>
<label>initial window (segments)<input name="iw" value="10"></label>
<label>objects<input name="objects" value="30"></label>
<label>min KB<input name="minKb" value="2"></label>
<label>max KB<input name="maxKb" value="60"></label>
<label>connections<input name="connections" value="6"></label>
<label>strategies<input name="strategies" style="width:420px" value="${STRATEGY_NAMES.join(',')}"></label>
<button id="run" type="submit">Run</button>
</form>
<div id="status">Set the parameters and press Run.</div>
<div class="chart"><canvas id="bars" height="110"></canvas></div>
<p class="caption">Look at the gap between each pair of bars: measured (blue) and the model's prediction (red) for the same strategy; the shortest pair is the fastest strategy.</p>
<div id="table"></div>
<p id="scale">${SCALE_SWITCH}</p>
<div id="waterfalls"></div>
<script>
const form = document.getElementById('params');
const status = document.getElementById('status');
const waterfalls = document.getElementById('waterfalls');
let chart = null;
function drawBars(rows) {
  const data = { labels: rows.map((r) => r.label), datasets: [
    { label: 'measured ms', data: rows.map((r) => r.measured), backgroundColor: '#1565c0' },
    { label: 'model ms', data: rows.map((r) => r.model), backgroundColor: '#c62828' } ] };
  if (chart === null) chart = new Chart(document.getElementById('bars'), { type: 'bar', data, options: { animation: false, indexAxis: 'y', scales: { x: { beginAtZero: true, title: { display: true, text: 'page load time (ms)' } } } } });
  else { chart.data = data; chart.update(); }
}
const runButton = document.getElementById('run');
function finish(text, failed) {
  status.textContent = text;
  status.className = failed ? 'error' : '';
  runButton.disabled = false;
}
function onEvent(type, d, rows) {
  if (type === 'progress') {
    status.textContent = d.done + '/' + d.total + ' ' + d.label + ': ' + d.measured + ' ms (model ' + d.model + ' ms)';
    rows.push(d);
    drawBars(rows);
    const figure = document.createElement('figure');
    figure.className = 'waterfall';
    figure.dataset.strategy = d.strategy;
    figure.innerHTML = '<h3>' + d.label + ' — ' + d.measured + ' ms (model ' + d.model + ' ms)</h3><div class="own-scale">' + d.svg + '</div><div class="shared-scale"></div><figcaption></figcaption>';
    figure.querySelector('figcaption').textContent = d.caption;
    waterfalls.appendChild(figure);
  } else if (type === 'result') {
    document.getElementById('table').innerHTML = d.table + '<p class="note"></p>';
    document.querySelector('#table .note').textContent = d.work;
    for (const w of d.shared) {
      const figure = waterfalls.querySelector('figure[data-strategy="' + w.strategy + '"] .shared-scale');
      if (figure !== null) figure.innerHTML = w.svg;
    }
    finish('done: ' + d.summary, false);
  } else if (type === 'failure') {
    finish('failed: ' + d.message, true);
  }
}
// fetch rather than EventSource: an EventSource hides a refused request's status and body
// (400 for bad parameters, 409 while another run goes on), and this page must show them.
async function run(query) {
  const rows = [];
  const res = await fetch('/api/run?' + query, { headers: { accept: 'text/event-stream' } });
  if (!res.ok) {
    let message = res.status + ' ' + res.statusText;
    try { message = (await res.json()).error ?? message; } catch {}
    finish('error: ' + message, true);
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let ended = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\\n\\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let type = 'message';
      let data = '';
      for (const line of block.split('\\n')) {
        if (line.startsWith('event: ')) type = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (type === 'result' || type === 'failure') ended = true;
      onEvent(type, JSON.parse(data), rows);
    }
  }
  if (!ended) finish('error: the connection to the dashboard closed before the run ended', true);
}
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const q = new URLSearchParams(new FormData(form));
  waterfalls.innerHTML = '';
  document.getElementById('table').innerHTML = '';
  runButton.disabled = true;
  status.className = '';
  status.textContent = 'running…';
  run(q).catch((err) => finish('error: ' + err.message, true));
});
</script></body></html>`;

/** Options of `startDashboard`. */
export interface DashboardOptions {
  /** Port on 127.0.0.1; 0: any free port. Default 8090. */
  port?: number;
  /**
   * What `/api/run` runs: `runComparison` by default. A test passes one that waits for its
   * signal, to hold the dashboard busy for exactly as long as it needs.
   */
  runComparison?: typeof runComparison;
}

/** Start the dashboard on 127.0.0.1:`port` (0: any free port). */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const compare = options.runComparison ?? runComparison;
  const app = Fastify({ logger: false });
  let busy = false;
  const chartJs = chartJsSource();

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  // A browser asks for an icon on every page load; answer it (a 404 shows in the console).
  for (const route of ['/favicon.svg', '/favicon.ico']) {
    app.get(route, async (_req, reply) => reply.type('image/svg+xml').header('cache-control', 'max-age=86400').send(FAVICON));
  }
  app.get('/assets/chart.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=3600').send(chartJs));
  app.get<{ Querystring: RunQuery }>('/api/run', async (req, reply) => {
    let params: RunParams;
    try {
      params = paramsFromQuery(req.query);
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
    if (busy) return reply.code(409).send({ error: 'a comparison is already running' });
    busy = true;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.flushHeaders(); // the page learns at once that its run started (and a second one gets 409)
    const send = (event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    try {
      const run = await compare(params, (p) => {
        if (p.type !== 'run') return;
        const model = p.model;
        const result: StrategyResult = { strategy: p.strategy, trace: p.trace, runs: [p.trace], model, gap: 0, link: { handshakes: 0, bytesUp: 0, bytesDown: 0 }, work: { requestMs: 0, connectMs: 0 } };
        send('progress', {
          done: p.done,
          total: p.total,
          strategy: p.strategy,
          label: STRATEGY_LABELS[p.strategy],
          measured: Math.round(p.trace.totalMs),
          model: Math.round(model.totalMs),
          svg: waterfallSvg(result, ownScale(result)),
          caption: WATERFALL_CAPTIONS[p.strategy],
        });
      });
      const best = [...run.results].sort((a, b) => a.trace.totalMs - b.trace.totalMs)[0];
      // The same waterfalls on one time scale, for the page's "same time scale" switch.
      const shared = Math.max(...run.results.map(ownScale));
      send('result', { shared: run.results.map((r) => ({ strategy: r.strategy, svg: waterfallSvg(r, shared) })), table: resultTable(run), work: describeWork(runWork(run)), summary: best === undefined ? 'no strategies' : `fastest: ${escapeHtml(STRATEGY_LABELS[best.strategy])}, ${Math.round(best.trace.totalMs)} ms` });
    } catch (err) {
      send('failure', { message: (err as Error).message });
    } finally {
      busy = false;
      res.end();
    }
  });

  registerLabs(app);
  const address = await app.listen({ port: options.port ?? 8090, host: '127.0.0.1' });
  return { url: address, app, close: () => app.close() };
}
