/**
 * Theory of operation: run one scenario against a tether server and a node:http server side by
 * side, to show that what a peer observes is the same. `twins()` starts both on 127.0.0.1 port 0
 * with the same handler (and the same events wired by `setup`); `rawExchange()` writes raw bytes
 * to one and collects what comes back until a condition holds, the server closes, or a deadline.
 * Both servers and every socket are released through the test's `Resources`.
 */

import http from 'node:http';
import net from 'node:net';
import { createServer } from '../src/index.js';
import type { ServerOptions, TetherServer } from '../src/index.js';
import type { Resources } from './tcp-helpers.js';

/** A handler both servers can run (tether's req/res honour node's contracts). */
export type TwinHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** One of the two servers. */
export interface Twin {
  readonly name: 'tether' | 'node';
  readonly server: TetherServer | http.Server;
  readonly port: number;
}

/**
 * A tether server and a node:http server with the same handler; `setup` runs on each before it
 * listens (to add listeners or set properties).
 */
export async function twins(
  resources: Resources,
  handler: TwinHandler | null,
  options: { readonly tether?: ServerOptions; readonly node?: http.ServerOptions } = {},
  setup: (server: TetherServer | http.Server, name: 'tether' | 'node') => void = () => undefined,
): Promise<Twin[]> {
  const tether = createServer({ lingerTimeout: 100, ...options.tether }, handler as never);
  const node = handler === null ? http.createServer(options.node ?? {}) : http.createServer(options.node ?? {}, handler);
  const out: Twin[] = [];
  for (const [name, server] of [['tether', tether], ['node', node]] as const) {
    setup(server, name);
    await new Promise<void>((resolve) => (server as net.Server).listen(0, '127.0.0.1', resolve));
    resources.defer(() => {
      if (name === 'tether') return server.close({ timeout: 500 });
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    out.push({ name, server, port: ((server as net.Server).address() as net.AddressInfo).port });
  }
  return out;
}

/** What came back on a raw connection. */
export interface RawReply {
  /** Everything the server wrote, as latin1. */
  readonly text: string;
  /** The server closed (FIN or reset) before the deadline. */
  readonly closed: boolean;
}

/**
 * Write `bytes` to `port`, then read until `done(text)` holds, the server closes, or `ms` passes.
 * `then` runs after the write (to send more, or half-close).
 */
export async function rawExchange(
  port: number,
  bytes: string | Buffer,
  options: { readonly done?: (text: string) => boolean; readonly ms?: number; readonly then?: (socket: net.Socket) => void } = {},
): Promise<RawReply> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  let text = '';
  let closed = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(finish, options.ms ?? 2000);
    function finish(): void {
      clearTimeout(timer);
      resolve();
    }
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (options.done?.(text) === true) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(bytes);
    options.then?.(socket);
  });
  socket.destroy();
  return { text, closed };
}

/**
 * What a peer can rely on in a stream of responses, whichever server wrote it: each response's
 * status, whether it closes the connection, and its body (fields differ in order and in the
 * ones each server adds, such as Date and Keep-Alive). Interim (1xx) responses are listed too.
 */
export function responsesOf(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    const field = (name: string): string | undefined => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    rest = rest.slice(end + 4);
    if (status < 200) {
      out.push(`${status}`);
      continue;
    }
    const length = field('content-length');
    const chunked = /chunked/i.test(field('transfer-encoding') ?? '');
    let body: string;
    if (length !== undefined) {
      body = rest.slice(0, Number(length));
      rest = rest.slice(Number(length));
    } else if (chunked) {
      body = '';
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = Number.parseInt(rest.slice(0, lineEnd), 16);
        if (lineEnd < 0 || Number.isNaN(size)) break;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      body = rest;
      rest = '';
    }
    const closes = /close/i.test(field('connection') ?? '');
    out.push(`${status}${closes ? ' close' : ''} ${JSON.stringify(body)}`);
  }
  return out;
}

/** The status code of every response head in `text` (interim ones too), in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
