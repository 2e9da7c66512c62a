/**
 * Adversarial peers over real TCP: request-smuggling shapes, an oversize head, slowloris, a flood
 * of idle connections, a pipelining client that never reads, a client that half-closes. Each
 * checks the attacker's outcome (status, `Connection: close`, a FIN rather than a reset) and
 * that a well-behaved client on another connection keeps being answered throughout.
 */

import { fork } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../src/index.js';
import { Resources, openFileLimit, sleep, waitFor } from './tcp-helpers.js';
import type { RawConnection } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const hello: Handler = (req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello ${req.url}`);
};

/** Send `payload`, wait for the connection to close (at most `ms`), return it. */
async function sendAndWaitForClose(port: number, payload: string, ms = 3000): Promise<RawConnection> {
  const conn = await resources.connect(port);
  conn.send(payload);
  await conn.closed(ms);
  return conn;
}

/** A request the server must never answer: its presence in a response means it was smuggled. */
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

describe('request smuggling shapes', () => {
  const cases: readonly (readonly [name: string, payload: string])[] = [
    // RFC 9112 §6.1: a request with both is an attack vector; this server rejects it.
    ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${String(5 + SMUGGLED.length)}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    ['Transfer-Encoding with Content-Length (order reversed)', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    // RFC 9112 §6.3 (5): differing Content-Length values are unrecoverable.
    ['two differing Content-Length fields', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: ${String(SMUGGLED.length)}\r\n\r\n${SMUGGLED}`],
    ['one Content-Length field with a differing list', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, ${String(SMUGGLED.length)}\r\n\r\n${SMUGGLED}`],
    // RFC 9112 §5.2: obs-fold in a request is rejected (or replaced); this server rejects.
    ['obs-fold', `GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n${SMUGGLED}`],
    ['obs-fold of Transfer-Encoding', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    // RFC 9112 §5.1: whitespace between field name and colon MUST be rejected with 400.
    ['space before the colon', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    // RFC 9112 §2.2: a bare LF may be accepted as a line end; this server (allowBareLf off) rejects it.
    ['bare LF line ends', `GET / HTTP/1.1\nHost: a\n\n${SMUGGLED}`],
    ['bare LF inside a field line', `GET / HTTP/1.1\r\nHost: a\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    // RFC 9112 §6.1: a final coding other than chunked in a request: 400, then close.
    ['Transfer-Encoding not ending in chunked', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ];

  it.each(cases)('%s: 400 with Connection: close, nothing smuggled, then a FIN', async (_name, payload) => {
    const { port } = await resources.server(hello);
    const conn = await sendAndWaitForClose(port, payload);
    expect(conn.reader.responses.map((r) => r.status)).toEqual([400]);
    expect(conn.reader.responses[0]?.headers.connection).toBe('close');
    expect(conn.reader.headStarted).toBe(false);
    expect(conn.ending).toBe('fin');
  });

  it('bad chunk size: one response with Connection: close, nothing smuggled, then a FIN', async () => {
    // The status is not asserted: a malformed body (not head) is currently answered by the
    // handler's response (200 here, 500 for a handler that reads the body) rather than 400.
    // What must hold either way: one response, nothing after the bad chunk is parsed, a FIN.
    const { port } = await resources.server(hello);
    const conn = await sendAndWaitForClose(port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${SMUGGLED}\r\n0\r\n\r\n${SMUGGLED}`);
    expect(conn.reader.responses).toHaveLength(1);
    expect(conn.reader.responses[0]?.headers.connection).toBe('close');
    expect(conn.reader.responses[0]?.body.toString()).not.toContain('smuggled');
    expect(conn.ending).toBe('fin');
  });

  it('while every shape is sent, a normal client on another connection keeps being answered', async () => {
    const { port, server } = await resources.server(hello);
    const beat = resources.heartbeat(port, { intervalMs: 5 });
    await waitFor(() => beat.answeredAt.length >= 3, 2000);
    const from = Date.now();
    const conns = await Promise.all(cases.map(([, payload]) => sendAndWaitForClose(port, payload)));
    await waitFor(() => beat.answeredAt.length >= 10, 2000);
    await beat.stop();
    expect(conns.map((c) => c.ending)).toEqual(cases.map(() => 'fin'));
    expect(beat.failures).toEqual([]);
    expect(beat.answeredBetween(from, Date.now())).toBeGreaterThan(0);
    await waitFor(() => server.stats().connections.open === 0, 1000);
    expect(server.stats().closedBy['parse-error']).toBe(cases.length);
  });
});

describe('limits and timeouts', () => {
  it('an oversize head sent in 1 KiB pieces and never finished gets 431 and a FIN, without waiting for its end', async () => {
    const { port, server } = await resources.server(hello, { maxHeadBytes: 8 * 1024 });
    const conn = await resources.connect(port);
    conn.send('GET / HTTP/1.1\r\nHost: a\r\n');
    // Bounded: at most 32 pieces (32 KiB), stopping as soon as the server answers or closes.
    for (let i = 0; i < 32 && conn.reader.responses.length === 0 && !conn.isClosed; i++) {
      conn.send(`X-Pad-${i}: ${'a'.repeat(1000)}\r\n`);
      await sleep(5);
    }
    await conn.closed(2000);
    expect(conn.reader.responses.map((r) => r.status)).toEqual([431]);
    expect(conn.reader.responses[0]?.headers.connection).toBe('close');
    expect(conn.ending).toBe('fin');
    await waitFor(() => server.stats().connections.open === 0, 1000);
    expect(server.stats().closedBy['parse-error']).toBe(1);
  });

  it('slowloris: one header byte every 50 ms is cut off after headersTimeout with 408, while a normal client keeps being answered', async () => {
    const { port, server } = await resources.server(hello, { headersTimeout: 300 });
    const beat = resources.heartbeat(port, { intervalMs: 10 });
    await waitFor(() => beat.answeredAt.length >= 3, 2000);
    const loris = await resources.connect(port);
    const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`;
    const started = Date.now();
    // Bounded: at most the head's length in bytes, stopping as soon as the server closes.
    for (let i = 0; i < head.length && loris.socket.writable; i++) {
      loris.send(head.charAt(i));
      await sleep(50);
    }
    await loris.closed(2000);
    const ended = Date.now();
    await beat.stop();
    expect(loris.reader.responses.map((r) => r.status)).toEqual([408]);
    expect(loris.reader.responses[0]?.headers.connection).toBe('close');
    expect(loris.ending).toBe('fin');
    // 300 ms after the first byte, plus one 50 ms step and timer slack.
    expect(ended - started).toBeGreaterThanOrEqual(280);
    expect(ended - started).toBeLessThan(1500);
    expect(beat.failures).toEqual([]);
    expect(beat.answeredBetween(started, ended)).toBeGreaterThan(5);
    await waitFor(() => server.stats().closedBy.timeout > 0, 1000);
    expect(server.stats().closedBy.timeout).toBe(1);
  });

  it('10,000 idle connections do not starve a normal client, and close() reports them as closedIdle, each closed with a FIN', async () => {
    // The idle clients live in a child process, so each process spends one descriptor per
    // connection; bounded by this process's open-file limit all the same.
    const count = Math.min(10_000, openFileLimit() - 500);
    expect(count).toBeGreaterThan(1000);
    const { port, server } = await resources.server(hello, { keepAliveTimeout: 60_000, headersTimeout: 60_000 });
    const beat = resources.heartbeat(port, { intervalMs: 10 });
    await waitFor(() => beat.answeredAt.length >= 3, 2000);
    const from = Date.now();
    const child = fork(fileURLToPath(new URL('./fixtures/idle-clients.mjs', import.meta.url)), [String(port), String(count)]);
    resources.defer(() => child.kill());
    const messages: { type: string; count?: number; open?: number; fin?: number; error?: number; message?: string }[] = [];
    child.on('message', (m: (typeof messages)[number]) => messages.push(m));
    expect(await waitFor(() => messages.some((m) => m.type !== 'report'), 30_000)).toBe(true);
    expect(messages[0]).toEqual({ type: 'ready', count });
    expect(await waitFor(() => server.stats().connections.open === count + 1, 10_000)).toBe(true);
    await waitFor(() => beat.answeredAt.length >= 10, 2000);
    await beat.stop();
    expect(beat.failures).toEqual([]);
    expect(beat.answeredBetween(from, Date.now())).toBeGreaterThan(0);
    await waitFor(() => server.stats().connections.open === count, 2000);
    expect(server.stats().connections).toMatchObject({ open: count, idle: count, active: 0 });

    const report = await server.close({ timeout: 10_000 });
    expect(report).toMatchObject({ closedIdle: count, drained: 0, forced: 0, requestsCompleted: 0 });
    const ended = async (): Promise<(typeof messages)[number]> => {
      child.send({ type: 'report' });
      await waitFor(() => messages.at(-1)?.type === 'report', 2000);
      return messages.at(-1)!;
    };
    let endings = await ended();
    for (let i = 0; i < 50 && endings.open! > 0; i++) {
      await sleep(100);
      endings = await ended();
    }
    expect(endings).toEqual({ type: 'report', open: 0, fin: count, error: 0 });
  }, 60_000);

  it('a pipelining client that never reads: the server stops reading its socket instead of answering everything', async () => {
    const sent = 2000;
    const big = Buffer.alloc(64 * 1024, 'x');
    const greedySide: { socket: Socket | null; handled: number } = { socket: null, handled: 0 };
    // keepAliveMax above `sent`, so the connection is not closed by policy before the test ends.
    const { port } = await resources.server(
      async (req, res) => {
        if (req.url !== '/big') {
          hello(req, res);
          return;
        }
        greedySide.handled++;
        greedySide.socket = req.socket;
        await Promise.resolve();
        res.end(big);
      },
      { keepAliveMax: 10 * sent },
    );
    const beat = resources.heartbeat(port, { intervalMs: 10 });
    const greedy = await resources.connect(port, { read: false });
    // 1 KiB per request, so the 2 MB of requests cannot all arrive in the server's first reads.
    const one = `GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(990)}\r\n\r\n`;
    greedy.send(one.repeat(sent));

    // Wait (bounded) until the server stops making progress, then check it stays stopped.
    let last = -1;
    for (let i = 0; i < 40 && greedySide.handled !== last; i++) {
      last = greedySide.handled;
      await sleep(100);
    }
    const handled = greedySide.handled;
    const bytesRead = greedySide.socket?.bytesRead ?? 0;
    const queued = greedySide.socket?.writableLength ?? 0;
    const from = Date.now();
    await sleep(300);
    await waitFor(() => beat.answeredAt.length >= 5, 2000);
    await beat.stop();

    expect(handled).toBeGreaterThan(0);
    expect(handled).toBeLessThan(sent);
    expect(greedySide.handled).toBe(handled);
    expect(bytesRead).toBeLessThan(one.length * sent);
    expect(greedySide.socket?.bytesRead).toBe(bytesRead);
    // What the server holds for this client is a few responses, not the 125 MiB it asked for.
    expect(queued).toBeLessThan(4 * 1024 * 1024);
    expect(beat.failures).toEqual([]);
    expect(beat.answeredBetween(from, Date.now())).toBeGreaterThan(0);
  }, 15_000);

  it('allowHalfOpen: a client that half-closes after two pipelined requests gets both responses, then a FIN', async () => {
    const { port, server } = await resources.server(async (req, res) => {
      // Answer after the client's FIN has arrived.
      await sleep(30);
      res.end(`hello ${req.url}`);
    }, { allowHalfOpen: true });
    const conn = await resources.connect(port, { allowHalfOpen: true });
    conn.socket.end('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await conn.closed(3000)).toBe(true);
    expect(conn.reader.responses.map((r) => `${r.status} ${r.body.toString()}`)).toEqual(['200 hello /1', '200 hello /2']);
    expect(conn.reader.responses[1]?.headers.connection).toBe('close');
    expect(conn.ending).toBe('fin');
    expect(server.stats().pipelinedRequests).toBe(1);
  });
});
