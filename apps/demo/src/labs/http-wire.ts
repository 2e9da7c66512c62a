/**
 * Theory of operation: a bare HTTP/1.1 client on one node:net socket, framed by
 * @tether/protocol's client-role `Connection`, for labs that must control what the pool hides —
 * the local port a connection is bound to, whether Nagle is on, and how a request is cut into
 * writes (head and body together, or in two writes). One request at a time: `request()` writes
 * it and resolves with the whole response; the connection persists or not as the protocol
 * decides from the exchange. Every wait is bounded by a timeout that destroys the socket.
 */

import net from 'node:net';

import { Connection, NEED_DATA, PAUSED } from '@tether/protocol';
import type { Fields, FieldsInit } from '@tether/protocol';

/** The loopback address every lab uses. */
export const LOOPBACK = '127.0.0.1';

/** How to open a connection. */
export interface ConnectOptions {
  /** The server's port on 127.0.0.1. */
  readonly port: number;
  /** Bind the client side to this local port (0 or absent: an ephemeral port). */
  readonly localPort?: number;
  /** TCP_NODELAY; default true (Node's default since v18). */
  readonly noDelay?: boolean;
  /** Ms allowed for the handshake. */
  readonly timeout: number;
}

/** A request to send with {@link WireClient.request}. */
export interface WireRequest {
  readonly method: string;
  readonly target: string;
  readonly headers?: FieldsInit;
  readonly body?: Uint8Array;
}

/** How to send a request. */
export interface SendHow {
  /** Write the head and the body in two writes (two segments with TCP_NODELAY). Default false: one write. */
  readonly split?: boolean;
  /** Ms from the write to the end of the response. */
  readonly timeout: number;
}

/** A complete response. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Fields;
  readonly body: Uint8Array;
}

/** An error with the errno-style `code` of a socket failure (`EADDRNOTAVAIL`, `ECONNRESET`) or `ETIMEDOUT`. */
export interface SocketError extends Error {
  readonly code?: string;
}

/** An `ETIMEDOUT` error naming what did not happen in time. */
function timeoutError(what: string, ms: number): SocketError {
  return Object.assign(new Error(`${what} did not complete within ${ms} ms`), { code: 'ETIMEDOUT' });
}

/** Connect to 127.0.0.1:`port`; rejects with the socket's error (its `code` intact) or a time-out. */
export function connectTcp(options: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: LOOPBACK,
      port: options.port,
      noDelay: options.noDelay ?? true,
      ...(options.localPort === undefined ? {} : { localAddress: LOOPBACK, localPort: options.localPort }),
    });
    const timer = setTimeout(() => fail(timeoutError('connect', options.timeout)), options.timeout);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** The response being read. */
interface Waiting {
  readonly resolve: (res: WireResponse) => void;
  readonly reject: (err: Error) => void;
  status: number;
  headers: Fields | null;
  readonly chunks: Uint8Array[];
}

/** One connection, one request at a time, framed by the protocol. */
export class WireClient {
  /** The socket (for its local port, or to destroy it). */
  readonly socket: net.Socket;
  readonly #conn = new Connection('client');
  #waiting: Waiting | null = null;
  #failure: Error | null = null;

  /** Drive an open socket. */
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (data: Buffer) => {
      this.#conn.receiveData(data);
      this.#pump();
    });
    socket.on('end', () => {
      this.#conn.receiveEof();
      this.#pump();
    });
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('the connection closed before the response was complete')));
  }

  /** Connect and wrap the socket. */
  static async connect(options: ConnectOptions): Promise<WireClient> {
    return new WireClient(await connectTcp(options));
  }

  /** Whether another request may be sent (the previous exchange ended and the connection persists). */
  get reusable(): boolean {
    return this.#failure === null && !this.socket.destroyed && this.#conn.ourState === 'IDLE' && this.#conn.keepAlive;
  }

  /** Send `req` and read its whole response. */
  request(req: WireRequest, how: SendHow): Promise<WireResponse> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#waiting !== null) return Promise.reject(new Error('WireClient sends one request at a time'));
    const head = { type: 'request' as const, method: req.method, target: req.target, headers: req.headers ?? { host: LOOPBACK } };
    return new Promise<WireResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(timeoutError(`${req.method} ${req.target}`, how.timeout));
      }, how.timeout);
      this.#waiting = {
        resolve: (res) => {
          clearTimeout(timer);
          resolve(res);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
        status: 0,
        headers: null,
        chunks: [],
      };
      try {
        if (how.split === true && req.body !== undefined && req.body.length > 0) {
          const headBytes = this.#conn.send(head, { bodyLength: req.body.length });
          const bodyBytes = [...this.#conn.send({ type: 'data', data: req.body }), ...this.#conn.send({ type: 'end-of-message' })];
          this.socket.write(Buffer.concat(headBytes));
          this.socket.write(Buffer.concat(bodyBytes));
        } else {
          this.socket.write(this.#conn.sendMessage(head, req.body));
        }
      } catch (err) {
        this.#waiting = null;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * Close our side first (FIN), then wait for the server's FIN; destroys the socket after
   * `timeoutMs` if the server never closes. Resolves when the socket is closed.
   */
  end(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.socket.destroy(), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  /** Destroy the socket now. */
  destroy(): void {
    this.socket.destroy();
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    const waiting = this.#waiting;
    this.#waiting = null;
    this.socket.destroy();
    waiting?.reject(err);
  }

  #pump(): void {
    for (;;) {
      let event;
      try {
        event = this.#conn.nextEvent();
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (event === NEED_DATA || event === PAUSED) return;
      const waiting = this.#waiting;
      switch (event.type) {
        case 'response':
          if (waiting !== null) {
            waiting.status = event.status;
            waiting.headers = event.headers;
          }
          break;
        case 'data':
          waiting?.chunks.push(event.data);
          break;
        case 'end-of-message':
          if (waiting !== null && waiting.headers !== null) {
            this.#waiting = null;
            waiting.resolve({ status: waiting.status, headers: waiting.headers, body: Buffer.concat(waiting.chunks) });
          }
          break;
        case 'connection-closed':
          this.#fail(new Error('the server closed the connection'));
          return;
        case 'informational-response':
        case 'request':
          break;
      }
    }
  }
}
