/**
 * A raw HTTP/1.1 server for tests: it splits what arrives into requests (head, then a
 * Content-Length body) and hands each to a behaviour that writes whatever bytes it likes —
 * including the wrong ones. Every request received is recorded, so a test can check that a
 * non-idempotent request never reached the server twice.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A request as the raw server received it. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly version: string;
  /** Lower-cased names; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Which connection (1, 2, …) and its n-th request (1, 2, …). */
  readonly connection: number;
  readonly index: number;
}

/** One accepted connection. */
export interface RawConnection {
  readonly socket: net.Socket;
  readonly number: number;
  /** Requests received on it so far. */
  received: number;
}

/** What to do with each request: write bytes, end or reset the socket, or nothing. */
export type Behaviour = (req: RawRequest, conn: RawConnection) => void;

/** `HTTP/1.1 200 OK` with a Content-Length body, plus extra header lines. */
export function ok(body: string, extra: readonly string[] = [], status = '200 OK'): string {
  return `HTTP/1.1 ${status}\r\n${extra.map((l) => `${l}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** A raw server on 127.0.0.1, port 0. */
export class RawServer {
  readonly received: RawRequest[] = [];
  readonly connections: RawConnection[] = [];
  readonly #server: net.Server;
  #port = 0;

  private constructor(behaviour: Behaviour) {
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => {
      const conn: RawConnection = { socket, number: this.connections.length + 1, received: 0 };
      this.connections.push(conn);
      socket.on('error', () => undefined);
      socket.on('end', () => {
        if (!socket.destroyed && socket.writable) socket.end();
      });
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
          const [method = '', path = '', version = ''] = lines[0]!.split(' ');
          const headers: Record<string, string> = {};
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(':');
            const name = line.slice(0, colon).toLowerCase();
            const value = line.slice(colon + 1).trim();
            headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
          }
          const length = Number(headers['content-length'] ?? 0);
          if (buf.length < end + 4 + length) return;
          const body = buf.subarray(end + 4, end + 4 + length).toString('latin1');
          buf = buf.subarray(end + 4 + length);
          conn.received++;
          const req: RawRequest = { method, path, version, headers, body, connection: conn.number, index: conn.received };
          this.received.push(req);
          if (socket.destroyed) return;
          behaviour(req, conn);
        }
      });
    });
  }

  /** Start a server with `behaviour`. */
  static async start(behaviour: Behaviour): Promise<RawServer> {
    const server = new RawServer(behaviour);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    server.#port = (server.#server.address() as AddressInfo).port;
    return server;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** How many times a request with this `x-id` arrived. */
  timesReceived(id: string): number {
    return this.received.filter((r) => r.headers['x-id'] === id).length;
  }

  /** Stop listening and destroy every connection. */
  async close(): Promise<void> {
    for (const conn of this.connections) conn.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
