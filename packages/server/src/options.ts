/**
 * Theory of operation: the server's policy knobs, their defaults and where each comes from.
 * Protocol limits (head size, header count, body size) pass straight to @tether/protocol.
 */

import { LocalProtocolError, checkTimeout, resolveLimits } from '@tether/protocol';
import type { Clock, ParserOptions } from '@tether/protocol';
import { NODE_CLOCK } from './clock.js';
import { headerView } from './node-headers.js';
import type { HeaderView } from './node-headers.js';

/** Options of {@link createServer}. Every field is optional. */
export interface ServerOptions extends ParserOptions {
  /**
   * Idle ms a keep-alive connection is promised: advertised as `Keep-Alive: timeout=` (whole
   * seconds). Default 5000 (node:http's default); 0 = never close an idle connection.
   */
  readonly keepAliveTimeout?: number;
  /**
   * Ms the server waits past `keepAliveTimeout` before it really closes an idle connection.
   * Default 1000, as node:http's (`keepAliveTimeoutBuffer`, Node ≥ 24.6; a fixed 1 s before).
   * A client or proxy that honours the advertised timeout retires the connection first, so it
   * never sends a request into a connection the server is closing (the keep-alive race: a
   * reverse proxy that reuses its upstream connections answers 502 when it loses it).
   */
  readonly keepAliveTimeoutBuffer?: number;
  /** Requests served per connection; the last is answered with `Connection: close`. Default 1000. */
  readonly keepAliveMax?: number;
  /** Send `Keep-Alive: timeout=…, max=…` on persistent responses. Default true. */
  readonly advertiseKeepAlive?: boolean;
  /**
   * Ms allowed from the first byte of a request head to its end (slowloris guard); for a
   * connection's first request, from the connection's start, as node:http (a connection that
   * sends nothing is answered 408 and closed then: `keepAliveTimeout` is the idle time after a
   * response). Default 60000 (node:http); 0 = none.
   */
  readonly headersTimeout?: number;
  /** Ms allowed for a whole request, head and body. Default 300000 (node:http); 0 = none. */
  readonly requestTimeout?: number;
  /** Requests parsed ahead of the one being answered before reading pauses. Default 16. */
  readonly maxPipelineDepth?: number;
  /**
   * Handlers that may run at once on one connection for pipelined GET and HEAD requests. Default 1:
   * one at a time. Above 1, the handlers of complete GET/HEAD requests queued behind the one being
   * answered start early; their responses are held in memory (each up to `writeHighWaterMark`
   * bytes before `write()` returns false) and written strictly in request order. A request of any
   * other method is never started early, and nothing behind it is.
   */
  readonly pipelineConcurrency?: number;
  /**
   * Give handlers node:http's own `IncomingMessage` and `ServerResponse` instead of tether's
   * request and response, for code that needs exactly those (it re-prototypes them onto node's
   * classes, or reads node's internal fields). tether still parses, orders the responses, decides
   * persistence and Keep-Alive, and runs the timeouts and the graceful close; node frames each
   * response. Default: true for a handler that publishes prototypes derived from node's
   * (`handler.request` / `handler.response`, as an Express application does), else false.
   * `pipelineConcurrency` does not apply to them.
   */
  readonly nodeObjects?: boolean;
  /** node:http's name for `maxHeadBytes`: the most bytes a request head may have (431 beyond). */
  readonly maxHeaderSize?: number;
  /**
   * Keep answering a client that half-closed (sent its FIN) with requests still unanswered, then
   * close. Default false: as node:http and nginx do, such a FIN is taken as the client giving up —
   * the answer under way is dropped (its handler hears 'aborted' and 'close'), queued requests
   * never start, and the connection ends after what was written.
   */
  readonly allowHalfOpen?: boolean;
  /** TCP_NODELAY on accepted sockets. Default true. */
  readonly noDelay?: boolean;
  /** Ms to keep reading (and discarding) after our half-close, so the peer gets no reset. Default 2000. */
  readonly lingerTimeout?: number;
  /** Most open connections; more are refused by closing them at once. Default Infinity. */
  readonly maxConnections?: number;
  /** Unsent bytes per connection above which the server stops reading it. Default 64 KiB. */
  readonly writeHighWaterMark?: number;
  /**
   * node:http's `maxHeadersCount`: `req.headers` and `req.headersDistinct` are made of the first
   * this many field lines, the rest dropped silently (`rawHeaders` keeps them all, and framing
   * reads them all, as node's). Default 2000 (`null` too); 0 = no limit. The parser's own guard,
   * `maxHeaderCount`, refuses a head with more lines than it (431) before this applies.
   */
  readonly maxHeadersCount?: number | null;
  /**
   * node:http's `joinDuplicateHeaders` (node ≥ 18.14): in `req.headers` the repeats of every name
   * are joined with ", " (`cookie` with "; ", `set-cookie` an array), instead of node's default
   * of keeping only the first line of the names listed in `NODE_FIRST_LINE_ONLY`. Default false.
   */
  readonly joinDuplicateHeaders?: boolean;
  /**
   * The time source of every timeout (tests pass a `ManualClock` from `@tether/protocol/testing`).
   * Default: `performance.now()` and unref'd `setTimeout`.
   */
  readonly clock?: Clock;
}

/** {@link ServerOptions} with every default filled in, as `TetherServer.options` returns them. */
export interface ResolvedServerOptions {
  /** Ms; `Infinity` when disabled (as are the other timeouts). */
  readonly keepAliveTimeout: number;
  /** Ms past `keepAliveTimeout` before an idle connection is closed. */
  readonly keepAliveTimeoutBuffer: number;
  /** When an idle connection is really closed: `keepAliveTimeout + keepAliveTimeoutBuffer` ms. */
  readonly idleTimeout: number;
  /** Requests served per connection. */
  readonly keepAliveMax: number;
  /** Whether persistent responses carry `Keep-Alive: timeout=…, max=…`. */
  readonly advertiseKeepAlive: boolean;
  /** Ms from the first byte of a request head to its end. */
  readonly headersTimeout: number;
  /** Ms for a whole request, head and body. */
  readonly requestTimeout: number;
  /** Requests parsed ahead of the one being answered before reading pauses. */
  readonly maxPipelineDepth: number;
  /** Handlers that may run at once on one connection for pipelined GET and HEAD requests. */
  readonly pipelineConcurrency: number;
  /** As given; undefined: decided by the handler (see ServerOptions). */
  readonly nodeObjects: boolean | undefined;
  /** Whether a client's half-close leaves its unanswered requests answered. */
  readonly allowHalfOpen: boolean;
  /** TCP_NODELAY on accepted sockets. */
  readonly noDelay: boolean;
  /** Ms to keep reading after our half-close; 0: none. */
  readonly lingerTimeout: number;
  /** Most open connections. */
  readonly maxConnections: number;
  /** Unsent bytes per connection above which the server stops reading it. */
  readonly writeHighWaterMark: number;
  /**
   * How `req.headers` folds repeated lines, and how many lines it reads.
   * @internal
   */
  readonly requestHeaders: HeaderView;
  /** The time source of every timeout. */
  readonly clock: Clock;
  /** The protocol's parser limits (`maxHeaderSize` given as `maxHeadBytes`). */
  readonly parser: ParserOptions;
}

/** A count or size: a non-negative integer (or Infinity where `unbounded`), else a RangeError naming the option. */
function count(name: string, value: number | undefined, dflt: number, min = 0): number {
  if (value === undefined) return dflt;
  if (value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value >= min)) return value;
  throw new RangeError(`${name} must be an integer ≥ ${min} or Infinity, got ${String(value)}`);
}

/** A timeout in ms (any non-negative number; longer than a host timer holds is fine): 0 and Infinity both mean none. */
function timeout(name: string, value: number | undefined, dflt: number): number {
  const ms = value === undefined ? dflt : checkTimeout(name, value);
  return ms === 0 ? Number.POSITIVE_INFINITY : ms;
}

/**
 * The protocol's options, checked now (the protocol checks them again for each connection): a
 * bad value is a RangeError naming it when the server is made, not a throw at the first accept.
 */
function checkParserOptions(parser: ParserOptions): ParserOptions {
  try {
    resolveLimits(parser);
  } catch (err) {
    if (err instanceof LocalProtocolError) throw new RangeError(err.message, { cause: err });
    throw err;
  }
  return parser;
}

/**
 * Fill in the defaults.
 *
 * @throws RangeError when a number option is negative, fractional or NaN.
 */
export function resolveServerOptions(o: ServerOptions = {}): ResolvedServerOptions {
  const keepAliveTimeout = timeout('keepAliveTimeout', o.keepAliveTimeout, 5000);
  const keepAliveTimeoutBuffer = o.keepAliveTimeoutBuffer === undefined ? 1000 : checkTimeout('keepAliveTimeoutBuffer', o.keepAliveTimeoutBuffer);
  return {
    keepAliveTimeout,
    keepAliveTimeoutBuffer,
    idleTimeout: keepAliveTimeout + keepAliveTimeoutBuffer,
    keepAliveMax: count('keepAliveMax', o.keepAliveMax, 1000, 1),
    advertiseKeepAlive: o.advertiseKeepAlive ?? true,
    headersTimeout: timeout('headersTimeout', o.headersTimeout, 60_000),
    requestTimeout: timeout('requestTimeout', o.requestTimeout, 300_000),
    maxPipelineDepth: count('maxPipelineDepth', o.maxPipelineDepth, 16),
    pipelineConcurrency: count('pipelineConcurrency', o.pipelineConcurrency, 1, 1),
    nodeObjects: o.nodeObjects,
    allowHalfOpen: o.allowHalfOpen ?? false,
    noDelay: o.noDelay ?? true,
    // 0 is no lingering here (destroy once our FIN is out), not "never".
    lingerTimeout: o.lingerTimeout === undefined ? 2000 : checkTimeout('lingerTimeout', o.lingerTimeout),
    maxConnections: count('maxConnections', o.maxConnections, Number.POSITIVE_INFINITY),
    writeHighWaterMark: count('writeHighWaterMark', o.writeHighWaterMark, 64 * 1024),
    requestHeaders: headerView(o.maxHeadersCount, o.joinDuplicateHeaders),
    clock: o.clock ?? NODE_CLOCK,
    parser: checkParserOptions({
      // node's name for the same limit; tether's wins when both are given.
      ...(o.maxHeadBytes === undefined ? (o.maxHeaderSize === undefined ? {} : { maxHeadBytes: o.maxHeaderSize }) : { maxHeadBytes: o.maxHeadBytes }),
      ...(o.maxHeaderCount === undefined ? {} : { maxHeaderCount: o.maxHeaderCount }),
      ...(o.maxTargetLength === undefined ? {} : { maxTargetLength: o.maxTargetLength }),
      ...(o.maxBodySize === undefined ? {} : { maxBodySize: o.maxBodySize }),
      ...(o.allowBareLf === undefined ? {} : { allowBareLf: o.allowBareLf }),
      ...(o.requireHostHeader === undefined ? {} : { requireHostHeader: o.requireHostHeader }),
    }),
  };
}
