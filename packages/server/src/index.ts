/**
 * @tether/server — a keep-alive-aware HTTP/1.1 server on node:net, driven by @tether/protocol:
 * persistent connections with Keep-Alive timeout/max, pipelining answered in order, framing
 * chosen by the protocol, graceful shutdown.
 *
 * @packageDocumentation
 */

export { TetherServer, createServer } from './server.js';
export type { CloseOptions, Handler, ServerStats, ShutdownReport } from './server.js';
export type { ServerOptions } from './options.js';
export { ServerRequest } from './request.js';
export { ServerResponse } from './response.js';
export type { CloseReason } from './server-connection.js';
