/**
 * Theory of operation: one {@link Connection} per socket and role, in the style of h11. Feed it
 * what the socket reads (`receiveData`, `receiveEof`) and take events out (`nextEvent`); give it
 * the events you want to send (`send`) and write the bytes it returns. It never touches I/O.
 *
 * It tracks both directions (state.ts): the request stream (the client's side) and the response
 * stream (the server's side). Pipelining is first-class: requests are pushed onto `#exchanges`
 * as their heads go by, and responses pair with them strictly in order, oldest first:
 *
 *   #exchanges:  [ ex0 (response in progress) | ex1 | ex2 (request body in progress) ]
 *                  ^ responses complete here      requests start here ^
 *
 * Invariants:
 * - all framing goes through framing.ts, all persistence through persistence.ts;
 * - after a RemoteProtocolError the receiving side is ERROR and `nextEvent` rethrows it;
 * - once a close is decided, no further request is parsed (server) or may be sent (client);
 * - bytes after a protocol switch are never parsed: they are handed back in `trailingData`.
 */

import { parseConnection } from './connection-header.js';
import type { ConnectionTokens } from './connection-header.js';
import { LocalProtocolError, RemoteProtocolError } from './errors.js';
import { isIdempotentMethod } from './methods.js';
import { ChunkedReader, LengthReader, UntilCloseReader } from './body-readers.js';
import type { BodyReader } from './body-readers.js';
import { NEED_DATA, PAUSED } from './events.js';
import type { Event, HttpVersion, NextEvent, RequestEvent, ResponseEvent, SendEvent } from './events.js';
import { Fields } from './fields.js';
import { decideFraming, decideSendFraming, isRefusal } from './framing.js';
import type { Framing, FramingKind, FramingRefusal } from './framing.js';
import { HeadParser, factsOf } from './head-parser.js';
import type { ParsedHead } from './head-parser.js';
import { SHARED_SLAB } from './byte-slab.js';
import { concatBytes, utf8Length, writeLatin1 } from './latin1.js';
import { parseParamList } from './list-syntax.js';
import { resolveLimits } from './limits.js';
import type { ParserOptions, ResolvedLimits } from './limits.js';
import { requestAllowsPersistence, responseAllowsPersistence } from './persistence.js';
import { canPipeline } from './pipeline.js';
import type { PipelineLimits, PipelineRequest, PipelineSnapshot, PipelineVerdict } from './pipeline.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { ROLES } from './roles.js';
import type { RoleSpec } from './roles.js';
import { nextState } from './state.js';
import type { Role, SideState, TransitionEvent } from './state.js';
import { STATUS_REASONS } from './status-codes.js';
import { ChunkedWriter, bodyWriter, checkedAsciiLine, requestHeadText, responseHeadText, validateTrailers, writeRequestHead, writeResponseHead, writeResponseHeadWith } from './writers.js';
import type { BodyWriter, HeadText } from './writers.js';

/** Options of a {@link Connection}. */
export interface ConnectionOptions extends ParserOptions {
  /** We are a proxy: an HTTP/1.0 client's `keep-alive` is not honoured (RFC 9112 §9.3). */
  readonly proxy?: boolean;
}

/** Hints for {@link Connection.send} about the body that follows a head. */
export interface SendOptions {
  /**
   * The body's length when known: `Content-Length` is added unless present. Leave it out when
   * the body is streamed: a response then goes chunked (HTTP/1.1 peer) or close-delimited
   * (HTTP/1.0 peer); a request without Content-Length or Transfer-Encoding has no body unless
   * `streaming` is set (then it goes chunked).
   */
  readonly bodyLength?: number;
  /** Request only: the body is streamed with unknown length (sent chunked). */
  readonly streaming?: boolean;
}

/** One request/response exchange, from its request head to the end of its response. */
interface Exchange {
  readonly method: string;
  readonly version: HttpVersion;
  /** The request forbids persistence. */
  readonly requestClose: boolean;
  /** The client waits for 100 Continue before sending the body. */
  expectContinue: boolean;
  /** The request asks for a protocol switch (Upgrade, or CONNECT). */
  readonly upgrade: boolean;
  /** Requests we send: repeating it is harmless (by its method, unless the sender said otherwise). */
  readonly idempotent?: boolean;
  /** A final response head has been sent or received. */
  responded: boolean;
  /** The connection closes after this exchange's response. */
  closeAfter: boolean;
}

/** A body sent whole with its head by `sendMessage`. */
interface WholeBody {
  readonly length: number;
  readonly trailers: Fields | undefined;
  /** The caller appends the body as text (sendMessageText): an ASCII head may come back as a string. */
  readonly text?: boolean;
}

const TEXT_ENCODER = new TextEncoder();

/** Framings whose body follows the head as is (a text body can be appended to a text head). */
function unframed(kind: FramingKind): boolean {
  return kind === 'length' || kind === 'until-close' || kind === 'none';
}

/** Removed from a response before `Connection: close` replaces them. */
const CONNECTION_FIELDS: ReadonlySet<string> = new Set(['connection', 'keep-alive']);
const KEEP_ALIVE_FIELD: ReadonlySet<string> = new Set(['keep-alive']);

/**
 * Keep-Alive advertisements found valid, as value → their field lines: `[Keep-Alive alone,
 * Connection: keep-alive then Keep-Alive]`. A server sends a few values over and over (its
 * timeout, with `max` counting down), so each is checked and joined once; bounded in count and
 * in the length of a value kept. Other values (longer, or with a character outside printable
 * ASCII) are not kept: they go through the head's own checks.
 */
const ADVERTISEMENTS = new Map<string, readonly [string, string]>();
const ADVERTISEMENTS_MAX = 8192;
const ADVERTISEMENT_MAX_LENGTH = 64;

/** The field lines advertising `keepAlive`, after `Connection: keep-alive` when `named`; null for a value not kept (see above). */
function advertisementLines(keepAlive: string, named: boolean): string | null {
  let lines = ADVERTISEMENTS.get(keepAlive);
  if (lines === undefined) {
    const line = checkedAsciiLine('Keep-Alive', keepAlive);
    if (line === null || keepAlive.length > ADVERTISEMENT_MAX_LENGTH) return null;
    lines = [line, `Connection: keep-alive\r\n${line}`];
    if (ADVERTISEMENTS.size >= ADVERTISEMENTS_MAX) ADVERTISEMENTS.clear();
    ADVERTISEMENTS.set(keepAlive, lines);
  }
  return lines[named ? 1 : 0];
}

/**
 * What a final response says of the connection's future: `fields` as sent (less what is
 * replaced), lines to add pushed onto `extra`, and `lines`, field lines already checked to end
 * the head with. A closing response says `Connection: close` and nothing of keep-alive; a
 * persistent one carries `keepAlive` (named in Connection), or tells an HTTP/1.0 client
 * `Connection: keep-alive`.
 */
function persistenceFields(fields: Fields, extra: string[], closeAfter: boolean, connection: ConnectionTokens, peerVersion: HttpVersion, keepAlive: string | undefined): { fields: Fields; lines: string } {
  if (closeAfter) {
    if (connection.close && !connection.keepAlive && !carries(fields.raw, 'keep-alive')) return { fields, lines: '' };
    // Say it: the client must not send (or pipeline) more on this connection (RFC 9112 §9.6).
    // And say nothing else: `keep-alive` and the Keep-Alive parameters describe a connection
    // that persists, so a closing response carries neither (whoever set them).
    const tokens = connection.tokens.filter((t) => t !== 'keep-alive' && t !== 'close');
    extra.push('Connection', ['close', ...tokens].join(', '));
    return { fields: fields.without(CONNECTION_FIELDS), lines: '' };
  }
  if (keepAlive !== undefined) {
    // The advertisement replaces the caller's, and is named in Connection (RFC 9110 §7.6.1).
    const rest = carries(fields.raw, 'keep-alive') ? fields.without(KEEP_ALIVE_FIELD) : fields;
    const lines = advertisementLines(keepAlive, !connection.keepAlive);
    if (lines !== null) return { fields: rest, lines };
    if (!connection.keepAlive) extra.push('Connection', 'keep-alive');
    extra.push('Keep-Alive', keepAlive);
    return { fields: rest, lines: '' };
  }
  // An HTTP/1.0 client only keeps the connection when the response says so (RFC 9112 §C.2.2).
  if (peerVersion === '1.0' && !connection.keepAlive) extra.push('Connection', 'keep-alive');
  return { fields, lines: '' };
}

/** Whether `raw` (name, value, …) has a field named `lower` (any case): a scan, not an index (a head we send is asked once). */
function carries(raw: readonly string[], lower: string): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lower.length && name.toLowerCase() === lower) return true;
  }
  return false;
}

const NO_LINES: readonly string[] = [];

/** Methods whose semantics anticipate content (RFC 9110 §9.3). */
const CONTENT_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** The reader of a body of length 0 (it has no state, so one serves every message). */
const NO_BODY = new LengthReader(0);
const NO_BODY_FRAMING: Framing = { kind: 'none', length: 0, mustClose: false };

const CLOSED_EVENT: Event = { type: 'connection-closed' };


function hasToken(values: readonly string[] | undefined, token: string): boolean {
  return values !== undefined && parseParamList(values).params.some(([name, value]) => name === token && value === null);
}

// RFC 9112 §3.2 / RFC 3986 §3.2.2–3.2.3: Host = uri-host [ ":" port ].
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/** A sans-I/O HTTP/1.1 connection: bytes in, events out; events in, bytes out. */
export class Connection {
  /** Which end we are. */
  readonly role: Role;
  readonly #peer: Role;
  /** What this end does (roles.ts): the one place the two ends differ. */
  readonly #r: RoleSpec;
  readonly #limits: ResolvedLimits;
  readonly #proxy: boolean;
  readonly #rb = new ReceiveBuffer();
  readonly #head: HeadParser;
  #body: BodyReader | null = null;
  /** The last Host value found valid on this connection. */
  #validHost = '';
  #trailers: HeadParser | undefined;
  /** The trailer-section parser, made on first use and shared by every chunked message. */
  readonly #trailerParser = (): HeadParser => (this.#trailers ??= new HeadParser('trailers', this.#limits));
  readonly #states: Record<Role, SideState> = { client: 'IDLE', server: 'IDLE' };
  readonly #exchanges: Exchange[] = [];
  /** The exchange whose request is being sent or received (the newest). */
  #requestExchange: Exchange | null = null;
  #writer: BodyWriter | null = null;
  #eof = false;
  #error: RemoteProtocolError | null = null;
  #closing = false;
  #persistenceConfirmed = false;
  #requestsSeen = 0;
  #discarded = 0;
  /** Bytes reserved after the last head for its whole body (see sendMessage). */
  #reserved = 0;
  /** Where heads and small framing pieces are allocated (see byte-slab.ts). */
  readonly #slab = SHARED_SLAB;
  readonly #alloc = (size: number): Uint8Array => this.#slab.alloc(size);
  /** Server: the exchange whose request body was cut by a RemoteProtocolError. */
  #brokenExchange: Exchange | null = null;
  /** The exchange whose response was sent or received last. */
  #lastResponded: Exchange | null = null;

  constructor(role: Role, options: ConnectionOptions = {}) {
    this.role = role;
    this.#r = ROLES[role];
    this.#peer = this.#r.peer;
    this.#limits = resolveLimits(options);
    this.#proxy = options.proxy === true;
    this.#head = new HeadParser(this.#r.receives, this.#limits);
  }

  /** Our side's state. */
  get ourState(): SideState {
    return this.#states[this.role];
  }

  /** The peer's side's state. */
  get theirState(): SideState {
    return this.#states[this.#peer];
  }

  /** The states of both sides (`client` is the request stream, `server` the response stream). */
  get states(): Readonly<Record<Role, SideState>> {
    return { ...this.#states };
  }

  /** Whether the connection will persist after the exchanges seen so far (no close decided). */
  get keepAlive(): boolean {
    return !this.#closing;
  }

  /** Requests whose responses are not complete, oldest first (methods). */
  get pendingRequests(): readonly string[] {
    return this.#exchanges.map((e) => e.method);
  }

  /** Requests received (server) or sent (client) so far on this connection. */
  get requestCount(): number {
    return this.#requestsSeen;
  }

  /**
   * Server: the request whose body is being received asked for `100 Continue` and has had neither
   * a 100 nor a final response, nor started sending its body anyway. (Send the 100 once that
   * request is the oldest unanswered one: responses go out in order.)
   */
  get theyAreWaitingFor100Continue(): boolean {
    const ex = this.#requestExchange;
    return (
      this.#r.receives === 'request' &&
      ex?.expectContinue === true &&
      this.#states.client === 'SEND_BODY' &&
      this.#states.server === 'SEND_RESPONSE' &&
      this.#exchanges[0] === ex
    );
  }

  /** Client: our newest request expects `100 Continue` and no response has come yet. */
  get weAreWaitingFor100Continue(): boolean {
    return this.#r.sends === 'request' && this.#requestExchange?.expectContinue === true && this.#states.client === 'SEND_BODY';
  }

  /** Whether the body we are sending (after a head, before its end) is chunked: only then can it carry trailers. */
  get sendingChunked(): boolean {
    return this.#writer instanceof ChunkedWriter;
  }

  /** Bytes received and not yet parsed (part of a head, say); 0 when everything fed was consumed. */
  get bufferedBytes(): number {
    return this.#rb.length;
  }

  /** Bytes dropped because they arrived after a close was decided or their side failed. */
  get discardedBytes(): number {
    return this.#discarded;
  }

  /**
   * A copy of the bytes received but not parsed — after a protocol switch, the first bytes of the
   * new protocol; after a close was decided, what arrived before the decision (later input is
   * dropped, see {@link Connection.discardedBytes}) — and whether the peer closed.
   */
  get trailingData(): {
    /** The unparsed bytes. */
    readonly data: Uint8Array;
    /** The peer closed its sending side. */
    readonly closed: boolean;
  } {
    return { data: this.#rb.copyRemaining(), closed: this.#eof };
  }

  /** What a client needs to decide whether it may pipeline (see pipeline.ts). */
  pipelineSnapshot(): PipelineSnapshot {
    const v = this.#pipelineView;
    return { inFlight: v.inFlight, persistenceConfirmed: v.persistenceConfirmed, closing: v.closing, barrierInFlight: v.barrierInFlight };
  }

  /**
   * The same facts read live, each only when a rule of `canPipeline` needs it: `canSend` is asked
   * for every connection a pool considers, so a full pipeline is refused without looking further.
   */
  readonly #pipelineView: PipelineSnapshot = ((c: Connection): PipelineSnapshot => ({
    get inFlight(): number {
      return c.#exchanges.length;
    },
    get persistenceConfirmed(): boolean {
      return c.#persistenceConfirmed;
    },
    get closing(): boolean {
      const s = c.#states.client;
      return c.#closing || (s !== 'IDLE' && s !== 'SEND_BODY' && s !== 'DONE');
    },
    get barrierInFlight(): boolean {
      return c.#exchanges.some((e) => !e.responded && (e.upgrade || !(e.idempotent ?? isIdempotentMethod(e.method))));
    },
  }))(this);

  /**
   * Client: may this request be sent now, pipelined behind whatever is in flight? `limits` are
   * the sender's own (how deep it pipelines, how many requests the connection may still carry,
   * whether its output is backed up); see {@link canPipeline}.
   */
  canSend(request: PipelineRequest, limits?: PipelineLimits): PipelineVerdict {
    const s = this.#states.client;
    if (s === 'SEND_BODY' || s === 'MIGHT_SWITCH_PROTOCOL') return { ok: false, reason: 'busy' };
    if (s !== 'IDLE') return { ok: false, reason: 'closing' };
    return canPipeline(request, this.#pipelineView, limits);
  }

  /** Why `nextEvent()` returns PAUSED, or `null` when it does not. */
  get pausedReason(): string | null {
    const s = this.theirState;
    if (s === 'MUST_CLOSE') return 'a close is decided; further input is ignored';
    if (s === 'MIGHT_SWITCH_PROTOCOL') return 'waiting for the response to a protocol switch request';
    if (s === 'SWITCHED_PROTOCOL') return 'the connection has switched protocols; see trailingData';
    if (this.#r.receives === 'response' && s === 'IDLE' && this.#exchanges.length === 0) return 'no request in flight';
    return null;
  }

  /** Feed received bytes. They are not copied: do not reuse the array afterwards. */
  receiveData(data: Uint8Array): void {
    if (this.#eof) throw new LocalProtocolError('H1_INVALID_STATE', 'data received after end of input');
    const their = this.#states[this.#peer];
    // Input that will never be parsed (a close is decided, or their side failed) is dropped, so
    // a server lingering on a closing connection can keep reading without buffering.
    if (their === 'MUST_CLOSE' || their === 'ERROR' || their === 'CLOSED') {
      this.#discarded += data.length;
      return;
    }
    this.#rb.append(data);
  }

  /** The peer closed its sending side (the socket read returned end of stream). */
  receiveEof(): void {
    this.#eof = true;
  }

  /** The next event from the received bytes, or NEED_DATA / PAUSED. Throws {@link RemoteProtocolError}. */
  nextEvent(): NextEvent {
    if (this.#error !== null) throw this.#error;
    const before = this.#states[this.#peer];
    try {
      return this.#r.receives === 'request' ? this.#nextRequestEvent() : this.#nextResponseEvent();
    } catch (err) {
      if (err instanceof RemoteProtocolError) {
        const status = this.#r.errorStatus(err);
        const error = status === err.status ? err : new RemoteProtocolError(err.code, err.message, status);
        this.#error = error;
        // The request whose body was arriving is broken; earlier ones were received whole.
        if (before === 'SEND_BODY') this.#brokenExchange = this.#requestExchange;
        this.#states[this.#peer] = 'ERROR';
        this.#closing = true;
        // Nothing more may be sent after the peer broke the protocol (our idle side MUST_CLOSE).
        this.#settle();
        throw error;
      }
      throw err;
    }
  }

  #nextRequestEvent(): NextEvent {
    switch (this.#states.client) {
      case 'IDLE': {
        const head = this.#head.read(this.#rb);
        if (head === null) return this.#eofOrNeedData();
        return this.#receiveRequestHead(head);
      }
      case 'SEND_BODY':
        return this.#nextBodyEvent();
      case 'CLOSED':
        return CLOSED_EVENT;
      default:
        return this.#eofWhilePaused();
    }
  }

  #nextResponseEvent(): NextEvent {
    switch (this.#states.server) {
      case 'IDLE':
        // Empty lines after a response are tolerated, as before a start line (RFC 9112 §2.2).
        this.#rb.skipLineEnds();
        if (this.#rb.length > 0) {
          throw new RemoteProtocolError('H1_UNSOLICITED_RESPONSE', 'the server sent bytes while no request was in flight');
        }
        return this.#eof ? this.#theyClosed() : PAUSED;
      case 'SEND_RESPONSE': {
        const head = this.#head.read(this.#rb);
        if (head === null) return this.#eofOrNeedData();
        return this.#receiveResponseHead(head);
      }
      case 'SEND_BODY':
        return this.#nextBodyEvent();
      case 'CLOSED':
        return CLOSED_EVENT;
      default:
        return this.#eofWhilePaused();
    }
  }

  #eofOrNeedData(): NextEvent {
    if (!this.#eof) return NEED_DATA;
    if (this.#rb.length > 0 || this.#head.inProgress) {
      throw new RemoteProtocolError('H1_INCOMPLETE_MESSAGE', 'connection closed in the middle of a message head');
    }
    return this.#theyClosed();
  }

  #eofWhilePaused(): NextEvent {
    const s = this.theirState;
    if (this.#eof && (s === 'MUST_CLOSE' || s === 'DONE' || s === 'MIGHT_SWITCH_PROTOCOL')) return this.#theyClosed();
    return PAUSED;
  }

  #theyClosed(): Event {
    this.#states[this.#peer] = 'CLOSED';
    this.#closing = true;
    this.#settle();
    return CLOSED_EVENT;
  }

  #nextBodyEvent(): NextEvent {
    const body = this.#body!;
    const item = body.read(this.#rb) ?? (this.#eof ? body.eof() : null);
    if (item === null) return NEED_DATA;
    // The client sent body data: it is no longer waiting for 100 Continue (RFC 9110 §10.1.1, as h11).
    if (item.type === 'data' && this.#r.receives === 'request' && this.#requestExchange !== null) this.#requestExchange.expectContinue = false;
    if (item.type === 'end-of-message') {
      this.#body = null;
      this.#transition(this.#peer, 'end-of-message');
      if (this.#r.receives === 'response') this.#lastResponded = this.#exchanges.shift() ?? null;
      this.#settle();
    }
    return item;
  }

  #receiveRequestHead(head: ParsedHead): RequestEvent {
    const facts = head.facts;
    // Most requests have no body: skip the §6.3 walk when neither framing field is present.
    const framing =
      facts.contentLength === undefined && facts.transferEncoding === undefined
        ? NO_BODY_FRAMING
        : this.#receivedFraming(decideFraming({
            kind: 'request',
            version: head.version,
            requestMethod: head.method,
            contentLength: facts.contentLength,
            transferEncoding: facts.transferEncoding,
          }));
    // RFC 9112 §3.2: exactly one valid Host in an HTTP/1.1 request.
    const host = facts.host;
    if (host === undefined) {
      if (head.version === '1.1' && this.#limits.requireHostHeader) throw new RemoteProtocolError('H1_MISSING_HOST', 'an HTTP/1.1 request without Host');
    } else if (host.length > 1) {
      throw new RemoteProtocolError('H1_DUPLICATE_HOST', 'more than one Host field');
    } else if (host[0] !== this.#validHost) {
      if (!HOST_VALUE.test(host[0]!)) throw new RemoteProtocolError('H1_INVALID_HOST', `invalid Host ${JSON.stringify(host[0])}`);
      // A client sends the same Host request after request: the next equal value needs no pattern.
      this.#validHost = host[0]!;
    }
    const connection = parseConnection(facts.connection);
    const requestClose = !requestAllowsPersistence({ version: head.version, connection }, { proxy: this.#proxy });
    const exchange: Exchange = {
      method: head.method,
      version: head.version,
      requestClose,
      // RFC 9110 §10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request.
      expectContinue: head.version === '1.1' && hasToken(facts.expect, '100-continue'),
      upgrade: head.method === 'CONNECT' || (facts.upgrade !== undefined && connection.upgrade),
      responded: false,
      closeAfter: requestClose,
    };
    if (requestClose) this.#closing = true;
    this.#exchanges.push(exchange);
    this.#requestExchange = exchange;
    this.#requestsSeen++;
    this.#body = this.#reader(framing);
    this.#transition('client', 'request');
    this.#settle();
    return { type: 'request', method: head.method, target: head.target, version: head.version, headers: head.fields };
  }

  #receiveResponseHead(head: ParsedHead): Event {
    const exchange = this.#exchanges[0]!;
    const facts = head.facts;
    const status = head.status;
    const headers = head.fields;
    if (status === 101) {
      if (!exchange.upgrade || exchange.method === 'CONNECT') {
        throw new RemoteProtocolError('H1_UNEXPECTED_SWITCH', '101 Switching Protocols to a request that did not ask for an upgrade');
      }
      // RFC 9110 §15.2.2: a 101 names the protocol in Upgrade; §7.8: the switch follows the whole request.
      if (facts.upgrade === undefined) throw new RemoteProtocolError('H1_UNEXPECTED_SWITCH', '101 Switching Protocols without an Upgrade field');
      if (this.#states.client === 'SEND_BODY') {
        throw new RemoteProtocolError('H1_UNEXPECTED_SWITCH', '101 Switching Protocols before the request body was sent');
      }
      this.#switch();
      return { type: 'response', status, reason: head.reason, version: head.version, headers };
    }
    if (status < 200) {
      if (status === 100) exchange.expectContinue = false;
      return { type: 'informational-response', status, reason: head.reason, version: head.version, headers };
    }
    const framing = this.#receivedFraming(decideFraming({
      kind: 'response',
      version: head.version,
      requestMethod: exchange.method,
      status,
      contentLength: facts.contentLength,
      transferEncoding: facts.transferEncoding,
    }));
    exchange.expectContinue = false;
    exchange.responded = true;
    if (framing.kind === 'tunnel') {
      this.#switch();
      return { type: 'response', status, reason: head.reason, version: head.version, headers };
    }
    const keeps = responseAllowsPersistence({ version: head.version, connection: parseConnection(facts.connection), framing: framing.kind }) && !framing.mustClose;
    if (keeps) this.#persistenceConfirmed = true;
    else {
      exchange.closeAfter = true;
      this.#closing = true;
    }
    if (exchange.closeAfter) this.#closing = true;
    this.#body = this.#reader(framing);
    this.#transition('server', 'response');
    this.#settle();
    const event: ResponseEvent = { type: 'response', status, reason: head.reason, version: head.version, headers };
    return event;
  }

  #receivedFraming(f: ReturnType<typeof decideFraming>): Framing {
    if (isRefusal(f)) throw new RemoteProtocolError(f.refused, f.message);
    if (f.kind === 'length' && f.length > this.#limits.maxBodySize) {
      throw new RemoteProtocolError('H1_BODY_TOO_LARGE', `Content-Length ${f.length} exceeds the limit of ${this.#limits.maxBodySize}`);
    }
    return f;
  }

  #reader(framing: Framing): BodyReader {
    switch (framing.kind) {
      case 'length':
        return new LengthReader(framing.length);
      case 'chunked':
        return new ChunkedReader(this.#limits, this.#trailerParser);
      case 'until-close':
        return new UntilCloseReader();
      default:
        return NO_BODY;
    }
  }

  #switch(): void {
    this.#states.client = 'SWITCHED_PROTOCOL';
    this.#states.server = 'SWITCHED_PROTOCOL';
    this.#body = null;
  }

  #transition(role: Role, event: TransitionEvent): void {
    const from = this.#states[role];
    const to = nextState(role, from, event);
    if (to === undefined) {
      const message = `${role} cannot ${event} in state ${from}`;
      if (role === this.role) throw new LocalProtocolError('H1_INVALID_STATE', message);
      throw new RemoteProtocolError(this.#r.outOfTurn, message);
    }
    this.#states[role] = to;
  }

  /** Apply the state-triggered transitions (see state.ts TRIGGERED). */
  #settle(): void {
    const s = this.#states;
    if (s.client === 'DONE') {
      const ex = this.#requestExchange;
      if (ex !== null && ex.upgrade && !ex.responded && this.#exchanges.includes(ex)) s.client = 'MIGHT_SWITCH_PROTOCOL';
      else s.client = this.#closing ? 'MUST_CLOSE' : 'IDLE';
    }
    if (s.client === 'MIGHT_SWITCH_PROTOCOL') {
      const ex = this.#requestExchange;
      if (ex === null || ex.responded || !this.#exchanges.includes(ex)) s.client = this.#closing ? 'MUST_CLOSE' : 'IDLE';
    }
    if (s.client === 'IDLE' && (this.#closing || s.server === 'CLOSED')) s.client = 'MUST_CLOSE';
    if (s.server === 'DONE') {
      const last = this.#lastResponded;
      if (last?.closeAfter === true || s.client === 'CLOSED' && this.#exchanges.length === 0) s.server = 'MUST_CLOSE';
      else s.server = this.#exchanges.length > 0 ? 'SEND_RESPONSE' : 'IDLE';
    }
    if (s.server === 'IDLE' && this.#exchanges.length > 0) s.server = 'SEND_RESPONSE';
    if (s.server === 'IDLE' && (s.client === 'MUST_CLOSE' || s.client === 'CLOSED') && this.#error === null) s.server = 'MUST_CLOSE';
  }

  /**
   * Serialize an event. Returns the bytes to write, in order (body data are not copied).
   * Throws {@link LocalProtocolError} when HTTP/1.1 does not allow it now; nothing is emitted then.
   */
  send(event: SendEvent, options: SendOptions = {}): Uint8Array[] {
    switch (event.type) {
      case 'request':
        // Without a whole text body the head is always bytes.
        return [this.#sendRequest(event.method, event.target, Fields.from(event.headers), options, undefined, event.idempotent) as Uint8Array];
      case 'response':
      case 'informational-response':
        return [this.#sendResponse(event.status, event.reason, Fields.from(event.headers), options, event.type === 'informational-response', undefined, event.close === true, event.keepAlive) as Uint8Array];
      case 'data': {
        this.#requireBody();
        const out = (this.#writer!).write(event.data);
        // Sending the body without waiting any longer ends the wait for 100 Continue (as h11).
        if (this.#r.sends === 'request' && event.data.length > 0 && this.#requestExchange !== null) this.#requestExchange.expectContinue = false;
        return out;
      }
      case 'end-of-message': {
        this.#requireBody();
        const bytes = (this.#writer!).end(event.trailers === undefined ? undefined : Fields.from(event.trailers));
        this.#sentMessageEnd();
        return bytes;
      }
      case 'connection-closed':
        this.#transition(this.role, 'connection-closed');
        this.#closing = true;
        this.#settle();
        return [];
    }
  }

  /**
   * Serialize a whole message with a body known in advance, as one byte array (one write).
   * All or nothing: a body or trailers the head does not allow are refused before anything
   * changes.
   */
  sendMessage(head: SendEvent & { type: 'request' | 'response' }, body?: Uint8Array, trailers?: Fields): Uint8Array {
    const length = body?.length ?? 0;
    const whole: WholeBody = { length, trailers: trailers !== undefined && trailers.size > 0 ? trailers : undefined };
    let bytes: Uint8Array;
    if (head.type === 'request') {
      // RFC 9110 §8.6: a request without content gets no Content-Length unless its method
      // anticipates content (POST, PUT, PATCH: some servers answer 411 otherwise).
      const bare = body === undefined && !CONTENT_METHODS.has(head.method);
      bytes = this.#sendRequest(head.method, head.target, Fields.from(head.headers), bare ? {} : { bodyLength: length }, whole, head.idempotent) as Uint8Array;
    } else {
      bytes = this.#sendResponse(head.status, head.reason, Fields.from(head.headers), { bodyLength: length }, false, whole, head.close === true, head.keepAlive) as Uint8Array;
    }
    return this.#finishWhole(bytes, body, trailers);
  }

  /**
   * {@link Connection.sendMessage} for a text body, sent as UTF-8: the whole message as one
   * string, for a socket to write as UTF-8 without an encoding pass of its own. The head is
   * ASCII unless a field value carries obs-text; then (and when the body must be chunk-framed)
   * the message comes back as bytes, exactly as `sendMessage` would return it. An empty string is
   * no body (a GET gets no Content-Length).
   */
  sendMessageText(head: SendEvent & { type: 'request' | 'response' }, body: string): string | Uint8Array {
    const length = utf8Length(body);
    const whole: WholeBody = { length, trailers: undefined, text: true };
    let start: Uint8Array | string;
    if (head.type === 'request') {
      const bare = length === 0 && !CONTENT_METHODS.has(head.method);
      start = this.#sendRequest(head.method, head.target, Fields.from(head.headers), bare ? {} : { bodyLength: length }, whole, head.idempotent);
    } else {
      start = this.#sendResponse(head.status, head.reason, Fields.from(head.headers), { bodyLength: length }, false, whole, head.close === true, head.keepAlive);
    }
    if (typeof start !== 'string') return this.#finishWhole(start, length === 0 ? undefined : TEXT_ENCODER.encode(body), undefined);
    // The head was accepted together with this body (#checkWhole), which follows it unframed:
    // the message is complete.
    this.#sentMessageEnd();
    return length === 0 ? start : start + body;
  }

  /** Our message is complete (its body writer has written or checked its end). */
  #sentMessageEnd(): void {
    this.#writer = null;
    this.#transition(this.role, 'end-of-message');
    if (this.#r.sends === 'response' && this.#exchanges[0] === this.#lastResponded) this.#exchanges.shift();
    this.#settle();
  }

  /** The rest of a whole message after its head (accepted with this body: nothing here throws). */
  #finishWhole(bytes: Uint8Array, body: Uint8Array | undefined, trailers: Fields | undefined): Uint8Array {
    const length = body?.length ?? 0;
    const parts = [bytes];
    if (length > 0) {
      const framed = this.send({ type: 'data', data: body! });
      if (this.#reserved === length) bytes.set(body!, bytes.length - length);
      else parts.push(...framed);
    }
    parts.push(...this.send(trailers === undefined ? { type: 'end-of-message' } : { type: 'end-of-message', trailers }));
    return concatBytes(parts, this.#alloc);
  }

  /**
   * Refuse a whole-message body the framing does not allow, before any state changes, and say
   * how many bytes to reserve after the head for it (0: it is framed separately).
   */
  #checkWhole(framing: Framing, whole: WholeBody | undefined, what: string): number {
    if (whole === undefined) return 0;
    const kind = framing.kind;
    if (whole.trailers !== undefined) {
      if (kind !== 'chunked') throw new LocalProtocolError('H1_BODY_NOT_ALLOWED', 'trailers need a chunked body');
      validateTrailers(whole.trailers);
    }
    if ((kind === 'none' || kind === 'tunnel') && whole.length > 0) throw new LocalProtocolError('H1_BODY_NOT_ALLOWED', `${what} has no body`);
    if (kind === 'length' && whole.length !== framing.length) {
      const how = whole.length > framing.length ? 'longer than' : `${framing.length - whole.length} bytes short of`;
      throw new LocalProtocolError('H1_BODY_LENGTH_MISMATCH', `body ${how} its Content-Length of ${framing.length}`);
    }
    return kind === 'length' || kind === 'until-close' ? whole.length : 0;
  }

  #requireBody(): void {
    if (this.#writer === null || this.ourState !== 'SEND_BODY') {
      throw new LocalProtocolError('H1_INVALID_STATE', `${this.role} cannot send body data in state ${this.ourState}`);
    }
  }

  /** A text head: the string when it is ASCII, else its octets (with `reserve` bytes after). */
  #textHead(head: HeadText, reserve: number): string | Uint8Array {
    if (head.ascii) return head.text;
    const out = this.#slab.alloc(head.text.length + reserve);
    writeLatin1(head.text, out, 0);
    return out;
  }

  #sendRequest(method: string, target: string, fields: Fields, options: SendOptions, whole?: WholeBody, idempotent?: boolean): Uint8Array | string {
    if (this.#r.sends !== 'request') throw new LocalProtocolError('H1_INVALID_STATE', 'a server does not send requests');
    const state = this.#states.client;
    if (state === 'MUST_CLOSE' || state === 'CLOSED') {
      throw new LocalProtocolError('H1_REQUEST_AFTER_CLOSE', 'the connection is closing: no further request may be sent on it');
    }
    const facts = factsOf(fields.raw);
    if (facts.host === undefined) throw new LocalProtocolError('H1_MISSING_HOST', 'an HTTP/1.1 request needs a Host field (RFC 9112 §3.2)');
    const framing = this.#sentFraming(decideSendFraming({
      kind: 'request',
      requestMethod: method,
      contentLength: facts.contentLength,
      transferEncoding: facts.transferEncoding,
      bodyLength: options.bodyLength,
      streaming: options.streaming,
    }));
    const extra = framing.add ?? NO_LINES;
    const reserve = this.#checkWhole(framing, whole, `a ${method} request without Content-Length or Transfer-Encoding`);
    const connection = parseConnection(facts.connection);
    const bytes = whole?.text === true && unframed(framing.kind) ? this.#textHead(requestHeadText(method, target, fields, extra), reserve) : writeRequestHead(method, target, fields, extra, reserve, this.#slab);
    this.#transition('client', 'request');
    const exchange: Exchange = {
      method,
      version: '1.1',
      requestClose: connection.close,
      expectContinue: hasToken(facts.expect, '100-continue'),
      upgrade: method === 'CONNECT' || (facts.upgrade !== undefined && connection.upgrade),
      idempotent: idempotent ?? isIdempotentMethod(method),
      responded: false,
      closeAfter: connection.close,
    };
    if (connection.close) this.#closing = true;
    this.#exchanges.push(exchange);
    this.#requestExchange = exchange;
    this.#requestsSeen++;
    this.#reserved = reserve;
    this.#writer = bodyWriter(framing.kind, framing.length, `a ${method} request without Content-Length or Transfer-Encoding`, this.#slab);
    this.#settle();
    return bytes;
  }

  #sendResponse(status: number, reasonIn: string | undefined, fields: Fields, options: SendOptions, informational: boolean, whole: WholeBody | undefined, lastByUs = false, keepAlive?: string): Uint8Array | string {
    if (this.#r.sends !== 'response') throw new LocalProtocolError('H1_INVALID_STATE', 'a client does not send responses');
    const reason = reasonIn ?? STATUS_REASONS[status] ?? '';
    const state = this.#states.server;
    const exchange = state === 'SEND_RESPONSE' ? this.#exchanges[0] : undefined;
    const facts = factsOf(fields.raw);
    if (informational || (status >= 100 && status < 200)) {
      if (exchange === undefined) throw new LocalProtocolError('H1_INVALID_STATE', `cannot send ${status} in state ${state}`);
      if (exchange.version === '1.0') {
        throw new LocalProtocolError('H1_INVALID_STATE', `a ${status} cannot be sent to an HTTP/1.0 client (RFC 9110 §15.2)`);
      }
      // The sender's framing rules refuse Content-Length and Transfer-Encoding on a 1xx.
      this.#sentFraming(decideSendFraming({ kind: 'response', status, contentLength: facts.contentLength, transferEncoding: facts.transferEncoding }));
      if (status === 101) {
        if (!exchange.upgrade || exchange.method === 'CONNECT') throw new LocalProtocolError('H1_INVALID_STATE', '101 needs a request that asked for an upgrade');
        this.#requireCompleteSwitchRequest();
        if (whole !== undefined) throw new LocalProtocolError('H1_INVALID_STATE', 'a 101 is sent alone, not as a whole message');
        if (facts.upgrade === undefined) throw new LocalProtocolError('H1_INVALID_STATE', 'a 101 must name the new protocol in Upgrade (RFC 9110 §15.2.2)');
        const bytes = writeResponseHead(status, reason, fields);
        exchange.responded = true;
        this.#transition('server', 'accept-switch');
        this.#switch();
        return bytes;
      }
      if (status < 100 || status >= 200) throw new LocalProtocolError('H1_INVALID_STATUS', `${status} is not informational`);
      if (whole !== undefined) throw new LocalProtocolError('H1_INVALID_STATE', `a ${status} is sent alone, not as a whole message`);
      const bytes = writeResponseHead(status, reason, fields);
      this.#transition('server', 'informational-response');
      if (status === 100) exchange.expectContinue = false;
      return bytes;
    }
    if (exchange === undefined) {
      // An error response without a request to answer: only after their side failed, or on a
      // connection where no request has started (408 on idle). It always closes the connection.
      if (state !== 'IDLE' || (this.#states.client !== 'ERROR' && (this.#states.client !== 'IDLE' || this.#exchanges.length > 0))) {
        throw new LocalProtocolError('H1_INVALID_STATE', `server cannot send a response in state ${state}`);
      }
      if (status < 400) throw new LocalProtocolError('H1_INVALID_STATE', `a ${status} response with no request to answer (only an error response may be sent)`);
    }
    const peerVersion: HttpVersion = exchange?.version ?? '1.1';
    let out = fields;
    const method = exchange?.method ?? 'GET';
    const bodyless = method === 'HEAD' || status === 204 || status === 205 || status === 304 || (method === 'CONNECT' && status < 300);
    if (status === 205 && (whole?.length ?? 0) > 0) throw new LocalProtocolError('H1_BODY_NOT_ALLOWED', 'a 205 response has no body (RFC 9110 §15.3.6)');
    const framing = this.#sentFraming(decideSendFraming({
      kind: 'response',
      peerVersion,
      requestMethod: method,
      status,
      contentLength: facts.contentLength,
      transferEncoding: facts.transferEncoding,
      bodyLength: options.bodyLength,
    }));
    const extra: string[] = [];
    if (framing.add !== null) extra.push(framing.add[0], framing.add[1]);
    const reserve = this.#checkWhole(framing, whole, bodyless ? `a ${status} response to ${method}` : 'this response');
    if (framing.kind === 'tunnel') {
      this.#requireCompleteSwitchRequest();
      const bytes = writeResponseHead(status, reason, out, extra);
      (exchange!).responded = true;
      this.#transition('server', 'accept-switch');
      this.#switch();
      return bytes;
    }
    const connection = parseConnection(facts.connection);
    const closeAfter =
      lastByUs ||
      exchange === undefined ||
      exchange.requestClose ||
      connection.close ||
      framing.mustClose ||
      // Their request failed while its own body was arriving: framing is lost, so close. (An
      // older exchange is answered normally; the error response for the bad request follows.)
      exchange === this.#brokenExchange ||
      // The client has finished sending: this is the last response it can ask for.
      (this.#eof && this.#exchanges.length <= 1) ||
      // RFC 9110 §10.1.1: a client still waiting for 100 Continue may answer a final response by
      // sending its content or by not sending it; the next bytes cannot be told apart, so the
      // connection ends here (node:http closes it too).
      this.theyAreWaitingFor100Continue;
    const persistence = persistenceFields(out, extra, closeAfter, connection, peerVersion, keepAlive);
    out = persistence.fields;
    const bytes =
      whole?.text === true && unframed(framing.kind)
        ? this.#textHead(responseHeadText(status, reason, out, extra, persistence.lines), reserve)
        : writeResponseHeadWith(status, reason, out, extra, persistence.lines, reserve, this.#slab);
    this.#transition('server', 'response');
    if (exchange !== undefined) {
      exchange.responded = true;
      exchange.closeAfter = closeAfter;
      // A final response ends the client's wait for 100 Continue (RFC 9110 §10.1.1, as h11).
      exchange.expectContinue = false;
    }
    if (closeAfter) this.#closing = true;
    this.#lastResponded = exchange ?? { method, version: peerVersion, requestClose: true, expectContinue: false, upgrade: false, responded: true, closeAfter: true };
    this.#reserved = reserve;
    // A head returned as text carries its whole body after it, unframed (see #textHead): the
    // message is complete once the caller appends it, and no body writer is needed.
    this.#writer = typeof bytes === 'string' ? null : bodyWriter(framing.kind, framing.length, bodyless ? `a ${status} response to ${method}` : 'this response', this.#slab);
    return bytes;
  }

  /** RFC 9110 §7.8: the switch happens after the whole request; its unread body must not reach the new protocol. */
  #requireCompleteSwitchRequest(): void {
    if (this.#states.client !== 'MIGHT_SWITCH_PROTOCOL') {
      throw new LocalProtocolError('H1_INVALID_STATE', `cannot switch protocols while the request is in state ${this.#states.client}`);
    }
  }

  #sentFraming<F extends Framing>(f: F | FramingRefusal): F {
    if (isRefusal(f)) throw new LocalProtocolError(f.local ?? 'H1_FRAMING_HEADERS_NOT_ALLOWED', f.message);
    return f;
  }

  /**
   * Server: record that the final response to the oldest unanswered request was framed and
   * written in full by another serializer (node:http's `ServerResponse`, say), so the exchange
   * completes as if `send` had written it. It is the last on this connection when `close` says so
   * (the response said `Connection: close`, or its length was delimited by closing) or when the
   * exchange already required it (the request forbade persistence, its body broke, the client
   * finished sending); a 2xx to CONNECT is not a tunnel here, so it closes too. Returns whether
   * the connection must now close. Throws {@link LocalProtocolError} when no request awaits a
   * response, while a response is being sent, or for a status that is not final.
   */
  sentElsewhere(status: number, close: boolean): boolean {
    if (this.#r.sends !== 'response') throw new LocalProtocolError('H1_INVALID_STATE', 'a client does not send responses');
    const state = this.#states.server;
    const exchange = state === 'SEND_RESPONSE' ? this.#exchanges[0] : undefined;
    if (exchange === undefined) throw new LocalProtocolError('H1_INVALID_STATE', `server cannot send a response in state ${state}`);
    if (!Number.isInteger(status) || status < 200 || status > 999) throw new LocalProtocolError('H1_INVALID_STATUS', `${status} is not a final status`);
    const closeAfter =
      close ||
      exchange.requestClose ||
      (exchange.method === 'CONNECT' && status < 300) ||
      exchange === this.#brokenExchange ||
      (this.#eof && this.#exchanges.length <= 1);
    this.#transition('server', 'response');
    exchange.responded = true;
    exchange.closeAfter = closeAfter;
    exchange.expectContinue = false;
    if (closeAfter) this.#closing = true;
    this.#lastResponded = exchange;
    this.#sentMessageEnd();
    return this.#states.server === 'MUST_CLOSE';
  }

  /** Mark our side as failed (the socket write failed); nothing more can be sent. */
  sendFailed(): void {
    this.#states[this.role] = 'ERROR';
    this.#closing = true;
  }
}

