/**
 * @tether/server — a keep-alive-aware HTTP/1.1 server on node:net, driven by @tether/protocol:
 * persistent connections with Keep-Alive timeout/max, pipelining answered in order, framing
 * chosen by the protocol, graceful shutdown.
 *
 * @module @tether/server
 */

export { TetherServer, createServer } from './server.js';
export type { CloseCallback, CloseOptions, Handler, ListenOptions, NodeHandler, ServerStats, ShutdownReport } from './server.js';
export type { ResolvedServerOptions, ServerOptions } from './options.js';
export { ServerRequest } from './request.js';
export { ServerResponse } from './response.js';
export type { HeaderValue, WriteCallback } from './response.js';
export type { CloseReason } from './close-reason.js';
export { ServerError, SERVER_ERRORS } from './errors.js';
export type { ServerErrorCode, ServerErrorNodeCode } from './errors.js';
export { decideResponseHead } from './response-policy.js';
export type { ResponseHeadDecision, ResponseHeadInput } from './response-policy.js';
export type { Clock } from '@tether/protocol';
