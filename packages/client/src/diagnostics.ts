/**
 * Theory of operation: the pool's life-cycle published on `node:diagnostics_channel`, at the
 * points undici publishes its own (`undici:request:*`, `undici:client:*`), under `tether:client:*`
 * names. A tracer subscribes to the channels it wants; each message carries plain objects made
 * for it — one {@link TraceRequest} per request and one {@link TraceConnection} per connection, the
 * same object in every message about it, so a tracer can key spans on them.
 *
 * Zero cost when nobody listens: every publisher checks `channel.hasSubscribers` first and builds
 * nothing otherwise (the trace objects are made on first use, kept in WeakMaps).
 *
 * | channel | when | message |
 * | --- | --- | --- |
 * | `tether:client:request:create` | a request is queued (`request()`, `dispatch()`) | `{ request }` |
 * | `tether:client:request:headers` | its head (and whole body) was written | `{ request, connection, retry }` |
 * | `tether:client:request:response` | its response head arrived | `{ request, connection, response }` |
 * | `tether:client:request:trailers` | its response body is complete | `{ request, trailers }` |
 * | `tether:client:request:error` | it, or its response body, failed | `{ request, error }` |
 * | `tether:client:connection:connected` | a TCP handshake completed | `{ connection }` |
 * | `tether:client:connection:retired` | it stopped taking requests, and why | `{ connection, reason, limit, advertised }` |
 * | `tether:client:connection:closed` | a connection closed | `{ connection, reason, error }` |
 */

import diagnostics from 'node:diagnostics_channel';
import type { ClientConnection, ConnectionCloseReason } from './client-connection.js';
import type { PendingRequest } from './pending.js';
import type { ClientResponse } from './response.js';

/** The channel names, as published. */
export const CHANNELS = {
  /** A request is queued: `{ request }`. */
  create: 'tether:client:request:create',
  /** A request was written: `{ request, connection, retry }`. */
  headers: 'tether:client:request:headers',
  /** Its response head arrived: `{ request, connection, response }`. */
  response: 'tether:client:request:response',
  /** Its response body is complete: `{ request, trailers }`. */
  trailers: 'tether:client:request:trailers',
  /** It, or its response body, failed: `{ request, error }`. */
  error: 'tether:client:request:error',
  /** A connection's handshake completed: `{ connection }`. */
  connected: 'tether:client:connection:connected',
  /** A connection stopped taking requests: `{ connection, reason, limit, advertised }` ({@link TraceRetired}). */
  retired: 'tether:client:connection:retired',
  /** A connection closed: `{ connection, reason, error }`. */
  closed: 'tether:client:connection:closed',
} as const;

/**
 * The message of `tether:client:connection:retired`: a connection takes no more requests (it
 * closes once those in flight are answered). Published once per connection, before `closed`.
 */
export interface TraceRetired {
  /** The connection. */
  readonly connection: TraceConnection;
  /**
   * Why: `keep-alive-max` (it carried `maxRequestsPerConnection`, or the server's `Keep-Alive:
   * max`), `learned-limit` (the server closed it on the response the pool's learned limit held it
   * at), `keep-alive-timeout` (idle for ours or the server's `Keep-Alive: timeout`),
   * `server-close` (a response said `Connection: close`), `server-idle-close` (the server closed
   * it idle), `client-close` (the pool closed it, or a request asked to close), `timeout`, `error`.
   */
  readonly reason: ConnectionCloseReason;
  /**
   * The limit that ran out: requests for `keep-alive-max` and `learned-limit`, ms for
   * `keep-alive-timeout`; null for the other reasons.
   */
  readonly limit: number | null;
  /** The limit is the server's, from its `Keep-Alive: max` or `timeout` (else ours or learned). */
  readonly advertised: boolean;
}

/** A request as tracers see it (one object per request, in every message about it). */
export interface TraceRequest {
  /** `http://host:port`. */
  readonly origin: string;
  /** The method, as sent. */
  readonly method: string;
  /** The request-target: path and query. */
  readonly path: string;
  /** The fields as given, flat `[name, value, …]` (Host included). */
  readonly headers: readonly string[];
}

/** A connection as tracers see it (one object per connection). */
export interface TraceConnection {
  /** The origin of its pool. */
  readonly origin: string;
  /** 1, 2, … in the order its pool opened them. */
  readonly id: number;
  /** The socket's local address, once connected. */
  readonly localAddress: string | undefined;
  /** The socket's local port, once connected. */
  readonly localPort: number | undefined;
  /** The server's address, once connected. */
  readonly remoteAddress: string | undefined;
  /** The server's port, once connected. */
  readonly remotePort: number | undefined;
  /** Requests written on it so far. */
  readonly requests: number;
  /** Responses completed on it so far. */
  readonly responses: number;
}

/** The response head, in `tether:client:request:response`. */
export interface TraceResponse {
  /** The status code. */
  readonly statusCode: number;
  /** The reason phrase as received. */
  readonly statusMessage: string;
  /** Flat `[name, value, …]` as received. */
  readonly headers: readonly string[];
}

const channel = {
  create: diagnostics.channel(CHANNELS.create),
  headers: diagnostics.channel(CHANNELS.headers),
  response: diagnostics.channel(CHANNELS.response),
  trailers: diagnostics.channel(CHANNELS.trailers),
  error: diagnostics.channel(CHANNELS.error),
  connected: diagnostics.channel(CHANNELS.connected),
  retired: diagnostics.channel(CHANNELS.retired),
  closed: diagnostics.channel(CHANNELS.closed),
};

const requests = new WeakMap<PendingRequest, TraceRequest>();
const connections = new WeakMap<ClientConnection, { origin: string; view: TraceConnection }>();

function requestView(req: PendingRequest, origin: string): TraceRequest {
  let view = requests.get(req);
  if (view === undefined) {
    view = Object.freeze({ origin, method: req.method, path: req.path, headers: req.headers });
    requests.set(req, view);
  }
  return view;
}

function connectionView(conn: ClientConnection, origin: string): TraceConnection {
  let entry = connections.get(conn);
  if (entry === undefined) {
    const socket = conn.socket;
    // A socket forgets its addresses once destroyed: keep the first ones seen.
    const seen: { localAddress?: string; localPort?: number; remoteAddress?: string; remotePort?: number } = {};
    const address = <K extends keyof typeof seen>(key: K): (typeof seen)[K] => (seen[key] ??= socket[key] as (typeof seen)[K]);
    entry = {
      origin,
      view: {
        origin,
        id: conn.serial,
        get localAddress() {
          return address('localAddress');
        },
        get localPort() {
          return address('localPort');
        },
        get remoteAddress() {
          return address('remoteAddress');
        },
        get remotePort() {
          return address('remotePort');
        },
        get requests() {
          return conn.sent;
        },
        get responses() {
          return conn.answered;
        },
      },
    };
    connections.set(conn, entry);
    if (conn.connected) for (const key of ['localAddress', 'localPort', 'remoteAddress', 'remotePort'] as const) address(key);
  }
  return entry.view;
}

/** @internal Publish a request event (`create`, `headers`) when someone listens. */
export function traceRequest(event: 'create' | 'headers', req: PendingRequest, origin: string, conn: ClientConnection | null): void {
  const ch = channel[event];
  if (!ch.hasSubscribers) return;
  const request = requestView(req, origin);
  if (event === 'create') ch.publish({ request });
  else ch.publish({ request, connection: conn === null ? null : connectionView(conn, origin), retry: req.resend });
}

/** @internal Publish `response` (the head arrived) when someone listens. */
export function traceResponse(req: PendingRequest, res: ClientResponse, conn: ClientConnection | null): void {
  if (!channel.response.hasSubscribers) return;
  const request = requestView(req, '');
  const response: TraceResponse = { statusCode: res.statusCode, statusMessage: res.statusMessage, headers: res.rawHeaders };
  channel.response.publish({ request, connection: conn === null ? null : connectionView(conn, request.origin), response });
}

/** @internal Publish `trailers` (the body is complete) when someone listens. */
export function traceBodyEnd(req: PendingRequest, trailers: readonly string[]): void {
  if (!channel.trailers.hasSubscribers) return;
  channel.trailers.publish({ request: requestView(req, ''), trailers });
}

/** @internal Publish `error` when someone listens. */
export function traceError(req: PendingRequest, error: Error): void {
  if (!channel.error.hasSubscribers) return;
  channel.error.publish({ request: requestView(req, ''), error });
}

/** @internal Publish a connection event when someone listens. */
export function traceConnection(event: 'connected' | 'closed', conn: ClientConnection, origin: string, reason: ConnectionCloseReason | null): void {
  const ch = channel[event];
  if (!ch.hasSubscribers) return;
  const connection = connectionView(conn, origin);
  if (event === 'connected') ch.publish({ connection });
  else ch.publish({ connection, reason, error: conn.error });
}

/** @internal Whether anyone listens to `retired` (check before gathering its message). */
export function retiredTraced(): boolean {
  return channel.retired.hasSubscribers;
}

/** @internal Publish `retired` when someone listens. */
export function traceRetired(conn: ClientConnection, origin: string, reason: ConnectionCloseReason, limit: number | null, advertised: boolean): void {
  if (!channel.retired.hasSubscribers) return;
  const message: TraceRetired = { connection: connectionView(conn, origin), reason, limit, advertised };
  channel.retired.publish(message);
}
