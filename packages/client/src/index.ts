/**
 * @tether/client — a per-origin pool of persistent HTTP/1.1 connections with safe pipelining,
 * driven by @tether/protocol: reuse, pipelining only where the rules allow it, in-order
 * matching of responses, re-sending of idempotent requests lost to a dropped connection,
 * and the server's `Connection: close` and `Keep-Alive: timeout/max` honoured.
 *
 * @packageDocumentation
 */

export { Pool } from './pool.js';
export type { CloseCallback } from './close-forms.js';
export type { PoolStats, RequestOptions } from './pool.js';
export type { DispatchController, DispatchHandler, DispatchHeaders } from './dispatcher.js';
export type { DispatchHeaderValue, DispatchOptions } from './dispatch-options.js';
export { CHANNELS } from './diagnostics.js';
export type { TraceConnection, TraceRequest, TraceResponse, TraceRetired } from './diagnostics.js';
export { Client } from './client.js';
export { Agent } from './agent.js';
export type { AgentOptions } from './agent.js';
export { request, closeDefaultPools, getDefaultAgent } from './request.js';
export type { RequestUrlOptions } from './request.js';
export { ClientResponse, ResponseBody } from './response.js';
export type { ResponseTimings } from './response.js';
export { ClientError, CLIENT_ERRORS } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export type { PoolOptions, RetryOptions } from './options.js';
export type { Clock } from '@tether/protocol';
export type { ConnectionCloseReason } from './client-connection.js';
export type { RequestBody } from './pending.js';
export { CLOSE_AFTER_STREAK, CLOSED_AFTER_ONE_LIMIT, UNKNOWN_ORIGIN, observeOrigin } from './origin-profile.js';
export type { EndedBy, OriginObservation, OriginProfile, ResponseClose } from './origin-profile.js';
