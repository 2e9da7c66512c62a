/**
 * Theory of operation: the labs in the dashboard. {@link registerLabs} adds to the dashboard's
 * Fastify app:
 * - `GET /labs`: a page where a user picks a lab (or `all`), ticks "quick" or not, presses Run,
 *   and sees the `lab all` summary table fill in row by row, with each lab's measured lines and
 *   its two lines of explanation below;
 * - `GET /api/labs`: the registry as JSON (name, title, what it shows);
 * - `GET /api/labs/run?lab=<name|all>&quick=1`: runs it and streams server-sent events — `start`
 *   (the names about to run), one `row` per finished lab (its summary row, measured lines and
 *   explanation), then `done` (how many observed their effect, the total time) or `failure`.
 *   The page reads the stream with fetch (not EventSource), so a refused run shows its error.
 *   An unknown lab is 404 JSON; a second run while one runs is 409 (labs measure timing on the
 *   machine they share).
 * The page builds its DOM with `textContent` only, so nothing a lab prints is parsed as HTML.
 * Everything stays on the dashboard's origin.
 */

import type { FastifyInstance } from 'fastify';

import { LABS, LAB_NAMES, runAllLabs } from './labs/index.js';
import type { LabSummaryRow, RegisteredLab } from './labs/index.js';

/** Query of `/api/labs/run`. */
interface LabRunQuery {
  lab?: string;
  quick?: string;
}

/** What the page receives for a finished lab. */
export interface LabRowEvent {
  readonly done: number;
  readonly total: number;
  readonly name: string;
  readonly title: string;
  readonly shows: string;
  readonly measured: string;
  readonly expected: string;
  readonly ok: boolean;
  readonly ms: number;
  /** The lab's measured lines (label, value); empty when it failed. */
  readonly lines: readonly { readonly label: string; readonly value: string }[];
  readonly explanation: readonly string[];
  readonly error?: string;
}

/**
 * The labs a query asks for (pure): `all` is every lab in the registry's order, a name is that
 * lab alone; anything else is null.
 */
export function labsFor(name: string | undefined, labs: Readonly<Record<string, RegisteredLab>> = LABS): Readonly<Record<string, RegisteredLab>> | null {
  if (name === 'all') return labs;
  if (name === undefined || !Object.hasOwn(labs, name)) return null;
  return { [name]: labs[name]! };
}

/** The event the page gets for a summary row (pure). */
export function rowEvent(row: LabSummaryRow, done: number, total: number, title: string): LabRowEvent {
  return {
    done,
    total,
    name: row.name,
    title,
    shows: row.shows,
    measured: row.measured,
    expected: row.expected,
    ok: row.ok,
    ms: Math.round(row.ms),
    lines: row.result?.measured.map((m) => ({ label: m.label, value: m.value })) ?? [],
    explanation: row.result?.explanation ?? [],
    ...(row.error === undefined ? {} : { error: row.error }),
  };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tether demo — labs</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}th{background:#f5f5f5}
#summary td:first-child,td.n{white-space:nowrap}td.ok{color:#2e7d32;font-weight:600}td.not{color:#c62828;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
form{display:flex;gap:12px;align-items:end}label{display:flex;flex-direction:column;font-size:12px}
#status{margin:10px 0;color:#555}.lab h3{margin:16px 0 2px;font-size:14px}.lab p{margin:2px 0;color:#555}
</style></head>
<body><h1>tether: the chapter's experiments</h1>
<p><a href="/">← connection strategies</a> · each lab runs on real sockets on 127.0.0.1, one at a time; <code>pnpm demo lab &lt;name&gt;</code> runs the same from a terminal.</p>
<form id="labs-form">
<label>lab<select name="lab" id="lab"></select></label>
<label><span>quick (smaller counts)</span><input type="checkbox" name="quick" value="1" checked></label>
<button id="run-lab" type="submit">Run</button>
</form>
<div id="status">Pick a lab and press Run.</div>
<table id="summary"><thead><tr><th>lab</th><th>shows</th><th>measured</th><th>expected</th><th>ok</th><th>time</th></tr></thead><tbody></tbody></table>
<div id="details"></div>
<script>
const select = document.getElementById('lab');
const status = document.getElementById('status');
const tbody = document.querySelector('#summary tbody');
const details = document.getElementById('details');
const button = document.getElementById('run-lab');
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
fetch('/api/labs').then((r) => r.json()).then((labs) => {
  const all = document.createElement('option');
  all.value = 'all';
  all.textContent = 'all — every lab in turn';
  select.appendChild(all);
  for (const lab of labs) {
    const o = document.createElement('option');
    o.value = lab.name;
    o.textContent = lab.name + ' — ' + lab.shows;
    select.appendChild(o);
  }
  select.value = labs.length > 0 ? labs[0].name : 'all';
});
function finish(text) { status.textContent = text; button.disabled = false; }
function onRow(d, names) {
  const tr = document.createElement('tr');
  tr.dataset.lab = d.name;
  cell(tr, d.name); cell(tr, d.shows); cell(tr, d.measured); cell(tr, d.expected);
  cell(tr, d.ok ? 'ok' : 'NOT', d.ok ? 'ok' : 'not'); cell(tr, d.ms + ' ms', 'n');
  tbody.appendChild(tr);
  const div = document.createElement('div');
  div.className = 'lab';
  div.dataset.lab = d.name;
  const h = document.createElement('h3');
  h.textContent = d.name + ' — ' + d.title;
  div.appendChild(h);
  if (d.lines.length > 0) {
    const table = document.createElement('table');
    for (const line of d.lines) { const r = document.createElement('tr'); cell(r, line.label); cell(r, line.value); table.appendChild(r); }
    div.appendChild(table);
  }
  for (const line of d.explanation) { const p = document.createElement('p'); p.textContent = '→ ' + line; div.appendChild(p); }
  if (d.error) { const p = document.createElement('p'); p.className = 'error'; p.textContent = 'failed: ' + d.error; div.appendChild(p); }
  details.appendChild(div);
  const next = names[d.done];
  status.textContent = next ? 'running ' + next + ' (' + (d.done + 1) + '/' + d.total + ')…' : 'finishing…';
}
// fetch, not EventSource: a refused run (404, 409) shows the server's JSON error.
async function run(q) {
  const res = await fetch('/api/labs/run?' + q);
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    return 'failed: ' + (body.error || 'HTTP ' + res.status);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let names = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return 'failed: the stream ended before the labs did';
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\\n\\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)[1];
      const d = JSON.parse(/^data: (.*)$/m.exec(frame)[1]);
      if (event === 'start') { names = d.names; status.textContent = 'running ' + names[0] + (names.length > 1 ? ' (1/' + names.length + ')' : '') + '…'; }
      else if (event === 'row') onRow(d, names);
      else if (event === 'done') { reader.cancel(); return 'done: ' + d.observed + ' of ' + d.total + ' observed their effect in ' + d.ms + ' ms'; }
      else if (event === 'failure') { reader.cancel(); return 'failed: ' + d.message; }
    }
  }
}
document.getElementById('labs-form').addEventListener('submit', (e) => {
  e.preventDefault();
  tbody.textContent = '';
  details.textContent = '';
  button.disabled = true;
  status.textContent = 'starting…';
  run(new URLSearchParams(new FormData(e.target))).then(finish, (err) => finish('failed: ' + err.message));
});
</script></body></html>`;

/** Add the labs page and its API to the dashboard's `app`. */
export function registerLabs(app: FastifyInstance): void {
  let busy = false;

  app.get('/labs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get('/api/labs', (_req, reply) => reply.send(LAB_NAMES.map((name) => ({ name, title: LABS[name]!.title, shows: LABS[name]!.shows }))));
  app.get<{ Querystring: LabRunQuery }>('/api/labs/run', async (req, reply) => {
    const labs = labsFor(req.query.lab);
    if (labs === null) return reply.code(404).send({ error: `no lab ${JSON.stringify(req.query.lab ?? '')}; one of: all, ${LAB_NAMES.join(', ')}` });
    if (busy) return reply.code(409).send({ error: 'a lab is already running' });
    busy = true;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    try {
      send('start', { names: Object.keys(labs) });
      const all = await runAllLabs(labs, {
        quick: req.query.quick === '1',
        onRow: (row, done, total) => send('row', rowEvent(row, done, total, labs[row.name]!.title)),
      });
      send('done', { observed: all.rows.filter((r) => r.ok).length, total: all.rows.length, ms: Math.round(all.ms) });
    } catch (err) {
      send('failure', { message: err instanceof Error ? err.message : String(err) });
    } finally {
      busy = false;
      res.end();
    }
  });
}
