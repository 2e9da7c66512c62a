/**
 * Theory of operation: undici's `DispatchOptions` — what `fetch`, `undici.request/stream/pipeline`
 * and interceptors hand to `dispatch()` — turned into what a pool sends: a method, a path, flat
 * header lines with Host, and a body that is either whole (text or bytes: replayable, so it may be
 * re-sent) or a stream of bytes (never pipelined nor re-sent). Pure: no sockets, no pool state.
 *
 * The forms accepted are undici's: headers as a record, a flat `[name, value, …]` array (values
 * may be Buffers or arrays), an array of `[name, value]` pairs or any iterable of pairs (a Map,
 * `Headers`); bodies as string, Buffer / typed array / ArrayBuffer, Node Readable, (async)
 * iterable of chunks, Blob, FormData (encoded by the platform's `Response`), null. Fields undici
 * itself refuses (`transfer-encoding`, `keep-alive`, `upgrade`, `expect`) are refused the same way;
 * `connection: close` is the `reset` option. Anything refused throws a {@link ClientError} with
 * code `TETHER_INVALID_REQUEST` and `mayHaveBeenProcessed: false`.
 */

import { isIdempotentMethod } from '@tether/protocol';
import { ClientError } from './errors.js';
import { timeoutOption } from './options.js';

/** A header value as undici accepts it. */
export type DispatchHeaderValue = string | number | Uint8Array | readonly (string | number | Uint8Array)[] | null | undefined;

/** Request options of `dispatch()`: undici's `Dispatcher.DispatchOptions`. */
export interface DispatchOptions {
  /** The origin (`http://host:port`); an Agent picks its pool with it, a Pool checks it is its own. */
  readonly origin?: string | URL | undefined;
  /** The request-target: path and query. */
  readonly path: string;
  /** Default 'GET'. */
  readonly method?: string | undefined;
  /** Query parameters appended to `path`. */
  readonly query?: Readonly<Record<string, unknown>> | undefined;
  /** A record, a flat `[name, value, …]` array, `[name, value]` pairs, or an iterable of pairs (Map, Headers). */
  readonly headers?: Readonly<Record<string, DispatchHeaderValue>> | readonly unknown[] | Iterable<readonly [string, DispatchHeaderValue]> | null | undefined;
  /** String, Buffer / typed array / ArrayBuffer, Node Readable, (async) iterable of chunks, Blob, FormData, or null. */
  readonly body?: unknown;
  /** Cancels the request (tether's addition to undici's dispatch options). */
  readonly signal?: AbortSignal | undefined;
  /** Whether it may be pipelined and re-sent. Default: by method (RFC 9110 §9.2.2). */
  readonly idempotent?: boolean | undefined;
  /** Nothing is pipelined behind it until its response head arrives (default: only by method). */
  readonly blocking?: boolean | undefined;
  /** Not supported: a clear error. */
  readonly upgrade?: string | null | undefined;
  /** Accepted and ignored, as undici does over HTTP/1.1 (it is for HTTP/2). */
  readonly expectContinue?: boolean | undefined;
  /** Send `Connection: close`: this request is the connection's last. */
  readonly reset?: boolean | undefined;
  /** Ms from sending until the response head, for this request (default: the pool's). */
  readonly headersTimeout?: number | null | undefined;
  /** Ms between two pieces of the response body, for this request (default: the pool's). */
  readonly bodyTimeout?: number | null | undefined;
  /** undici's; only 0 or absent is accepted (redirects are fetch's job, or an interceptor's). */
  readonly maxRedirections?: number | undefined;
}

/** A normalized request, ready for a PendingRequest. */
export interface NormalizedRequest {
  readonly method: string;
  readonly path: string;
  /** Flat `[name, value, …]`; Host added unless given. */
  readonly headers: string[];
  readonly body: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  /** The declared length of a streamed body. */
  readonly contentLength: number | undefined;
  /** Idempotent by method or as the caller said: may be re-sent. */
  readonly idempotent: boolean;
  /** May others be pipelined behind it (false for `blocking: true` and non-idempotent requests). */
  readonly pipelinable: boolean;
  /** A Node stream to destroy if the request ends before it was read. */
  readonly disposable: { destroy(err?: Error): unknown } | null;
  readonly headersTimeout: number | undefined;
  readonly bodyTimeout: number | undefined;
}

function invalid(what: string, message: string, cause?: unknown): ClientError {
  return new ClientError('TETHER_INVALID_REQUEST', `${what}: ${message}`, { mayHaveBeenProcessed: false, cause });
}

const LATIN1 = new TextDecoder('latin1');

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return LATIN1.decode(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  throw new TypeError(`a header value must be a string, number or bytes, got ${typeof value}`);
}

/** Field names undici refuses in `headers` (each has an option, or no HTTP/1.1 meaning for a client). */
const REFUSED = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

interface FieldState {
  readonly out: string[];
  host: boolean;
  contentLength: string | undefined;
  contentType: boolean;
  reset: boolean;
}

function addField(state: FieldState, rawName: unknown, value: unknown): void {
  if (value === undefined || value === null) return;
  const name = text(rawName);
  const lower = name.toLowerCase();
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) addField(state, name, v ?? '');
    return;
  }
  const v = text(value);
  if (REFUSED.has(lower)) throw new TypeError(`the ${lower} header is not supported${lower === 'upgrade' ? ' (use the upgrade option)' : ''}`);
  switch (lower) {
    case 'host':
      state.host = true;
      break;
    case 'content-length':
      state.contentLength = v;
      return; // added back for a streamed body below; the protocol frames a whole one
    case 'content-type':
      state.contentType = true;
      break;
    case 'connection': {
      const token = v.trim().toLowerCase();
      if (token === 'close') state.reset = true;
      else if (token !== 'keep-alive') throw new TypeError(`connection: ${v} is not supported (close or keep-alive)`);
      return; // the connection decides its own Connection field
    }
  }
  state.out.push(name, v);
}

function addFields(state: FieldState, headers: DispatchOptions['headers']): void {
  if (headers === undefined || headers === null) return;
  if (Array.isArray(headers)) {
    const list = headers as readonly unknown[];
    if (list.length > 0 && Array.isArray(list[0])) {
      for (const pair of list) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('headers must be flat [name, value, …] or [name, value] pairs');
        addField(state, pair[0], pair[1]);
      }
      return;
    }
    if (list.length % 2 !== 0) throw new TypeError('a flat headers array must have an even length');
    for (let i = 0; i < list.length; i += 2) addField(state, list[i], list[i + 1]);
    return;
  }
  if (typeof headers !== 'object') throw new TypeError('headers must be an object or an array');
  if (Symbol.iterator in headers) {
    for (const pair of headers as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('headers must be [name, value] pairs');
      addField(state, pair[0], pair[1]);
    }
    return;
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) addField(state, name, value);
}

function isReadableLike(body: object): body is AsyncIterable<unknown> & { destroy(err?: Error): unknown } {
  return typeof (body as { pipe?: unknown }).pipe === 'function' && typeof (body as { destroy?: unknown }).destroy === 'function' && Symbol.asyncIterator in body;
}

function isFormDataLike(body: object): body is FormData {
  return (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'FormData' && typeof (body as { append?: unknown }).append === 'function';
}

function isBlobLike(body: object): body is Blob {
  return typeof (body as { stream?: unknown }).stream === 'function' && typeof (body as { size?: unknown }).size === 'number' && typeof (body as { arrayBuffer?: unknown }).arrayBuffer === 'function';
}

/** Chunks of any source as bytes (a Readable may yield strings once an encoding is set). */
async function* bytesOf(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk);
    else if (ArrayBuffer.isView(chunk)) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else if (chunk instanceof ArrayBuffer) yield new Uint8Array(chunk);
    else throw new TypeError(`a body chunk must be bytes or text, got ${typeof chunk}`);
  }
}

interface BodyState {
  body: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  disposable: { destroy(err?: Error): unknown } | null;
  /** A length and type the body brings itself (Blob, FormData). */
  length: number | undefined;
  type: string | undefined;
}

function bodyOf(given: unknown): BodyState {
  const state: BodyState = { body: null, disposable: null, length: undefined, type: undefined };
  if (given === undefined || given === null) return state;
  if (typeof given === 'string') {
    state.body = given.length === 0 ? null : given;
    return state;
  }
  if (given instanceof Uint8Array) {
    state.body = given.length === 0 ? null : given;
    return state;
  }
  if (ArrayBuffer.isView(given)) {
    state.body = given.byteLength === 0 ? null : new Uint8Array(given.buffer, given.byteOffset, given.byteLength);
    return state;
  }
  if (given instanceof ArrayBuffer) {
    state.body = given.byteLength === 0 ? null : new Uint8Array(given);
    return state;
  }
  if (typeof given !== 'object') throw new TypeError(`body must be a string, bytes, a stream, an iterable, a Blob or FormData, got ${typeof given}`);
  if (isFormDataLike(given)) {
    // The platform's multipart encoder (boundary in the content type).
    const encoded = new Response(given);
    state.type = encoded.headers.get('content-type') ?? undefined;
    state.body = encoded.body === null ? null : bytesOf(encoded.body);
    return state;
  }
  if (isBlobLike(given)) {
    state.length = given.size;
    if (given.type !== '') state.type = given.type;
    state.body = given.size === 0 ? null : bytesOf(given.stream());
    return state;
  }
  if (isReadableLike(given)) {
    state.disposable = given;
    state.body = bytesOf(given);
    return state;
  }
  if (Symbol.asyncIterator in given || Symbol.iterator in given) {
    state.body = bytesOf(given as AsyncIterable<unknown> | Iterable<unknown>);
    return state;
  }
  throw new TypeError('body must be a string, bytes, a stream, an iterable, a Blob or FormData');
}

/** A per-request timeout: none given (the pool's applies), or checked as the pool's options are. */
function timeout(name: string, value: number | null | undefined): number | undefined {
  return value === undefined || value === null ? undefined : timeoutOption(name, value);
}

function withQuery(path: string, query: Readonly<Record<string, unknown>> | undefined): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) params.append(name, text(v));
  }
  const search = params.toString();
  if (search === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${search}`;
}

/**
 * Normalize `options` for a pool whose Host is `authority`.
 *
 * @throws ClientError `TETHER_INVALID_REQUEST` for anything undici would refuse, an upgrade, or
 * CONNECT (neither is supported).
 */
export function normalizeDispatch(options: DispatchOptions, authority: string): NormalizedRequest {
  const method = options.method ?? 'GET';
  const what = `${String(method)} ${String(options.path)}`;
  try {
    if (typeof method !== 'string' || method === '') throw new TypeError('method must be a non-empty string');
    if (typeof options.path !== 'string' || !options.path.startsWith('/')) throw new TypeError('path must be a string starting with /');
    if (options.upgrade !== undefined && options.upgrade !== null) throw new TypeError(`protocol upgrades (upgrade: ${String(options.upgrade)}) are not supported by @tether/client`);
    if (method === 'CONNECT') throw new TypeError('CONNECT is not supported by @tether/client');
    if (options.maxRedirections !== undefined && options.maxRedirections !== 0) throw new TypeError('maxRedirections is not supported: fetch follows redirects itself');
    const fields: FieldState = { out: [], host: false, contentLength: undefined, contentType: false, reset: options.reset === true };
    addFields(fields, options.headers);
    const body = bodyOf(options.body);
    const headers = fields.out;
    if (!fields.host) headers.push('Host', authority);
    if (body.type !== undefined && !fields.contentType) headers.push('Content-Type', body.type);
    const whole = body.body === null || typeof body.body === 'string' || body.body instanceof Uint8Array;
    let contentLength: number | undefined;
    if (!whole) {
      const declared = fields.contentLength ?? (body.length === undefined ? undefined : String(body.length));
      if (declared !== undefined) {
        if (!/^\d+$/.test(declared.trim())) throw new TypeError(`invalid content-length: ${declared}`);
        contentLength = Number(declared.trim());
        headers.push('Content-Length', String(contentLength));
      }
    } else if (fields.contentLength !== undefined && body.body === null && fields.contentLength.trim() !== '0' && method !== 'HEAD' && method !== 'GET') {
      throw new TypeError(`content-length: ${fields.contentLength} given without a body`);
    }
    if (fields.reset) headers.push('Connection', 'close');
    const idempotent = options.idempotent ?? isIdempotentMethod(method);
    return {
      method,
      path: withQuery(options.path, options.query),
      headers,
      body: body.body,
      contentLength,
      idempotent,
      pipelinable: idempotent && options.blocking !== true,
      disposable: body.disposable,
      headersTimeout: timeout('headersTimeout', options.headersTimeout),
      bodyTimeout: timeout('bodyTimeout', options.bodyTimeout),
    };
  } catch (err) {
    if (err instanceof ClientError) throw err;
    throw invalid(what, err instanceof Error ? err.message : String(err), err);
  }
}
