/**
 * Theory of operation: the server's policy knobs, their defaults and where each comes from.
 * Protocol limits (head size, header count, body size) pass straight to @tether/protocol.
 */

import type { ParserOptions } from '@tether/protocol';

/** Options of {@link createServer}. Every field is optional. */
export interface ServerOptions extends ParserOptions {
  /** Idle ms before a keep-alive connection is closed. Default 5000 (node:http's default). */
  readonly keepAliveTimeout?: number;
  /** Requests served per connection; the last is answered with `Connection: close`. Default 1000. */
  readonly keepAliveMax?: number;
  /** Send `Keep-Alive: timeout=…, max=…` on persistent responses. Default true. */
  readonly advertiseKeepAlive?: boolean;
  /** Ms allowed from the first byte of a request head to its end (slowloris guard). Default 60000 (node:http). */
  readonly headersTimeout?: number;
  /** Ms allowed for a whole request, head and body. Default 300000 (node:http). */
  readonly requestTimeout?: number;
  /** Requests parsed ahead of the one being answered before reading pauses. Default 16. */
  readonly maxPipelineDepth?: number;
  /** TCP_NODELAY on accepted sockets. Default true. */
  readonly noDelay?: boolean;
  /** Ms to keep reading (and discarding) after our half-close, so the peer gets no reset. Default 2000. */
  readonly lingerTimeout?: number;
  /** Most open connections; more are refused by closing them at once. Default Infinity. */
  readonly maxConnections?: number;
  /** Unsent bytes per connection above which the server stops reading it. Default 64 KiB. */
  readonly writeHighWaterMark?: number;
}

/** {@link ServerOptions} with every default filled in. */
export interface ResolvedServerOptions {
  readonly keepAliveTimeout: number;
  readonly keepAliveMax: number;
  readonly advertiseKeepAlive: boolean;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly maxPipelineDepth: number;
  readonly noDelay: boolean;
  readonly lingerTimeout: number;
  readonly maxConnections: number;
  readonly writeHighWaterMark: number;
  readonly parser: ParserOptions;
}

/** Fill in the defaults. */
export function resolveServerOptions(o: ServerOptions = {}): ResolvedServerOptions {
  return {
    keepAliveTimeout: o.keepAliveTimeout ?? 5000,
    keepAliveMax: o.keepAliveMax ?? 1000,
    advertiseKeepAlive: o.advertiseKeepAlive ?? true,
    headersTimeout: o.headersTimeout ?? 60_000,
    requestTimeout: o.requestTimeout ?? 300_000,
    maxPipelineDepth: o.maxPipelineDepth ?? 16,
    noDelay: o.noDelay ?? true,
    lingerTimeout: o.lingerTimeout ?? 2000,
    maxConnections: o.maxConnections ?? Number.POSITIVE_INFINITY,
    writeHighWaterMark: o.writeHighWaterMark ?? 64 * 1024,
    parser: {
      ...(o.maxHeadBytes === undefined ? {} : { maxHeadBytes: o.maxHeadBytes }),
      ...(o.maxHeaderCount === undefined ? {} : { maxHeaderCount: o.maxHeaderCount }),
      ...(o.maxTargetLength === undefined ? {} : { maxTargetLength: o.maxTargetLength }),
      ...(o.maxBodySize === undefined ? {} : { maxBodySize: o.maxBodySize }),
      ...(o.allowBareLf === undefined ? {} : { allowBareLf: o.allowBareLf }),
    },
  };
}
