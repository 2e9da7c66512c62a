/**
 * Theory of operation: fast-check properties over the whole Connection, bytes to events and
 * events to bytes.
 *
 * (a) Split invariance: a stream of random pipelined messages, written from the RFC 9112
 *     grammar (tokens, obs-text in values, OWS around values, Content-Length or chunked bodies
 *     with random chunk sizes, extensions and trailers), yields the events the model predicts,
 *     and exactly the same events (data merged) however the stream is cut into chunks.
 * (b) Round trip: what one side of a ConnectionPair sends comes out of the other side with the
 *     same start line, the same field lines (plus only the framing fields the sender added) and
 *     the same body bytes and trailers.
 * (c) Pipelining: a batch of requests sent back to back, and their responses, parse in order.
 * (d) Robustness: any byte input, cut anyhow, either parses or raises RemoteProtocolError,
 *     never a TypeError/RangeError/LocalProtocolError, and the error is sticky.
 *
 * Run counts are tuned so the file takes about 4 s on an idle core. The properties are CPU-bound
 * and synchronous, so on a loaded machine their wall-clock time stretches with the load: each one
 * gets a timeout proportional to its runs (`timeoutFor`), not vitest's fixed 5 s.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Connection, LocalProtocolError, NEED_DATA, PAUSED, RemoteProtocolError } from '../src/index.js';
import type { Event, Fields, NextEvent, SendEvent } from '../src/index.js';
import { ConnectionPair, drain } from '../src/testing.js';

// ---------------------------------------------------------------------------------------------
// Byte helpers

function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function text(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** Cut `data` at the given offsets (any numbers; reduced modulo the length, deduplicated). */
function cut(data: Uint8Array, points: readonly number[]): Uint8Array[] {
  if (data.length === 0) return [];
  const at = [...new Set(points.map((p) => p % data.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of at) {
    parts.push(data.slice(from, p));
    from = p;
  }
  parts.push(data.slice(from));
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Event normalisation: plain JSON-able values, adjacent data events merged.

type Norm =
  | { readonly type: 'request'; readonly method: string; readonly target: string; readonly version: string; readonly headers: readonly string[] }
  | { readonly type: 'response' | 'informational-response'; readonly status: number; readonly reason: string; readonly version: string; readonly headers: readonly string[] }
  | { readonly type: 'data'; readonly data: string; readonly extensions: readonly (readonly [string, string | null])[] }
  | { readonly type: 'end-of-message'; readonly trailers: readonly string[] | null }
  | { readonly type: 'connection-closed' };

function normalise(events: readonly Event[]): Norm[] {
  const out: Norm[] = [];
  let data: { data: string; extensions: (readonly [string, string | null])[] } | null = null;
  const flush = (): void => {
    if (data !== null) out.push({ type: 'data', data: data.data, extensions: data.extensions });
    data = null;
  };
  for (const e of events) {
    switch (e.type) {
      case 'data':
        data ??= { data: '', extensions: [] };
        data.data += text(e.data);
        if (e.extensions !== undefined) data.extensions.push(...e.extensions);
        continue;
      case 'request':
        flush();
        out.push({ type: 'request', method: e.method, target: e.target, version: e.version, headers: [...e.headers.raw] });
        continue;
      case 'response':
      case 'informational-response':
        flush();
        out.push({ type: e.type, status: e.status, reason: e.reason, version: e.version, headers: [...e.headers.raw] });
        continue;
      case 'end-of-message':
        flush();
        out.push({ type: 'end-of-message', trailers: e.trailers === null ? null : [...e.trailers.raw] });
        continue;
      case 'connection-closed':
        flush();
        out.push({ type: 'connection-closed' });
        continue;
    }
  }
  flush();
  return out;
}

/** Feed `parts` one by one, draining after each; then EOF and drain to connection-closed. */
function feed(conn: Connection, parts: readonly Uint8Array[], eof = true): Event[] {
  const events: Event[] = [];
  for (const p of parts) {
    conn.receiveData(p);
    events.push(...drain(conn));
  }
  if (eof) {
    conn.receiveEof();
    events.push(...drain(conn));
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Grammar arbitraries (RFC 9110 §5.6.2 tokens, §5.5 field values, RFC 3986 origin-form)

const TCHARS = [..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"];
const tokenArb = (maxLength = 12): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength });

/** field-vchar = VCHAR / obs-text. */
const fieldVcharArb = fc
  .oneof({ weight: 4, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) }, { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) })
  .map((c) => String.fromCharCode(c));

/** field-value = *field-content: starts and ends with field-vchar, SP/HTAB only inside. */
const fieldValueArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 8,
    arbitrary: fc
      .tuple(fieldVcharArb, fc.array(fc.oneof({ weight: 6, arbitrary: fieldVcharArb }, { weight: 1, arbitrary: fc.constantFrom(' ', '\t') }), { maxLength: 24 }), fieldVcharArb)
      .map(([a, mid, b]) => a + mid.join('') + b),
  },
  // Values that start or end with an obs-text octet that JavaScript's String#trim would eat.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('\xa0', '\x85', '\xff'), tokenArb(6), fc.constantFrom('\xa0', '\x85', '')).map(([a, b, c]) => a + b + c) },
);

const owsArb = fc.constantFrom('', '', ' ', '  ', '\t', ' \t ');

/** Field names that steer framing, persistence or protocol switches: kept out of random fields. */
const STEERING = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'keep-alive', 'proxy-connection', 'te', 'trailer']);
const fieldNameArb = tokenArb(16).filter((n) => !STEERING.has(n.toLowerCase()));

interface FieldLine {
  readonly name: string;
  readonly value: string;
  readonly before: string;
  readonly after: string;
}
const fieldLineArb: fc.Arbitrary<FieldLine> = fc.record({ name: fieldNameArb, value: fieldValueArb, before: owsArb, after: owsArb });
const fieldLinesArb = (maxLength = 6): fc.Arbitrary<FieldLine[]> => fc.array(fieldLineArb, { maxLength });

const UNRESERVED = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~'];
const SUB_DELIMS = [..."!$&'()*+,;="];
const pcharArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...UNRESERVED) },
  { weight: 2, arbitrary: fc.constantFrom(...SUB_DELIMS, ':', '@') },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...'0123456789ABCDEFabcdef'), fc.constantFrom(...'0123456789ABCDEF')).map(([a, b]) => `%${a}${b}`) },
);
/** origin-form = absolute-path [ "?" query ]. */
const originFormArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.array(pcharArb, { maxLength: 8 }).map((p) => p.join('')), { minLength: 1, maxLength: 4 }),
    fc.option(fc.array(fc.oneof(pcharArb, fc.constantFrom('/', '?')), { maxLength: 12 }).map((q) => q.join('')), { nil: undefined }),
  )
  .map(([segments, query]) => `/${segments.join('/')}${query === undefined ? '' : `?${query}`}`);

const hostArb = fc
  .tuple(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-.'), minLength: 1, maxLength: 20 }), fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }))
  .map(([h, port]) => (port === undefined ? h : `${h}:${port}`));

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'M-SEARCH', 'X_CUSTOM'] as const;
const methodArb = fc.constantFrom(...METHODS);

const bodyArb = (maxLength = 64): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });

/** chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string. */
interface ChunkExt {
  readonly wire: string;
  readonly parsed: readonly [string, string | null];
}
const qdtextArb = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).filter((c) => c !== 0x22 && c !== 0x5c) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
  )
  .map((c) => String.fromCharCode(c));
const quotedPairArb = fc.constantFrom('\\"', '\\\\', '\\a', '\\ ');
const quotedStringArb = fc.array(fc.oneof({ weight: 6, arbitrary: qdtextArb }, { weight: 1, arbitrary: quotedPairArb }), { maxLength: 10 }).map((parts) => ({
  wire: `"${parts.join('')}"`,
  value: parts.map((p) => (p.length === 2 ? p[1]! : p)).join(''),
}));
const bwsArb = fc.constantFrom('', '', ' ', '\t');
const chunkExtArb: fc.Arbitrary<ChunkExt> = fc
  .tuple(bwsArb, bwsArb, tokenArb(8), fc.option(fc.tuple(bwsArb, bwsArb, fc.oneof(tokenArb(8).map((t) => ({ wire: t, value: t })), quotedStringArb)), { nil: undefined }))
  .map(([b1, b2, name, val]) => {
    if (val === undefined) return { wire: `${b1};${b2}${name}`, parsed: [name.toLowerCase(), null] as const };
    const [b3, b4, v] = val;
    return { wire: `${b1};${b2}${name}${b3}=${b4}${v.wire}`, parsed: [name.toLowerCase(), v.value] as const };
  });

interface Chunk {
  readonly data: Uint8Array;
  readonly size: string;
  readonly extensions: readonly ChunkExt[];
}
/** A chunk-size as hex with random case and leading zeros. */
const chunkArb: fc.Arbitrary<Chunk> = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.array(chunkExtArb, { maxLength: 2 }))
  .map(([data, zeros, upper, extensions]) => {
    const hex = data.length.toString(16);
    return { data, size: '0'.repeat(zeros) + (upper ? hex.toUpperCase() : hex), extensions };
  });

type Body =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly data: Uint8Array; readonly name: string }
  | { readonly kind: 'chunked'; readonly chunks: readonly Chunk[]; readonly last: readonly ChunkExt[]; readonly trailers: readonly FieldLine[]; readonly name: string; readonly coding: string };

const clNameArb = fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH');
const teNameArb = fc.constantFrom('Transfer-Encoding', 'transfer-encoding');
const chunkedArb = fc.constantFrom('chunked', 'Chunked', 'CHUNKED');

const framedBodyArb: fc.Arbitrary<Body> = fc.oneof(
  fc.constant<Body>({ kind: 'none' }),
  fc.record({ kind: fc.constant('length' as const), data: bodyArb(), name: clNameArb }),
  fc.record({
    kind: fc.constant('chunked' as const),
    chunks: fc.array(chunkArb, { maxLength: 4 }),
    last: fc.array(chunkExtArb, { maxLength: 1 }),
    trailers: fieldLinesArb(2),
    name: teNameArb,
    coding: chunkedArb,
  }),
);

function writeFields(fields: readonly FieldLine[]): string {
  return fields.map((f) => `${f.name}:${f.before}${f.value}${f.after}\r\n`).join('');
}

function rawOf(fields: readonly FieldLine[]): string[] {
  return fields.flatMap((f) => [f.name, f.value]);
}

/** The wire form of a body plus its framing field, and the events a reader should yield. */
function writeBody(body: Body): { field: [string, string] | null; wire: string; expect: Norm[] } {
  switch (body.kind) {
    case 'none':
      return { field: null, wire: '', expect: [{ type: 'end-of-message', trailers: null }] };
    case 'length': {
      const data = text(body.data);
      const expect: Norm[] = data === '' ? [] : [{ type: 'data', data, extensions: [] }];
      expect.push({ type: 'end-of-message', trailers: null });
      return { field: [body.name, String(body.data.length)], wire: data, expect };
    }
    case 'chunked': {
      let wire = '';
      let data = '';
      const extensions: (readonly [string, string | null])[] = [];
      for (const c of body.chunks) {
        wire += `${c.size}${c.extensions.map((e) => e.wire).join('')}\r\n${text(c.data)}\r\n`;
        data += text(c.data);
        extensions.push(...c.extensions.map((e) => e.parsed));
      }
      wire += `0${body.last.map((e) => e.wire).join('')}\r\n${writeFields(body.trailers)}\r\n`;
      const expect: Norm[] = data === '' ? [] : [{ type: 'data', data, extensions }];
      expect.push({ type: 'end-of-message', trailers: body.trailers.length === 0 ? null : rawOf(body.trailers) });
      return { field: [body.name, body.coding], wire, expect };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Request streams

interface RequestModel {
  readonly leading: string;
  readonly method: string;
  readonly target: string;
  readonly host: string;
  readonly hostName: string;
  readonly fields: readonly FieldLine[];
  readonly body: Body;
}

const requestModelArb: fc.Arbitrary<RequestModel> = fc.record({
  leading: fc.constantFrom('', '', '', '\r\n', '\r\n\r\n'),
  method: methodArb,
  target: originFormArb,
  host: hostArb,
  hostName: fc.constantFrom('Host', 'host', 'HOST'),
  fields: fieldLinesArb(),
  body: framedBodyArb,
});

function writeRequest(m: RequestModel): { wire: string; expect: Norm[] } {
  const body = writeBody(m.body);
  const headers = [m.hostName, m.host, ...rawOf(m.fields), ...(body.field ?? [])];
  let wire = `${m.leading}${m.method} ${m.target} HTTP/1.1\r\n${m.hostName}: ${m.host}\r\n${writeFields(m.fields)}`;
  if (body.field !== null) wire += `${body.field[0]}: ${body.field[1]}\r\n`;
  wire += `\r\n${body.wire}`;
  return { wire, expect: [{ type: 'request', method: m.method, target: m.target, version: '1.1', headers }, ...body.expect] };
}

// ---------------------------------------------------------------------------------------------
// Response streams (the client sent a matching list of requests first)

type ResponseKind = 'length' | 'chunked' | 'head' | 'no-content' | 'not-modified' | 'until-close';

interface ResponseModel {
  readonly kind: ResponseKind;
  readonly status: number;
  readonly reason: string;
  readonly fields: readonly FieldLine[];
  readonly informational: readonly { readonly status: number; readonly reason: string; readonly fields: readonly FieldLine[] }[];
  readonly body: Body;
  /** The method of the request this answers. */
  readonly method: string;
}

const reasonArb = fc.oneof(
  fc.constantFrom('OK', 'Not Found', ''),
  fc.array(fc.oneof(fieldVcharArb, fc.constantFrom(' ', '\t')), { maxLength: 16 }).map((r) => r.join('')),
);
const finalStatusArb = fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304);
const informationalArb = fc.array(fc.record({ status: fc.constantFrom(100, 102, 103), reason: reasonArb, fields: fieldLinesArb(2) }), { maxLength: 2 });
const nonHeadMethodArb = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH');

function responseModelArb(kind: ResponseKind): fc.Arbitrary<ResponseModel> {
  const common = { reason: reasonArb, fields: fieldLinesArb(4), informational: informationalArb };
  switch (kind) {
    case 'length':
      return fc.record({ ...common, kind: fc.constant(kind), status: finalStatusArb, method: nonHeadMethodArb, body: framedBodyArb.filter((b) => b.kind === 'length') });
    case 'chunked':
      return fc.record({ ...common, kind: fc.constant(kind), status: finalStatusArb, method: nonHeadMethodArb, body: framedBodyArb.filter((b) => b.kind === 'chunked') });
    case 'head':
      // A response to HEAD carries the framing fields a GET would get, and no body (RFC 9110 §9.3.2).
      return fc.record({ ...common, kind: fc.constant(kind), status: fc.constantFrom(200, 404, 500), method: fc.constant('HEAD'), body: framedBodyArb });
    case 'no-content':
      return fc.record({ ...common, kind: fc.constant(kind), status: fc.constant(204), method: nonHeadMethodArb, body: fc.constant<Body>({ kind: 'none' }) });
    case 'not-modified':
      // A 304 may carry the Content-Length of the selected representation (RFC 9110 §8.6): no body.
      return fc.record({ ...common, kind: fc.constant(kind), status: fc.constant(304), method: fc.constantFrom('GET', 'HEAD'), body: framedBodyArb.filter((b) => b.kind !== 'chunked') });
    case 'until-close':
      return fc.record({ ...common, kind: fc.constant(kind), status: finalStatusArb, method: nonHeadMethodArb, body: bodyArb().map((data): Body => ({ kind: 'length', data, name: '' })) });
  }
}

function writeResponse(m: ResponseModel): { wire: string; expect: Norm[] } {
  let wire = '';
  const expect: Norm[] = [];
  for (const info of m.informational) {
    wire += `HTTP/1.1 ${info.status} ${info.reason}\r\n${writeFields(info.fields)}\r\n`;
    expect.push({ type: 'informational-response', status: info.status, reason: info.reason, version: '1.1', headers: rawOf(info.fields) });
  }
  wire += `HTTP/1.1 ${m.status} ${m.reason}\r\n${writeFields(m.fields)}`;
  const headers = rawOf(m.fields);
  if (m.kind === 'until-close') {
    const data = m.body.kind === 'length' ? text(m.body.data) : '';
    wire += `\r\n${data}`;
    expect.push({ type: 'response', status: m.status, reason: m.reason, version: '1.1', headers });
    if (data !== '') expect.push({ type: 'data', data, extensions: [] });
    expect.push({ type: 'end-of-message', trailers: null });
    return { wire, expect };
  }
  const body = writeBody(m.body);
  if (body.field !== null) {
    wire += `${body.field[0]}: ${body.field[1]}\r\n`;
    headers.push(...body.field);
  }
  wire += '\r\n';
  expect.push({ type: 'response', status: m.status, reason: m.reason, version: '1.1', headers });
  if (m.kind === 'head' || m.kind === 'no-content' || m.kind === 'not-modified') {
    // The framing fields describe the representation; the message itself ends with its head.
    expect.push({ type: 'end-of-message', trailers: null });
  } else {
    wire += body.wire;
    expect.push(...body.expect);
  }
  return { wire, expect };
}

const responseStreamArb: fc.Arbitrary<ResponseModel[]> = fc
  .tuple(
    fc.array(fc.oneof(...(['length', 'chunked', 'head', 'no-content', 'not-modified'] as const).map(responseModelArb)), { maxLength: 4 }),
    fc.option(responseModelArb('until-close'), { nil: undefined }),
  )
  .map(([persistent, last]) => (last === undefined ? persistent : [...persistent, last]))
  .filter((list) => list.length > 0);

/** A client connection that has sent one request per method and is waiting for the responses. */
function clientAwaiting(methods: readonly string[]): Connection {
  const client = new Connection('client');
  for (const method of methods) {
    client.send({ type: 'request', method, target: '/', headers: { Host: 'example.test' } });
    client.send({ type: 'end-of-message' });
  }
  return client;
}

const cutPointsArb = fc.array(fc.nat(), { maxLength: 12 });

/**
 * How many times slower than on an idle core a property may run before its test fails. On a
 * 2-core CI runner at a load average of 12 a synchronous test gets about a sixth of a core; 20
 * leaves room for that, a slower CPU and GC pauses.
 */
const LOAD_SLOWDOWN = 20;

/**
 * The test timeout for a property of `runs` cases that each take about `idleMsPerRun` on an idle
 * core (measured, rounded up), plus vitest's default 5 s for start-up. A failing property is
 * reported with its counterexample whatever the time its shrinking took: vitest only turns a
 * synchronous test into a timeout when it passes late.
 */
function timeoutFor(runs: number, idleMsPerRun: number): number {
  return 5_000 + Math.ceil(runs * idleMsPerRun * LOAD_SLOWDOWN);
}

/** Half the cases are fed one byte at a time: about 0.85 ms a case on an idle core. */
const PIPELINED_RUNS = 1500;
/** About 0.3–0.5 ms a case on an idle core. */
const RESPONSE_STREAM_RUNS = 1500;

describe('property (a): any split of a valid stream yields the same events', () => {
  it('pipelined requests', () => {
    fc.assert(
      fc.property(fc.array(requestModelArb, { minLength: 1, maxLength: 4 }), cutPointsArb, fc.boolean(), (models, points, byteAtATime) => {
        const written = models.map(writeRequest);
        const input = latin1(written.map((w) => w.wire).join(''));
        const expected = [...written.flatMap((w) => w.expect), { type: 'connection-closed' } as const];
        const whole = normalise(feed(new Connection('server'), [input]));
        expect(whole).toEqual(expected);
        const parts = byteAtATime ? cut(input, Array.from(input, (_, i) => i)) : cut(input, points);
        expect(normalise(feed(new Connection('server'), parts))).toEqual(whole);
      }),
      { numRuns: PIPELINED_RUNS },
    );
  }, timeoutFor(PIPELINED_RUNS, 1));

  it('responses to HEAD, 204, 304, 1xx, chunked, Content-Length and a final read-until-close', () => {
    fc.assert(
      fc.property(responseStreamArb, cutPointsArb, (models, points) => {
        const written = models.map(writeResponse);
        const input = latin1(written.map((w) => w.wire).join(''));
        const methods = models.map((m) => m.method);
        const expected = [...written.flatMap((w) => w.expect), { type: 'connection-closed' } as const];
        const whole = normalise(feed(clientAwaiting(methods), [input]));
        expect(whole).toEqual(expected);
        expect(normalise(feed(clientAwaiting(methods), cut(input, points)))).toEqual(whole);
      }),
      { numRuns: RESPONSE_STREAM_RUNS },
    );
  }, timeoutFor(RESPONSE_STREAM_RUNS, 0.5));
});

// ---------------------------------------------------------------------------------------------
// (b) serialize → parse round trips

/** Field lines a sender may pass in: exact values (no surrounding whitespace: writers trim none). */
const sendFieldsArb = fc.array(fc.tuple(fieldNameArb, fieldValueArb), { maxLength: 6 }).map((pairs) => pairs.flat());

type SendPlan =
  | { readonly how: 'message'; readonly body: Uint8Array | undefined }
  | { readonly how: 'length'; readonly pieces: readonly Uint8Array[] }
  | { readonly how: 'streaming'; readonly pieces: readonly Uint8Array[]; readonly trailers: readonly string[] };

const sendPlanArb: fc.Arbitrary<SendPlan> = fc.oneof(
  fc.record({ how: fc.constant('message' as const), body: fc.option(bodyArb(), { nil: undefined }) }),
  fc.record({ how: fc.constant('length' as const), pieces: fc.array(bodyArb(16), { maxLength: 4 }) }),
  fc.record({ how: fc.constant('streaming' as const), pieces: fc.array(bodyArb(16), { maxLength: 4 }), trailers: sendFieldsArb }),
);

function planBody(plan: SendPlan): Uint8Array {
  if (plan.how === 'message') return plan.body ?? new Uint8Array(0);
  const total = plan.pieces.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of plan.pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Send a head and body by `plan`; return the bytes. */
function sendByPlan(conn: Connection, head: SendEvent & { type: 'request' | 'response' }, plan: SendPlan): Uint8Array {
  if (plan.how === 'message') return conn.sendMessage(head, plan.body);
  const parts: Uint8Array[] = [];
  const body = planBody(plan);
  parts.push(...conn.send(head, plan.how === 'length' ? { bodyLength: body.length } : { streaming: true }));
  for (const p of plan.pieces) parts.push(...conn.send({ type: 'data', data: p }));
  parts.push(...conn.send(plan.how === 'streaming' && plan.trailers.length > 0 ? { type: 'end-of-message', trailers: plan.trailers } : { type: 'end-of-message' }));
  return latin1(parts.map(text).join(''));
}

/** The names a sender may add to the fields it was given, for framing. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

function checkHeaders(received: readonly string[], sent: readonly string[]): void {
  expect(received.slice(0, sent.length)).toEqual(sent);
  const added = received.slice(sent.length);
  for (let i = 0; i < added.length; i += 2) expect(FRAMING.has(added[i]!.toLowerCase())).toBe(true);
}

function checkBody(events: readonly Norm[], body: Uint8Array, trailers: readonly string[] | null): void {
  const data = events.filter((e) => e.type === 'data');
  expect(data.map((d) => d.data).join('')).toBe(text(body));
  const end = events.at(-1);
  expect(end).toEqual({ type: 'end-of-message', trailers });
}

// 205 is sent without content (RFC 9110 §15.3.6), like 204 and 304.
const responseStatusArb = fc.oneof(finalStatusArb.filter((s) => s !== 205), fc.constantFrom(204, 205, 304));
const reasonPhraseArb = fc.array(fc.oneof(fieldVcharArb, fc.constantFrom(' ', '\t')), { maxLength: 16 }).map((r) => r.join(''));

/** About 0.3–0.5 ms a case on an idle core. */
const ROUND_TRIP_RUNS = 1500;

describe('property (b): what one side sends, the other side receives', () => {
  it('requests and responses round-trip through a ConnectionPair', () => {
    fc.assert(
      fc.property(
        methodArb,
        originFormArb,
        hostArb,
        sendFieldsArb,
        sendPlanArb,
        informationalArb,
        responseStatusArb,
        reasonPhraseArb,
        sendFieldsArb,
        sendPlanArb,
        (method, target, host, fields, plan, infos, status, reason, responseFields, responsePlan) => {
          const pair = new ConnectionPair();
          const requestHeaders = ['Host', host, ...fields];
          const requestBytes = sendByPlan(pair.client, { type: 'request', method, target, headers: requestHeaders }, plan);
          pair.server.receiveData(requestBytes);
          const received = normalise(drain(pair.server));
          const head = received[0];
          expect(head).toMatchObject({ type: 'request', method, target, version: '1.1' });
          checkHeaders(head?.type === 'request' ? head.headers : [], requestHeaders);
          const requestTrailers = plan.how === 'streaming' && plan.trailers.length > 0 ? plan.trailers : null;
          checkBody(received, planBody(plan), requestTrailers);

          const replies: Norm[] = [];
          for (const info of infos) {
            replies.push(...normalise(pair.send('server', [{ type: 'informational-response', status: info.status, reason: info.reason, headers: rawOf(info.fields) }])));
          }
          expect(replies).toEqual(infos.map((i) => ({ type: 'informational-response', status: i.status, reason: i.reason, version: '1.1', headers: rawOf(i.fields) })));
          const bodyless = method === 'HEAD' || status === 204 || status === 205 || status === 304;
          const rplan: SendPlan = bodyless ? { how: 'message', body: undefined } : responsePlan;
          const responseBytes = sendByPlan(pair.server, { type: 'response', status, reason, headers: responseFields }, rplan);
          pair.client.receiveData(responseBytes);
          const back = normalise(drain(pair.client));
          expect(back[0]).toMatchObject({ type: 'response', status, reason, version: '1.1' });
          checkHeaders(back[0]?.type === 'response' ? back[0].headers : [], responseFields);
          checkBody(back, planBody(rplan), rplan.how === 'streaming' && rplan.trailers.length > 0 ? rplan.trailers : null);
          // Both sides are ready for the next exchange on the same connection.
          expect(pair.client.states).toEqual({ client: 'IDLE', server: 'IDLE' });
          expect(pair.server.states).toEqual({ client: 'IDLE', server: 'IDLE' });
          expect(pair.client.keepAlive).toBe(true);
        },
      ),
      { numRuns: ROUND_TRIP_RUNS },
    );
  }, timeoutFor(ROUND_TRIP_RUNS, 0.5));

  it('field values keep leading and trailing obs-text octets on the wire', () => {
    // Regression: the head writer trimmed values with String#trim, which also strips U+00A0
    // (an obs-text octet, 0xA0) and U+0085, so "\xa0x" went out as "x".
    const pair = new ConnectionPair();
    const got = pair.send('client', [{ type: 'request', method: 'GET', target: '/', headers: ['Host', 'a', 'X', '\xa0v\xa0', 'Y', '\x85'] }, { type: 'end-of-message' }]);
    expect(got[0]?.type === 'request' ? got[0].headers.raw : []).toEqual(['Host', 'a', 'X', '\xa0v\xa0', 'Y', '\x85']);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) pipelined batches

interface Exchange {
  readonly method: string;
  readonly fields: readonly string[];
  readonly body: Uint8Array | undefined;
  readonly status: number;
  readonly responseFields: readonly string[];
  readonly responseBody: Uint8Array;
}

const exchangeArb: fc.Arbitrary<Exchange> = fc.record({
  method: methodArb,
  fields: sendFieldsArb,
  body: fc.option(bodyArb(32), { nil: undefined }),
  status: responseStatusArb,
  responseFields: sendFieldsArb,
  responseBody: bodyArb(32),
});

/** About 0.4 ms a case on an idle core. */
const BATCH_RUNS = 800;

describe('property (c): pipelined messages parse back in order', () => {
  it('a batch of requests, then their responses, each sent back to back', () => {
    fc.assert(
      fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 6 }), cutPointsArb, (exchanges, points) => {
        const pair = new ConnectionPair();
        const requests = exchanges.map((x, i) => pair.client.sendMessage({ type: 'request', method: x.method, target: `/${i}`, headers: ['Host', 'h', ...x.fields] }, x.body));
        expect(pair.client.pendingRequests).toEqual(exchanges.map((x) => x.method));
        const batch = latin1(requests.map(text).join(''));
        const got = normalise(feed(pair.server, cut(batch, points), false));
        const heads = got.filter((e) => e.type === 'request');
        expect(heads.map((h) => [h.method, h.target])).toEqual(exchanges.map((x, i) => [x.method, `/${i}`]));
        const bodies = splitBodies(got);
        expect(bodies).toEqual(exchanges.map((x) => text(x.body ?? new Uint8Array(0))));

        const responses = exchanges.map((x) => {
          const bodyless = x.method === 'HEAD' || x.status === 204 || x.status === 205 || x.status === 304;
          return pair.server.sendMessage({ type: 'response', status: x.status, headers: x.responseFields }, bodyless ? undefined : x.responseBody);
        });
        const back = normalise(feed(pair.client, cut(latin1(responses.map(text).join('')), points), false));
        const statuses = back.flatMap((e) => (e.type === 'response' ? [e.status] : []));
        expect(statuses).toEqual(exchanges.map((x) => x.status));
        expect(splitBodies(back)).toEqual(exchanges.map((x) => (x.method === 'HEAD' || x.status === 204 || x.status === 205 || x.status === 304 ? '' : text(x.responseBody))));
        expect(pair.client.pendingRequests).toEqual([]);
      }),
      { numRuns: BATCH_RUNS },
    );
  }, timeoutFor(BATCH_RUNS, 0.5));
});

/** The body of each message of a normalised stream, in order. */
function splitBodies(events: readonly Norm[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const e of events) {
    if (e.type === 'data') current += e.data;
    if (e.type === 'end-of-message') {
      out.push(current);
      current = '';
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// (d) any input: parse or RemoteProtocolError, nothing else

const HTTPISH = [
  'GET ', 'POST ', 'HEAD ', 'CONNECT ', 'OPTIONS ', '/', '*', 'http://a/', 'a:443', ' HTTP/1.1', ' HTTP/1.0', 'HTTP/1.1 ', 'HTTP/1.0 ',
  '200 OK', '100 Continue', '101 ', '204 ', '304 ', '\r\n', '\n', '\r', ' ', '\t', ':', '\0', 'Host: a\r\n', 'Host:', 'Content-Length: ',
  'Content-Length: 3\r\n', 'Content-Length: 0\r\n', 'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip\r\n', 'Connection: close\r\n',
  'Connection: upgrade\r\nUpgrade: x\r\n', 'Expect: 100-continue\r\n', '0\r\n\r\n', '5\r\nhello\r\n', 'ffffffffffffffffff\r\n', ';a=b', ';a="\\"', '\r\n\r\n',
  'abc', '99999999999999999999', '-1', '\x7f', '\xff', 'x',
];
const anyInputArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...HTTPISH) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) }), { maxLength: 40 }).map((p) => latin1(p.join(''))),
);

/** Feed `parts` (then maybe EOF) and drain; return the error thrown, if any. */
function runToEnd(conn: Connection, parts: readonly Uint8Array[], eof: boolean, budget: number): unknown {
  let events = 0;
  const step = (): NextEvent => {
    if (++events > budget) throw new Error(`more than ${budget} events: the parser is not making progress`);
    return conn.nextEvent();
  };
  const drainAll = (): void => {
    for (;;) {
      const e = step();
      if (e === NEED_DATA || e === PAUSED || e.type === 'connection-closed') return;
    }
  };
  try {
    for (const p of parts) {
      conn.receiveData(p);
      drainAll();
    }
    if (eof) {
      conn.receiveEof();
      drainAll();
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

/** The code of the RemoteProtocolError `f` throws (or what else happened). */
function errorCode(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (err) {
    return err instanceof RemoteProtocolError ? err.code : String(err);
  }
}

describe('regressions found by the property and differential tests', () => {
  it('empty lines before a start line that end a received chunk do not corrupt the buffer', () => {
    // Regression: skipping leading CRLFs that emptied the receive buffer kept scanning the old
    // bytes, consumed past the end, and the next receiveData threw "RangeError: offset is out of bounds".
    for (const parts of [['\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'], ['\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'], ['\r\n', '\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n']]) {
      const events = normalise(feed(new Connection('server'), parts.map(latin1)));
      expect(events.map((e) => e.type)).toEqual(['request', 'end-of-message', 'connection-closed']);
    }
    const client = clientAwaiting(['GET']);
    expect(normalise(feed(client, ['\r\n', 'HTTP/1.1 204 No Content\r\n\r\n'].map(latin1))).map((e) => e.type)).toEqual(['response', 'end-of-message', 'connection-closed']);
  });

  it.each([
    ['Transfer-Encoding: \xa0chunked', 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['Transfer-Encoding: chunked\xa0', 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['Content-Length: \xa03', 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length: 3\xa0', 'H1_INVALID_CONTENT_LENGTH'],
  ])('framing values are trimmed of OWS only, never of obs-text 0xA0 (%s)', (field, code) => {
    // Regression (differential te-20, cl-32): String#trim strips U+00A0, so "\xa0chunked" was
    // read as chunked and "\xa03" as 3, where Node (and the grammar) see no valid value.
    const conn = new Connection('server');
    conn.receiveData(latin1(`POST / HTTP/1.1\r\nHost: a\r\n${field}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`));
    expect(errorCode(() => conn.nextEvent())).toBe(code);
  });

  it('chunked with a parameter is refused (RFC 9112 §7.1), received or sent', () => {
    // Regression (differential te-17): parameters were dropped and the body read as chunked.
    for (const [role, head] of [['server', 'POST / HTTP/1.1\r\nHost: a\r\n'], ['client', 'HTTP/1.1 200 OK\r\n']] as const) {
      const conn = role === 'server' ? new Connection('server') : clientAwaiting(['GET']);
      conn.receiveData(latin1(`${head}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n`));
      expect(errorCode(() => conn.nextEvent())).toBe('H1_TRANSFER_ENCODING_NOT_CHUNKED');
    }
    const client = new Connection('client');
    expect(() => client.send({ type: 'request', method: 'POST', target: '/', headers: { Host: 'a', 'Transfer-Encoding': 'chunked; x=1' } })).toThrow(LocalProtocolError);
    // A request is framed only by chunked alone: parameters on another coding are refused too
    // (tether decodes no other coding); plain chunked is accepted.
    const server = new Connection('server');
    server.receiveData(latin1('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;level=1, chunked\r\n\r\n0\r\n\r\n'));
    expect(errorCode(() => server.nextEvent())).toBe('H1_TRANSFER_ENCODING_NOT_CHUNKED');
    const plain = new Connection('server');
    plain.receiveData(latin1('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'));
    expect(normalise(drain(plain)).map((e) => e.type)).toEqual(['request', 'end-of-message']);
  });
});

/** About 0.1 ms a case on an idle core. */
const ANY_INPUT_RUNS = 10000;

describe('property (d): any input parses or raises RemoteProtocolError', () => {
  it('server and client roles, any cut, with or without EOF', () => {
    fc.assert(
      fc.property(anyInputArb, cutPointsArb, fc.boolean(), fc.constantFrom('GET', 'HEAD', 'CONNECT', 'POST'), (input, points, eof, method) => {
        const parts = cut(input, points);
        const budget = input.length * 4 + 100;
        const server = new Connection('server');
        const client = new Connection('client');
        client.send({ type: 'request', method, target: method === 'CONNECT' ? 'a:443' : '/', headers: { Host: 'a', ...(method === 'GET' ? { Connection: 'upgrade', Upgrade: 'x' } : {}) } });
        client.send({ type: 'end-of-message' });
        for (const conn of [server, client]) {
          const err = runToEnd(conn, parts, eof, budget);
          if (err === undefined) continue;
          expect(err).toBeInstanceOf(RemoteProtocolError);
          // The receiving side is dead: the same error again, never a different one.
          expect(() => conn.nextEvent()).toThrow(err as Error);
        }
      }),
      { numRuns: ANY_INPUT_RUNS },
    );
  }, timeoutFor(ANY_INPUT_RUNS, 0.1));

  it('Fields built from parsed heads answer lookups for every received name', () => {
    fc.assert(
      fc.property(fieldLinesArb(8), (fields) => {
        const conn = new Connection('server');
        conn.receiveData(latin1(`GET / HTTP/1.1\r\nHost: a\r\n${writeFields(fields)}\r\n`));
        const head = conn.nextEvent();
        if (head === NEED_DATA || head === PAUSED || head.type !== 'request') throw new Error('expected a request');
        const headers: Fields = head.headers;
        for (const f of fields) expect(headers.getAll(f.name)).toContain(f.value);
      }),
      { numRuns: 100 },
    );
  });
});
