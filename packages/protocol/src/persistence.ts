/**
 * Theory of operation: will the connection persist after this exchange? RFC 9112 §9.3, the
 * chapter's rules ("HTTP: The Definitive Guide" §4.5), as pure functions of the two messages.
 *
 * For each message, as a recipient:
 * 1. a `close` connection option ends persistence (RFC 9112 §9.6);
 * 2. HTTP/1.1 persists by default;
 * 3. HTTP/1.0 persists only with the `keep-alive` option — and a proxy does not honour it on a
 *    request from an HTTP/1.0 client ("either the recipient is not a proxy or the message is a
 *    response"), because an old proxy may have blindly forwarded the client's Connection header
 *    (the chapter's "dumb proxy" problem);
 * 4. a message without a self-defined length (read until close) ends persistence.
 * An exchange persists when both its request and its response do.
 *
 * Connection headers from an HTTP/1.0 peer: their tokens still name hop-by-hop fields that are
 * removed before forwarding (hop-by-hop.ts) — RFC 2616 §19.6.2's protection against pre-1.1
 * proxies — and `Proxy-Connection` never affects persistence (it is only stripped).
 */

import type { ConnectionTokens } from './connection-header.js';
import type { HttpVersion } from './events.js';
import type { FramingKind } from './framing.js';

/** One message, as far as persistence is concerned. */
export interface PersistenceMessage {
  /** The message's HTTP version: 1.1 persists by default, 1.0 only with keep-alive. */
  readonly version: HttpVersion;
  /** Whether its Connection field says `close` or `keep-alive`. */
  readonly connection: Pick<ConnectionTokens, 'close' | 'keepAlive'>;
  /** How its body is delimited; `'until-close'` ends persistence. Defaults to self-delimited. */
  readonly framing?: FramingKind;
}

/** Options of the persistence rules. */
export interface PersistenceOptions {
  /** We are a proxy: do not honour `keep-alive` on a request from an HTTP/1.0 client. */
  readonly proxy?: boolean;
}

/** Whether a request lets the connection persist (RFC 9112 §9.3, rules 1–3). */
export function requestAllowsPersistence(request: PersistenceMessage, options: PersistenceOptions = {}): boolean {
  if (request.connection.close) return false;
  if (request.version === '1.1') return true;
  return request.connection.keepAlive && options.proxy !== true;
}

/** Whether a response lets the connection persist (RFC 9112 §9.3, rules 1–4). */
export function responseAllowsPersistence(response: PersistenceMessage): boolean {
  if (response.connection.close) return false;
  if (response.framing === 'until-close') return false;
  if (response.version === '1.1') return true;
  return response.connection.keepAlive;
}

/** Whether the connection persists after an exchange of `request` and `response`. */
export function exchangePersists(request: PersistenceMessage, response: PersistenceMessage, options: PersistenceOptions = {}): boolean {
  return requestAllowsPersistence(request, options) && responseAllowsPersistence(response);
}
