/**
 * Theory of operation: the "limit" HTTP/1.1 server both benchmarks load — the server benchmark
 * as the most any Node server can do (`server-child.ts limit`), the client benchmark as a target
 * that is never the bottleneck (`client-target.ts`). Raw node:net: it counts `\r\n\r\n` request
 * terminators in what arrives and writes one pre-built response per terminator, all of one
 * read's answers in one write. No parsing, no headers object, no timers.
 *
 * Invariants: a terminator split across reads is counted once (up to 3 of its bytes are carried
 * from one read to the next); pipelined requests get their answers in order, in one write; a
 * read that holds `Connection: close` is answered once and the connection ended, as a real
 * server must (the server benchmark's close scenario, node:http's `agent: false`). It assumes
 * bodiless requests (GET), which is all either benchmark sends.
 */

import net from 'node:net';

/** The response body: 13 bytes, the same in every benchmark. */
export const HELLO = 'Hello, World!';

const CR = 0x0d;
const LF = 0x0a;
/** The end of a request head (RFC 9112 §2.1: the empty line after the field lines). */
const TERMINATOR = Buffer.from('\r\n\r\n', 'latin1');
/** Marks a request that asks to close; `onnection` so either case of the name matches. */
const CLOSE_MARK = Buffer.from('onnection: close', 'latin1');
/** The one response, pre-built: status line, Content-Length, the body. */
export const RESPONSE = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${HELLO.length}\r\n\r\n${HELLO}`, 'latin1');
const CLOSE_RESPONSE = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${HELLO.length}\r\nConnection: close\r\n\r\n${HELLO}`, 'latin1');
/** Longest run of responses kept pre-built: 64 covers wrk's pipeline (10) and every client's depth here. */
const MAX_RUN = 64;
/** Runs of responses for pipelined reads, by count, each built on first use. */
const RESPONSE_RUNS: Buffer[] = [Buffer.alloc(0), RESPONSE];

/** `count` responses back to back, in one buffer. */
export function responseRun(count: number): Buffer {
  const build = (): Buffer => Buffer.concat(Array.from({ length: count }, () => RESPONSE));
  return count > MAX_RUN ? build() : (RESPONSE_RUNS[count] ??= build());
}

/**
 * Count terminators in `chunk`, given `state` bytes of one already matched at the end of the
 * previous read (0–3); returns the count and the new state.
 */
export function countTerminators(chunk: Buffer, state: number): { count: number; state: number } {
  let count = 0;
  let i = 0;
  // Finish a terminator split across reads, byte by byte.
  while (state > 0 && i < chunk.length) {
    const b = chunk[i++]!;
    if (b === TERMINATOR[state]) {
      if (++state === 4) {
        count++;
        state = 0;
      }
    } else {
      state = b === CR ? 1 : 0;
    }
  }
  if (state > 0) return { count, state };
  for (let at = chunk.indexOf(TERMINATOR, i); at !== -1; at = chunk.indexOf(TERMINATOR, i)) {
    count++;
    i = at + 4;
  }
  const n = chunk.length;
  if (n - i >= 3 && chunk[n - 3] === CR && chunk[n - 2] === LF && chunk[n - 1] === CR) state = 3;
  else if (n - i >= 2 && chunk[n - 2] === CR && chunk[n - 1] === LF) state = 2;
  else if (n - i >= 1 && chunk[n - 1] === CR) state = 1;
  return { count, state };
}

/** What a limit server has done since it started; the client benchmark diffs two snapshots. */
export interface LimitCounters {
  /** Connections accepted. */
  connections: number;
  /** Requests answered. */
  requests: number;
  /** Reads that held at least one complete request (each answered with one write). */
  answeringReads: number;
  /** Most requests completed by one read: the deepest pipelining seen. */
  maxPerRead: number;
}

/** A new counter record, all zero. */
export function newLimitCounters(): LimitCounters {
  return { connections: 0, requests: 0, answeringReads: 0, maxPerRead: 0 };
}

/** The limit server (not yet listening); `counters`, when given, is kept up to date. */
export function createLimitServer(counters?: LimitCounters): net.Server {
  return net.createServer({ noDelay: true }, (socket) => {
    if (counters !== undefined) counters.connections++;
    let state = 0;
    socket.on('data', (chunk: Buffer) => {
      const found = countTerminators(chunk, state);
      state = found.state;
      if (found.count === 0) return;
      // `Connection: close`: answer once and close, as a real server must.
      const close = chunk.includes(CLOSE_MARK);
      if (counters !== undefined) {
        const answered = close ? 1 : found.count;
        counters.requests += answered;
        counters.answeringReads++;
        if (answered > counters.maxPerRead) counters.maxPerRead = answered;
      }
      if (close) socket.end(CLOSE_RESPONSE);
      else socket.write(responseRun(found.count));
    });
    socket.on('error', () => socket.destroy());
  });
}
