/**
 * Theory of operation: everything that crosses the boundary of a {@link Connection} is one of
 * these readonly events, a discriminated union on `type`. The receiving side produces them from
 * bytes (`nextEvent()`); the sending side turns them into bytes (`send()`). `NEED_DATA` and
 * `PAUSED` are markers, not events: feed more bytes, or wait for the other direction.
 */

import type { Fields, FieldsInit } from './fields.js';

/** The HTTP versions tether speaks. A 1.x message with a higher minor is read as '1.1' (RFC 9110 §2.5). */
export type HttpVersion = '1.0' | '1.1';

/** A request head. */
export interface RequestEvent {
  /** Discriminant of {@link Event}. */
  readonly type: 'request';
  /** The method, case-sensitive (RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target as sent (origin-, absolute-, authority- or asterisk-form). */
  readonly target: string;
  /** The message's HTTP version. */
  readonly version: HttpVersion;
  /** The header section, in wire order. */
  readonly headers: Fields;
}

/** A 1xx response head other than a protocol switch (100 Continue, 103 Early Hints, …). */
export interface InformationalResponseEvent {
  /** Discriminant of {@link Event}. */
  readonly type: 'informational-response';
  /** The status code (RFC 9110 §15). */
  readonly status: number;
  /** The reason phrase as sent, possibly empty (RFC 9112 §4). */
  readonly reason: string;
  /** The message's HTTP version. */
  readonly version: HttpVersion;
  /** The header section, in wire order. */
  readonly headers: Fields;
}

/** A final response head (status 200–999), or 101 Switching Protocols. */
export interface ResponseEvent {
  /** Discriminant of {@link Event}. */
  readonly type: 'response';
  /** The status code (RFC 9110 §15). */
  readonly status: number;
  /** The reason phrase as sent, possibly empty (RFC 9112 §4). */
  readonly reason: string;
  /** The message's HTTP version. */
  readonly version: HttpVersion;
  /** The header section, in wire order. */
  readonly headers: Fields;
}

/** A piece of body data. Received data is a view into the bytes that were fed in (no copy). */
export interface DataEvent {
  /** Discriminant of {@link Event}. */
  readonly type: 'data';
  /** The body bytes, without the chunked framing. */
  readonly data: Uint8Array;
  /** Chunk extensions (RFC 9112 §7.1.1) of the chunk this piece starts, when it had any. */
  readonly extensions?: readonly (readonly [name: string, value: string | null])[];
}

/** The end of a message's body, with its trailer section (chunked bodies only). */
export interface EndOfMessageEvent {
  /** Discriminant of {@link Event}. */
  readonly type: 'end-of-message';
  /** The trailer section (RFC 9112 §7.1.2); null when the body was not chunked. */
  readonly trailers: Fields | null;
}

/** The peer closed its sending side (received), or we closed ours (sent). */
export interface ConnectionClosedEvent {
  /** Discriminant of {@link Event}. */
  readonly type: 'connection-closed';
}

/** Every event a connection receives or sends. */
export type Event =
  | RequestEvent
  | InformationalResponseEvent
  | ResponseEvent
  | DataEvent
  | EndOfMessageEvent
  | ConnectionClosedEvent;

/** The `type` of an {@link Event}. */
export type EventType = Event['type'];

/** `nextEvent()` needs more bytes (or `receiveEof()`) before it can say more. */
export const NEED_DATA: unique symbol = Symbol('NEED_DATA');
/** `nextEvent()` will not read further until the other direction moves on (see `Connection.pausedReason`). */
export const PAUSED: unique symbol = Symbol('PAUSED');

/** What `nextEvent()` returns. */
export type NextEvent = Event | typeof NEED_DATA | typeof PAUSED;

/** A request head to send. `headers` may be any {@link FieldsInit}. */
export interface SendRequest {
  /** Discriminant of {@link SendEvent}. */
  readonly type: 'request';
  /** The method, a token (RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target, in the form the method calls for (RFC 9112 §3.2). */
  readonly target: string;
  /** The header section to send. */
  readonly headers?: FieldsInit;
  /**
   * The sender's word on whether repeating this request is harmless, overriding its method's
   * (RFC 9110 §9.2.2; undici's `idempotent` option). A request that is not idempotent is a
   * barrier: nothing is pipelined behind it until its response head arrives. Default: by method.
   */
  readonly idempotent?: boolean;
}

/** A response head to send (final, 101, or informational). */
export interface SendResponse {
  /** Discriminant of {@link SendEvent}. */
  readonly type: 'response' | 'informational-response';
  /** The status code; 1xx for `informational-response`. */
  readonly status: number;
  /** Defaults to the standard reason phrase of `status`. */
  readonly reason?: string | undefined;
  /** The header section to send. */
  readonly headers?: FieldsInit;
  /**
   * Final response only: the sender has decided this is the last response on the connection (a
   * request limit reached, a shutdown). The head then says `Connection: close` whatever the
   * caller's own Connection field says, and the connection closes after the message.
   */
  readonly close?: boolean | undefined;
  /**
   * Final response only: the `Keep-Alive` parameters to advertise if the connection persists
   * after this response (as `formatKeepAlive` writes them, e.g. `timeout=5, max=99`). The
   * head then carries `Keep-Alive` with them, named in `Connection: keep-alive` (RFC 9110
   * §7.6.1), in place of any Keep-Alive field of the caller's; a closing response carries
   * neither.
   */
  readonly keepAlive?: string | undefined;
}

/** Body data to send. */
export interface SendData {
  /** Discriminant of {@link SendEvent}. */
  readonly type: 'data';
  /** The body bytes; the connection adds the framing. */
  readonly data: Uint8Array;
}

/** The end of the body to send, with trailers for a chunked body. */
export interface SendEndOfMessage {
  /** Discriminant of {@link SendEvent}. */
  readonly type: 'end-of-message';
  /** The trailer section; only a chunked body can carry one (else a {@link LocalProtocolError}). */
  readonly trailers?: FieldsInit;
}

/** Every event a connection can be asked to send. */
export type SendEvent = SendRequest | SendResponse | SendData | SendEndOfMessage | ConnectionClosedEvent;
