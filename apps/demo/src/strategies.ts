/**
 * Theory of operation: each strategy loads the page the way its name says, with @tether/client
 * (node:http2 for the multiplexed reference), and records every request's timeline — queued,
 * connecting, sent, first byte, last byte — relative to the start of the page load. The
 * document is always fetched first, alone; its objects are requested once it has arrived.
 *
 * - serial: one connection at a time, `keepAlive: false` (HTTP/1.0 style);
 * - parallel: `connections` at a time, `keepAlive: false`;
 * - persistent: a Pool of one keep-alive connection, one request at a time;
 * - pipelined: a Pool of one connection, every object pipelined;
 * - pooled: a Pool of `connections` keep-alive connections, no pipelining (what browsers do);
 * - pooled-pipelined: `connections` Clients, objects dealt round-robin, each pipelining its share;
 * - multiplexed: one HTTP/2 connection, every object a stream.
 */

import http2 from 'node:http2';
import { Client, Pool } from '@tether/client';
import type { ClientResponse } from '@tether/client';
import type { StrategyName } from './model.js';
import type { Page } from './page.js';

/** One request's timeline, in ms since the page load started. */
export interface RequestTrace {
  readonly path: string;
  /** Which connection carried it (strategy-wide numbering from 1). */
  readonly connection: number;
  readonly queued: number;
  /** It waited for a new connection's handshake (undefined when it went on an open connection). */
  readonly connectStart: number | undefined;
  /**
   * The handshake ended. As the client sees it on loopback that is at once; {@link withHandshakes}
   * puts the end of the emulated handshake here.
   */
  readonly connected: number | undefined;
  readonly sent: number;
  /** Response head arrived. */
  readonly firstByte: number;
  /** Last body byte arrived. */
  readonly end: number;
  readonly bytes: number;
}

/** A page load as measured. */
export interface Trace {
  readonly strategy: StrategyName;
  /** `performance.now()` when the page load started: time 0 of the request timelines. */
  readonly startedAt: number;
  readonly totalMs: number;
  /** When the first object was complete. */
  readonly firstObjectMs: number;
  /** Connections the client opened. */
  readonly connections: number;
  /** Requests carried by each connection. */
  readonly requestsPerConnection: readonly number[];
  readonly requests: readonly RequestTrace[];
  /** Response body bytes received. */
  readonly bodyBytes: number;
  /** Requests re-sent by the client (should be 0 on a healthy link). */
  readonly retries: number;
}

/** Where the page is served (through the emulated link). */
export interface Target {
  readonly host: string;
  /** HTTP/1.1 port. */
  readonly port: number;
  /** HTTP/2 (h2c) port. */
  readonly h2Port: number;
}

/** Options of a load. */
export interface LoadOptions {
  /** Connections of the parallel and pooled strategies. Default 6. */
  readonly connections?: number;
}

interface Recorder {
  readonly t0: number;
  readonly traces: RequestTrace[];
}

async function fetchOne(rec: Recorder, client: Pool, path: string, connectionBase: number): Promise<void> {
  const res: ClientResponse = await client.request({ path });
  const bytes = (await res.bytes()).length;
  if (res.statusCode !== 200) throw new Error(`${path}: status ${res.statusCode}`);
  const t = res.timings;
  const rel = (x: number | undefined): number | undefined => (x === undefined ? undefined : x - rec.t0);
  rec.traces.push({
    path,
    connection: connectionBase + t.connection,
    queued: t.queued - rec.t0,
    connectStart: rel(t.connectStart),
    connected: rel(t.connected),
    sent: t.sent - rec.t0,
    firstByte: t.head - rec.t0,
    end: (res.body.endedAt ?? performance.now()) - rec.t0,
    bytes,
  });
}

function summarize(strategy: StrategyName, rec: Recorder, page: Page, pools: readonly Pool[]): Trace {
  const objects = new Set(page.objects.map((o) => o.path));
  const objectEnds = rec.traces.filter((r) => objects.has(r.path)).map((r) => r.end);
  const perConnection = new Map<number, number>();
  for (const r of rec.traces) perConnection.set(r.connection, (perConnection.get(r.connection) ?? 0) + 1);
  const requests = [...rec.traces].sort((a, b) => a.queued - b.queued || a.sent - b.sent);
  return {
    strategy,
    startedAt: rec.t0,
    totalMs: Math.max(...rec.traces.map((r) => r.end)),
    firstObjectMs: objectEnds.length === 0 ? Number.NaN : Math.min(...objectEnds),
    connections: pools.reduce((n, p) => n + p.stats().connections.opened, 0),
    requestsPerConnection: [...perConnection.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n),
    requests,
    bodyBytes: rec.traces.reduce((n, r) => n + r.bytes, 0),
    retries: pools.reduce((n, p) => n + p.stats().retries, 0),
  };
}

async function loadWithPools(strategy: StrategyName, target: Target, page: Page, connections: number): Promise<Trace> {
  const origin = `http://${target.host}:${target.port}`;
  const n = page.objects.length;
  const rec: Recorder = { t0: performance.now(), traces: [] };
  const pools: Pool[] = [];
  try {
    if (strategy === 'pooled-pipelined') {
      const lanes = Array.from({ length: Math.max(1, Math.min(connections, n)) }, () => new Client(origin, { pipelining: Math.max(1, Math.ceil(n / connections)) }));
      pools.push(...lanes);
      await fetchOne(rec, lanes[0]!, page.htmlPath, 0);
      // Each Client numbers its connections from 1: keep them apart (lane × 1000 + n).
      await Promise.all(page.objects.map((o, i) => fetchOne(rec, lanes[i % lanes.length]!, o.path, (i % lanes.length) * 1000)));
    } else {
      const options = {
        serial: { connections: 1, keepAlive: false },
        parallel: { connections, keepAlive: false },
        persistent: { connections: 1 },
        pipelined: { connections: 1, pipelining: Math.max(1, n) },
        pooled: { connections },
      }[strategy as 'serial' | 'parallel' | 'persistent' | 'pipelined' | 'pooled'];
      const pool = new Pool(origin, options);
      pools.push(pool);
      await fetchOne(rec, pool, page.htmlPath, 0);
      if (strategy === 'serial') {
        for (const o of page.objects) await fetchOne(rec, pool, o.path, 0);
      } else {
        await Promise.all(page.objects.map((o) => fetchOne(rec, pool, o.path, 0)));
      }
    }
    return summarize(strategy, rec, page, pools);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

async function loadMultiplexed(target: Target, page: Page): Promise<Trace> {
  const rec: Recorder = { t0: performance.now(), traces: [] };
  const connectStart = 0;
  let connected: number | undefined;
  // Flow-control windows as large as a browser's (Chromium: 6 MB per stream, 15 MB per
  // connection); HTTP/2's 64 KB defaults would cap the transfer at 64 KB per round trip.
  const session = http2.connect(`http://${target.host}:${target.h2Port}`, { settings: { initialWindowSize: 6 * 1024 * 1024 } });
  session.on('error', () => undefined);
  session.once('connect', () => {
    connected = performance.now() - rec.t0;
    session.setLocalWindowSize(15 * 1024 * 1024);
  });
  const get = (path: string, first: boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const queued = performance.now() - rec.t0;
      const stream = session.request({ ':path': path });
      let firstByte = 0;
      let bytes = 0;
      stream.on('response', () => (firstByte = performance.now() - rec.t0));
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('error', reject);
      stream.on('end', () => {
        rec.traces.push({ path, connection: 1, queued, connectStart: first ? connectStart : undefined, connected: first ? connected : undefined, sent: queued, firstByte, end: performance.now() - rec.t0, bytes });
        resolve();
      });
    });
  try {
    await get(page.htmlPath, true);
    await Promise.all(page.objects.map((o) => get(o.path, false)));
  } finally {
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }
  const objects = new Set(page.objects.map((o) => o.path));
  const objectEnds = rec.traces.filter((r) => objects.has(r.path)).map((r) => r.end);
  return {
    strategy: 'multiplexed',
    startedAt: rec.t0,
    totalMs: Math.max(...rec.traces.map((r) => r.end)),
    firstObjectMs: objectEnds.length === 0 ? Number.NaN : Math.min(...objectEnds),
    connections: 1,
    requestsPerConnection: [rec.traces.length],
    requests: [...rec.traces].sort((a, b) => a.queued - b.queued),
    bodyBytes: rec.traces.reduce((n, r) => n + r.bytes, 0),
    retries: 0,
  };
}

/** The emulated handshake of one connection, as the link counted it (`performance.now()` ms). */
export interface EmulatedHandshake {
  /** The link accepted the connection: the handshake started. */
  readonly openedAt: number;
  /** The handshake ended: the client's bytes could leave. */
  readonly establishedAt: number;
}

/**
 * The trace with each new connection's `connected` set to when its emulated handshake ended.
 * The client's connections, in the order it opened them, are the link's, in the order it
 * accepted them (`handshakes`, one forward's connections): the client called `connect()` for
 * each before the link accepted it. Connections opened at the same moment may swap places, but
 * they also finish their handshakes at the same moment. Unmatched connections stay as they were.
 */
export function withHandshakes(trace: Trace, handshakes: readonly EmulatedHandshake[]): Trace {
  const opened = new Map<number, number>();
  for (const q of trace.requests) if (q.connectStart !== undefined && !opened.has(q.connection)) opened.set(q.connection, q.connectStart);
  const order = [...opened.entries()].sort((a, b) => a[1] - b[1]).map(([connection]) => connection);
  const accepted = [...handshakes].sort((a, b) => a.openedAt - b.openedAt);
  const end = new Map(order.flatMap((connection, i) => (accepted[i] === undefined ? [] : [[connection, accepted[i].establishedAt - trace.startedAt] as const])));
  const requests = trace.requests.map((q) => {
    const at = end.get(q.connection);
    return q.connectStart === undefined || at === undefined ? q : { ...q, connected: Math.max(q.connectStart, at) };
  });
  return { ...trace, requests };
}

/** Load `page` from `target` with `strategy`. */
export function load(strategy: StrategyName, target: Target, page: Page, options: LoadOptions = {}): Promise<Trace> {
  const connections = options.connections ?? 6;
  return strategy === 'multiplexed' ? loadMultiplexed(target, page) : loadWithPools(strategy, target, page, connections);
}
