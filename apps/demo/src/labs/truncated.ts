/**
 * Theory of operation: what a client can tell about a response cut short. A raw node:net server
 * (parsing requests with @tether/protocol, writing deliberately broken responses by hand) sends
 * 40 body bytes and then closes gracefully (FIN, every byte delivered), under three framings:
 *
 *   content-length    `Content-Length: 100`, 40 bytes, close
 *   chunked           one 40-byte chunk, close before the last chunk (`0\r\n\r\n`)
 *   close-delimited   no length at all (RFC 9112 §6.3 rule 8: the body ends at close), 40 bytes
 *
 * @tether/client reads each body as a stream and counts what arrives. With a self-defined length
 * the early close is detected and the body fails with TETHER_TRUNCATED_BODY; delimited by close,
 * the same 40 bytes are a complete response and nothing can tell them from the real thing. The
 * pool never re-sends a request whose response head it has handed over, so no retry hides it.
 */

import net from 'node:net';

import { ClientError, Pool } from '@tether/client';
import { Connection, NEED_DATA, PAUSED } from '@tether/protocol';

import { LOOPBACK } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult } from './lab.js';
import { noLog } from './lab.js';
import { Scope } from './scope.js';
import { formatMs } from './stats.js';

/** The truncated lab's title. */
export const TRUNCATED_TITLE = 'Truncated responses: Content-Length and chunked vs close-delimited';

/** The framings the server cuts short. */
export type Framing = 'content-length' | 'chunked' | 'close-delimited';

/** One cut-short response as the client saw it. */
export interface TruncatedVariant {
  readonly framing: Framing;
  /** What the head announced. */
  readonly announced: string;
  /** Body bytes the server sent before closing. */
  readonly sent: number;
  /** Body bytes the client received. */
  readonly received: number;
  /** `complete`, or the ClientError code the body failed with. */
  readonly outcome: string;
  /** The error message, or '' when complete. */
  readonly detail: string;
  /** Requests the pool re-sent. */
  readonly retries: number;
  readonly ms: number;
}

/** The figures of the truncated lab. */
export interface TruncatedData {
  readonly contentLength: TruncatedVariant;
  readonly chunked: TruncatedVariant;
  readonly closeDelimited: TruncatedVariant;
}

/** Body bytes sent before the close. */
const SENT = 40;
/** The length the Content-Length variant announces (more than it sends). */
const ANNOUNCED = 100;
/** Ms allowed for one exchange; a loopback response takes about a millisecond. */
const TIMEOUT_MS = 3_000;

/** The broken response of each framing: head and 40 body bytes, then the server closes. */
const RESPONSES: Readonly<Record<Framing, { readonly announced: string; readonly bytes: string }>> = {
  'content-length': {
    announced: `Content-Length: ${ANNOUNCED}`,
    bytes: `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${ANNOUNCED}\r\n\r\n${'a'.repeat(SENT)}`,
  },
  chunked: {
    announced: 'Transfer-Encoding: chunked',
    bytes: `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${SENT.toString(16)}\r\n${'a'.repeat(SENT)}\r\n`,
  },
  'close-delimited': {
    announced: 'no length: ends at close',
    bytes: `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n${'a'.repeat(SENT)}`,
  },
};

/** A server that answers `/<framing>` with that framing's broken response and closes (FIN). */
async function startServer(scope: Scope): Promise<number> {
  const server = scope.netServer(
    net.createServer((socket) => {
      const conn = new Connection('server');
      socket.on('data', (data: Buffer) => {
        conn.receiveData(data);
        try {
          for (let e = conn.nextEvent(); e !== NEED_DATA && e !== PAUSED; e = conn.nextEvent()) {
            if (e.type !== 'request') continue;
            const name = e.target.slice(1);
            const response = Object.hasOwn(RESPONSES, name) ? RESPONSES[name as Framing] : undefined;
            // Written by hand: the protocol refuses to send a body shorter than its Content-Length.
            socket.end(response?.bytes ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
            return;
          }
        } catch {
          socket.destroy(); // not HTTP: the lab's own client never sends that
        }
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** GET `/<framing>` through a fresh pool, streaming the body and counting its bytes. */
async function fetchCut(scope: Scope, port: number, framing: Framing): Promise<TruncatedVariant> {
  const pool = scope.pool(new Pool(`http://${LOOPBACK}:${port}`, { connections: 1, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS }));
  const start = performance.now();
  let received = 0;
  let outcome = 'complete';
  let detail = '';
  try {
    const res = await pool.request({ path: `/${framing}` });
    for await (const chunk of res.body) received += chunk.length;
  } catch (err) {
    outcome = err instanceof ClientError ? err.code : 'error';
    detail = err instanceof Error ? err.message : String(err);
  }
  const ms = performance.now() - start;
  const retries = pool.stats().retries;
  void pool.destroy();
  return { framing, announced: RESPONSES[framing].announced, sent: SENT, received, outcome, detail, retries, ms };
}

/** Run the truncated lab. */
export async function runTruncated(options: LabOptions = {}): Promise<LabResult<TruncatedData>> {
  const log = options.log ?? noLog;
  const scope = new Scope();
  try {
    const port = await startServer(scope);
    log(`raw server on ${LOOPBACK}:${port}`);
    const contentLength = await fetchCut(scope, port, 'content-length');
    const chunked = await fetchCut(scope, port, 'chunked');
    const closeDelimited = await fetchCut(scope, port, 'close-delimited');
    const all = [contentLength, chunked, closeDelimited];
    for (const v of all) log(`${v.framing}: ${v.received} bytes, ${v.outcome}`);
    const ok =
      contentLength.outcome === 'TETHER_TRUNCATED_BODY' &&
      chunked.outcome === 'TETHER_TRUNCATED_BODY' &&
      closeDelimited.outcome === 'complete' &&
      all.every((v) => v.received === SENT && v.retries === 0);
    return {
      name: 'truncated',
      title: TRUNCATED_TITLE,
      measured: all.map((v) => ({
        label: `${v.framing} (${v.announced})`,
        value: `${v.received} of ${v.sent} sent bytes received → ${v.outcome === 'complete' ? 'complete (the client cannot tell)' : v.outcome} in ${formatMs(v.ms)}`,
        raw: v.received,
      })),
      explanation: [
        `Content-Length and chunked framing say where a body ends, so a close after ${SENT} bytes is detected: tether fails the body with TETHER_TRUNCATED_BODY and never re-sends a request it has answered.`,
        'A close-delimited body ends wherever the connection ends: the same bytes look complete — one reason persistent connections need self-describing lengths.',
      ],
      ok,
      data: { contentLength, chunked, closeDelimited },
    };
  } finally {
    await scope.close();
  }
}

/** The truncated lab: a body cut short under each framing. */
export const truncatedLab: LabDefinition<TruncatedData> = {
  name: 'truncated',
  title: TRUNCATED_TITLE,
  shows: 'only a framed body can be known to be cut short',
  run: runTruncated,
  headline: (d) => {
    const said = (v: TruncatedVariant): string => (v.outcome === 'complete' ? 'complete' : 'truncated');
    return {
      measured: `Content-Length ${said(d.contentLength)}, chunked ${said(d.chunked)}, close-delimited ${said(d.closeDelimited)}`,
      expected: 'Content-Length truncated, chunked truncated, close-delimited complete',
    };
  },
};
