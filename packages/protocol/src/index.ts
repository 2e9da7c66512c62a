/**
 * @tether/protocol — a sans-I/O HTTP/1.1 implementation: bytes in, events out; events in, bytes
 * out. No sockets, no timers, no host APIs beyond Uint8Array, so it runs in Node, Deno, Bun,
 * browsers and workers.
 *
 * @module @tether/protocol
 */

export { Connection } from './connection.js';
export type { ConnectionOptions, SendOptions } from './connection.js';
export { NEED_DATA, PAUSED } from './events.js';
export type {
  ConnectionClosedEvent,
  DataEvent,
  SendData,
  EndOfMessageEvent,
  SendEndOfMessage,
  Event,
  EventType,
  HttpVersion,
  InformationalResponseEvent,
  NextEvent,
  RequestEvent,
  SendRequest,
  ResponseEvent,
  SendResponse,
  SendEvent,
} from './events.js';
export { LocalProtocolError, RemoteProtocolError, LOCAL_ERRORS, REMOTE_ERRORS } from './errors.js';
export type { LocalErrorCode, RemoteErrorCode } from './errors.js';
export { DEFAULT_FOLD_RULES, EMPTY_FIELDS, Fields } from './fields.js';
export type { FieldsInit, FoldRule, FoldRules } from './fields.js';
export { decideFraming, decideSendFraming, isRefusal, parseContentLength, transferCodings } from './framing.js';
export type { Framing, FramingInput, FramingKind, FramingRefusal, SendFraming, SendFramingInput } from './framing.js';
export { parseConnection } from './connection-header.js';
export type { ConnectionTokens } from './connection-header.js';
export { formatKeepAlive, parseKeepAlive } from './keep-alive.js';
export type { KeepAlive, KeepAliveInit } from './keep-alive.js';
export type { ListParam } from './list-syntax.js';
export { HOP_BY_HOP_FIELDS, hopByHopNames, isHopByHop, stripHopByHop } from './hop-by-hop.js';
export { isIdempotentMethod, isSafeMethod, mayPipelineMethod, mayRetryMethod } from './methods.js';
export { exchangePersists, requestAllowsPersistence, responseAllowsPersistence } from './persistence.js';
export type { PersistenceMessage, PersistenceOptions } from './persistence.js';
export { canPipeline } from './pipeline.js';
export type { PipelineLimits, PipelineRefusal, PipelineRequest, PipelineSnapshot, PipelineVerdict } from './pipeline.js';
export { TRANSITIONS, TRIGGERED, nextState, stateDiagram } from './state.js';
export type { Role, SideState, TransitionEvent } from './state.js';
export {
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_CHUNK_EXTENSION_BYTES,
  DEFAULT_MAX_CHUNK_SIZE_DIGITS,
  DEFAULT_MAX_HEAD_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_TARGET_LENGTH,
  resolveLimits,
} from './limits.js';
export type { ParserOptions, ResolvedLimits } from './limits.js';
export { STATUS_REASONS } from './status-codes.js';
export { Deadlines, MAX_TIMER_DELAY, checkTimeout, timerDelay } from './deadlines.js';
export type { Clock } from './deadlines.js';
export { validateField, writeRequestHead, writeResponseHead } from './writers.js';
export { isFieldValue, isReasonPhrase, isRequestTarget, isToken } from './abnf.js';
