/**
 * Theory of operation: reset vs graceful close, as the client sees it. A client uploads 256 KiB;
 * a raw node:net server (requests parsed by @tether/protocol) answers with a 1 MiB body and closes
 * the connection once its response is in the kernel, in one of three ways:
 *
 *   reset      answers after the request head, leaving the upload unread, and closes the socket:
 *              Linux sends RST instead of FIN when a socket is closed with unread input
 *              (RFC 9293 §3.6 abort) and discards what it had not yet delivered
 *   read-all   reads the whole upload first, then closes the socket: nothing unread, so FIN, and
 *              the queued response still goes out
 *   graceful   answers after the head, half-closes (FIN after the response) and keeps reading and
 *              discarding the upload until the client closes: the lingering close of RFC 9112 §9.6
 *
 * @tether/client is busy for 50 ms after the response head before reading the body (so the
 * response is still queued in the server's kernel when the server closes), then counts the body
 * bytes and names the error and the socket errno under it. The same exchange is repeated on a
 * bare socket, to see how the stream itself ended (`end` or an error such as ECONNRESET), and the
 * kernel's own count of resets sent for a close with unread input (TCPAbortOnClose) is read
 * around each exchange: on Linux the reset shows there even when the peer's application is only
 * told "end of stream".
 */

import net from 'node:net';

import { ClientError, Pool } from '@tether/client';
import { Connection, NEED_DATA, PAUSED } from '@tether/protocol';

import { LOOPBACK, connectTcp } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult } from './lab.js';
import { noLog } from './lab.js';
import { Scope, sleep } from './scope.js';
import { formatBytes, formatMs } from './stats.js';
import { counterDelta, readTcpCounters } from './tcp-counters.js';

/** The reset lab's title. */
export const RESET_TITLE = 'Reset vs graceful close: a response lost to RST';

/** How the server closes. */
export type CloseHow = 'reset' | 'read-all' | 'graceful';

/** One close as the client saw it. */
export interface ResetVariant {
  readonly how: CloseHow;
  /** Response body bytes the server handed to its kernel. */
  readonly sent: number;
  /** Response body bytes @tether/client received. */
  readonly received: number;
  /** Response body bytes a bare socket received in the same exchange, and how its stream ended. */
  readonly raw: { readonly received: number; readonly ending: string };
  /** `complete`, or the ClientError code the body failed with. */
  readonly outcome: string;
  /** The socket error under it (`ECONNRESET`), when the client was told of one. */
  readonly errno: string | null;
  /**
   * Resets Linux sent because a socket was closed with unread input during this exchange
   * (`TcpExt.TCPAbortOnClose`, namespace-wide: other traffic can only add); `null` without /proc.
   */
  readonly abortOnClose: number | null;
  readonly ms: number;
}

/** The figures of the reset lab. */
export interface ResetData {
  readonly uploadBytes: number;
  readonly reset: ResetVariant;
  readonly readAll: ResetVariant;
  readonly graceful: ResetVariant;
}

/** The upload: larger than the server's socket buffers take at once, so some stays unread in the kernel. */
const UPLOAD_BYTES = 256 * 1024;
/** The response: larger than a loopback receive buffer, so part is still queued in the server's kernel at close. */
const RESPONSE_BYTES = 1024 * 1024;
/** The client's pause between the response head and reading the body. */
const CLIENT_BUSY_MS = 50;
/** How long the graceful server keeps draining after its FIN before it gives up (it never needs this long). */
const LINGER_MS = 1_000;
/** One exchange. */
const TIMEOUT_MS = 5_000;

/** The server's response head: fixed, so a bare client can tell body bytes from head bytes. */
const RESPONSE_HEAD = `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${RESPONSE_BYTES}\r\nConnection: close\r\n\r\n`;

/** The server: `/reset`, `/read-all` and `/graceful` each close their way after a 1 MiB response. */
async function startServer(scope: Scope): Promise<number> {
  const body = Buffer.alloc(RESPONSE_BYTES, 'r');
  const head = RESPONSE_HEAD;
  const server = scope.netServer(
    net.createServer((socket) => {
      const conn = new Connection('server');
      let how: CloseHow | null = null;
      let answered = false;
      const answer = (close: () => void): void => {
        answered = true;
        socket.write(head);
        socket.write(body, close);
      };
      socket.on('data', (data: Buffer) => {
        if (answered) return; // the graceful server's drain: read and discarded
        conn.receiveData(data);
        try {
          respond();
        } catch {
          socket.destroy(); // not HTTP: the lab's own clients never send that
        }
      });
      const respond = (): void => {
        for (let e = conn.nextEvent(); e !== NEED_DATA && e !== PAUSED; e = conn.nextEvent()) {
          if (e.type === 'request') {
            const target = e.target.slice(1);
            if (target !== 'reset' && target !== 'read-all' && target !== 'graceful') {
              answered = true;
              socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
              return;
            }
            how = target;
            if (how === 'reset') {
              // Stop reading: the rest of the upload stays in the kernel's receive queue.
              socket.pause();
              answer(() => socket.destroy());
              return;
            }
            if (how === 'graceful') {
              answer(() => {
                socket.end();
                setTimeout(() => socket.destroy(), LINGER_MS).unref();
              });
              return;
            }
          } else if (e.type === 'end-of-message' && how === 'read-all') {
            answer(() => socket.destroy());
            return;
          }
        }
      };
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** The first errno-style code (`E…`) along an error's `cause` chain. */
function errnoOf(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return null;
}

/**
 * The same upload on a bare socket that reads nothing for 50 ms: the response body bytes that
 * arrive, and how the stream ended — `end of stream` (FIN, or a reset reported as one) or the
 * socket error.
 */
async function rawUpload(scope: Scope, port: number, how: CloseHow): Promise<{ received: number; ending: string }> {
  const socket = scope.socket(await connectTcp({ port, timeout: TIMEOUT_MS }));
  const request = new Connection('client').sendMessage(
    { type: 'request', method: 'POST', target: `/${how}`, headers: { host: `${LOOPBACK}:${port}`, 'content-type': 'application/octet-stream' } },
    Buffer.alloc(UPLOAD_BYTES, 'u'),
  );
  let total = 0;
  let ending: string | null = null;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', (err: NodeJS.ErrnoException) => (ending ??= err.code ?? err.message));
  socket.on('end', () => (ending ??= 'end of stream'));
  socket.pause();
  socket.write(request);
  await sleep(CLIENT_BUSY_MS);
  socket.on('data', (chunk: Buffer) => (total += chunk.length));
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), TIMEOUT_MS);
  await closed;
  clearTimeout(timer);
  return { received: Math.max(0, total - RESPONSE_HEAD.length), ending: ending ?? 'timed out' };
}

/** POST the upload to `/<how>` through a fresh pool; count the response body that arrives. */
async function upload(scope: Scope, port: number, how: CloseHow): Promise<ResetVariant> {
  const pool = scope.pool(new Pool(`http://${LOOPBACK}:${port}`, { connections: 1, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS }));
  const before = await readTcpCounters();
  const start = performance.now();
  let received = 0;
  let outcome = 'complete';
  let errno: string | null = null;
  try {
    const res = await pool.request({ method: 'POST', path: `/${how}`, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(UPLOAD_BYTES, 'u') });
    await sleep(CLIENT_BUSY_MS);
    for await (const chunk of res.body) received += chunk.length;
  } catch (err) {
    outcome = err instanceof ClientError ? err.code : 'error';
    errno = errnoOf(err);
  }
  const ms = performance.now() - start;
  void pool.destroy();
  const raw = await rawUpload(scope, port, how);
  const abortOnClose = counterDelta(before, await readTcpCounters(), 'TcpExt.TCPAbortOnClose');
  return { how, sent: RESPONSE_BYTES, received, raw, outcome, errno, abortOnClose, ms };
}

/** Run the reset lab. */
export async function runReset(options: LabOptions = {}): Promise<LabResult<ResetData>> {
  const log = options.log ?? noLog;
  const scope = new Scope();
  try {
    const port = await startServer(scope);
    log(`raw server on ${LOOPBACK}:${port}`);
    const reset = await upload(scope, port, 'reset');
    const readAll = await upload(scope, port, 'read-all');
    const graceful = await upload(scope, port, 'graceful');
    const labels: Record<CloseHow, string> = {
      reset: 'close with the upload unread (RST)',
      'read-all': 'close after reading the upload (FIN)',
      graceful: 'half-close, then drain the upload (FIN)',
    };
    const all = [reset, readAll, graceful];
    for (const v of all) log(`${v.how}: ${v.received} bytes, ${v.outcome}`);
    return {
      name: 'reset',
      title: RESET_TITLE,
      measured: all.map((v) => ({
        label: labels[v.how],
        value:
          `tether got ${formatBytes(v.received)} of ${formatBytes(v.sent)} → ${v.outcome === 'complete' ? 'complete' : `${v.outcome}${v.errno === null ? '' : ` (${v.errno})`}`} in ${formatMs(v.ms)}` +
          ` · bare socket ${formatBytes(v.raw.received)}, then ${v.raw.ending}` +
          ` · kernel: ${v.abortOnClose === null ? 'n/a' : `${v.abortOnClose} reset${v.abortOnClose === 1 ? '' : 's'}`} for unread input (both runs)`,
        raw: v.received,
      })),
      explanation: [
        `Closing a socket with unread input makes Linux send RST, not FIN, and drop what it had not delivered: the client got ${formatBytes(reset.received)} of ${formatBytes(RESPONSE_BYTES)} the server had written; only Content-Length told it the body was cut.`,
        'Reading the input first, or half-closing and draining it (the lingering close of RFC 9112 §9.6, as tether\'s server does), ends with FIN and every byte arrives.',
      ],
      ok:
        reset.received < RESPONSE_BYTES &&
        reset.raw.received < RESPONSE_BYTES &&
        reset.outcome !== 'complete' &&
        [readAll, graceful].every((v) => v.outcome === 'complete' && v.received === RESPONSE_BYTES && v.raw.received === RESPONSE_BYTES),
      data: { uploadBytes: UPLOAD_BYTES, reset, readAll, graceful },
    };
  } finally {
    await scope.close();
  }
}

/** The reset lab: RST vs FIN with a response in flight. */
export const resetLab: LabDefinition<ResetData> = {
  name: 'reset',
  title: RESET_TITLE,
  shows: 'closing with unread input resets and loses the response',
  run: runReset,
  headline: (d) => ({
    measured: `RST: ${formatBytes(d.reset.received)} of ${formatBytes(d.reset.sent)} · half-close: ${formatBytes(d.graceful.received)} of ${formatBytes(d.graceful.sent)}`,
    expected: `RST: less than ${formatBytes(d.reset.sent)} · half-close: all ${formatBytes(d.graceful.sent)}`,
  }),
};
