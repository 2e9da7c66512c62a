/**
 * Graceful shutdown under load: 50 keep-alive clients on raw sockets ask in a loop while
 * `close({ timeout })` runs. A response that started must finish, no connection may be reset,
 * and the shutdown report must account for every connection that was open when it began.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../src/index.js';
import { Resources, sleep, waitFor } from './tcp-helpers.js';
import type { RawConnection } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const CLIENTS = 50;
/** Per-client bounds on the request loop. */
const MAX_REQUESTS = 10_000;
const MAX_MS = 5000;

/** 1 KiB of filler, so a streamed body spans several chunks. */
const FILLER = 'f'.repeat(1024);

/**
 * Every third answer is one write with Content-Length; the others stream (chunked) in two parts
 * with pauses, so at any moment many connections are mid-response.
 */
const handler: Handler = async (req, res) => {
  const n = Number(/\/(\d+)$/.exec(req.url)?.[1] ?? 0);
  if (n % 3 === 0) {
    res.end(`whole ${req.url}`);
    return;
  }
  await sleep(n % 7);
  res.write(FILLER);
  await sleep(n % 5);
  res.end(`streamed ${req.url}`);
};

function expectedBody(path: string, n: number): string {
  return n % 3 === 0 ? `whole ${path}` : `${FILLER}streamed ${path}`;
}

interface ClientLog {
  readonly conn: RawConnection;
  sent: number;
  wrongBodies: string[];
  stoppedBy: 'close-began' | 'connection-close' | 'server-closed' | 'no-answer' | 'bound';
}

/** Ask in a loop on one connection until shutdown begins, the server closes, or a bound. */
async function runClient(log: ClientLog, id: number, closing: () => boolean): Promise<ClientLog> {
  const { conn } = log;
  const started = Date.now();
  for (let i = 0; i < MAX_REQUESTS && Date.now() - started < MAX_MS; i++) {
    if (closing()) {
      log.stoppedBy = 'close-began';
      return log;
    }
    const path = `/c${id}/${i}`;
    if (!conn.send(`GET ${path} HTTP/1.1\r\nHost: load\r\n\r\n`)) {
      log.stoppedBy = 'server-closed';
      return log;
    }
    log.sent++;
    const before = conn.reader.responses.length;
    await conn.until(() => conn.reader.responses.length > before, 3000);
    const res = conn.reader.responses[before];
    if (res === undefined) {
      log.stoppedBy = conn.isClosed ? 'server-closed' : 'no-answer';
      return log;
    }
    if (res.body.toString() !== expectedBody(path, i)) log.wrongBodies.push(path);
    if (res.headers.connection === 'close') {
      log.stoppedBy = 'connection-close';
      return log;
    }
  }
  return log;
}

describe('graceful shutdown under load', () => {
  it('50 keep-alive clients asking in a loop: no truncated body, no reset, every connection accounted for, none forced', async () => {
    const { server, port } = await resources.server(handler);
    const conns = await Promise.all(Array.from({ length: CLIENTS }, () => resources.connect(port)));
    let closing = false;
    const logs: ClientLog[] = conns.map((conn) => ({ conn, sent: 0, wrongBodies: [], stoppedBy: 'bound' }));
    const clients = Promise.all(logs.map((log, id) => runClient(log, id, () => closing)));

    // Let the load run (bounded) until every connection has been answered a few times.
    await waitFor(() => conns.every((c) => c.reader.responses.length >= 3), 3000);
    expect(server.stats().connections.open).toBe(CLIENTS);

    const openAtStart = server.stats().connections.open;
    // Client side at this instant: a connection with no request outstanding is idle on the server
    // too (a response is complete on the server before the client can have read it).
    const answeredAtStart = logs.map((log) => log.conn.reader.responses.length);
    const idleAtStart = logs.filter((log, i) => log.sent === answeredAtStart[i]).length;
    closing = true;
    const report = await server.close({ timeout: 5000 });
    await clients;
    const answeredDuring = logs.reduce((sum, log, i) => sum + log.conn.reader.responses.length - (answeredAtStart[i] ?? 0), 0);
    expect(await waitFor(() => conns.every((c) => c.isClosed), 5000)).toBe(true);

    // The report adds up, and nothing had to be forced.
    expect(report.forced).toBe(0);
    expect(report.closedIdle + report.drained + report.forced).toBe(openAtStart);
    expect(report.drained).toBeGreaterThan(0);
    // Not just arithmetic: connections idle on the client side were idle on the server side, and
    // each drained connection answered the one request its client had outstanding.
    expect(report.closedIdle).toBeGreaterThanOrEqual(idleAtStart);
    expect(report.drained).toBeLessThanOrEqual(openAtStart - idleAtStart);
    expect(report.requestsCompleted).toBe(report.drained);
    expect(report.requestsCompleted).toBeLessThanOrEqual(answeredDuring);
    expect(server.stats().connections.open).toBe(0);
    expect(server.stats().closedBy.forced).toBe(0);

    for (const log of logs) {
      // Every response that started finished: no head without its whole body, no partial head.
      expect(log.conn.reader.bodyStarted, `client ${logs.indexOf(log)}: truncated body`).toBe(false);
      expect(log.conn.reader.headStarted, `client ${logs.indexOf(log)}: partial head`).toBe(false);
      expect(log.conn.parseError).toBeNull();
      expect(log.wrongBodies).toEqual([]);
      // The server closed with a FIN, never a reset.
      expect(log.conn.ending).toBe('fin');
      expect(log.stoppedBy).not.toBe('no-answer');
      // At most the request in flight when the server closed went unanswered.
      expect(log.sent - log.conn.reader.responses.length).toBeLessThanOrEqual(1);
    }
  }, 20_000);
});
