/**
 * Theory of operation: the benchmark of @tether/protocol that `pnpm bench` runs. It puts the
 * same work through tether and through what node:http uses, in one process, and prints the
 * ratio tether/node per workload.
 *
 * Workloads (100,000 messages each; 10,000 with `--quick`):
 * - `requests`: parse pipelined browser-like GETs (6 fields each, a mix of targets) fed in
 *   16 KiB slices of one pre-built stream. tether: one server-role `Connection`, `receiveData`
 *   then `nextEvent()` until NEED_DATA. node: the llhttp binding node:http uses
 *   (`_http_common`'s `HTTPParser`), wired like lib/_http_server.js.
 * - `responses`: parse small responses (6 fields, small Content-Length bodies, every fifth one
 *   chunked, every tenth a bodiless 304). tether: client-role Connections, each of which has
 *   sent ({@link Connection.send}) its {@link PARSE_DEPTH} GETs during the untimed setup; only
 *   parsing is timed.
 * - `write-responses`: serialize those responses. tether: `sendMessage` on server-role
 *   Connections that received their {@link WRITE_DEPTH} requests during setup. node: the
 *   baseline below.
 * - `write-requests`: serialize the GETs. tether: `sendMessage` on fresh client-role
 *   Connections, {@link WRITE_DEPTH} requests each.
 *
 * Fairness rules:
 * - Both parsers see the same chunk objects and touch the same facts per message: method and
 *   target (requests) or status (responses), the number of field lines, and the body byte count.
 *   Node's callback receives the fields as a flat array; tether's `Fields` indexes lazily, so
 *   neither side builds a header map.
 * - The node parser side is the bare binding (no IncomingMessage, no streams): it is a lower
 *   bound of node:http's own cost, while tether's side is its whole public Connection path
 *   (state machine, framing and persistence decisions, Host validation included).
 * - Serialization baseline ("node"): what OutgoingMessage#_storeHeader / ClientRequest do for a
 *   flat header array: validate the method and path (ClientRequest), every name and value with
 *   node's own `_checkIsHttpToken` / `_checkInvalidHeaderChar`, lower-case the names that can be
 *   framing/connection fields (`matchHeader`), build the head with a template string, append
 *   `Content-Length` when neither Content-Length nor Transfer-Encoding is set, then turn it into
 *   bytes with `Buffer.from(head, 'latin1')` and join the body (chunk-framed when chunked) into
 *   one Buffer, as tether's `sendMessage` returns one array. It adds no Date/Keep-Alive fields:
 *   both sides emit byte-identical messages, checked before timing, so MB/s compare directly.
 *
 * Correctness: every run, warm-ups included, must count exactly the expected messages, field
 * lines, body bytes and method/target/status checksum (serializers: the expected byte count);
 * anything else exits with status 1.
 *
 * Why batches (several Connections) wherever exchanges stay in flight: a Connection keeps one
 * record per in-flight exchange and drops it with `Array#shift`, which V8 makes O(n) once the
 * array leaves the regular heap (~16k entries), so 100k responses awaited on one connection
 * would measure that instead of parsing. Parsing batches are deep enough to span ~30 input
 * chunks each ({@link PARSE_DEPTH}); writers see a plausible pipelining depth ({@link WRITE_DEPTH}),
 * since what a send costs may depend on how many exchanges are in flight. Request parsing needs
 * no batches: a server that has not answered only appends.
 */

import { failer, fmt, integerFlag, parseList, readFlags } from './cli.js';
import { createRequire } from 'node:module';
import { STATUS_CODES } from 'node:http';
import { arch, cpus, platform } from 'node:os';
import { performance } from 'node:perf_hooks';

import { Connection, NEED_DATA, PAUSED } from '@tether/protocol';
import { seededRandom } from '@tether/protocol/testing';

// ---------------------------------------------------------------------------------------------
// Node's parser binding (lib/_http_common.js), typed for what we use.

interface NodeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  close(): void;
  [slot: number]: unknown;
}

interface NodeHttpParserClass {
  new (): NodeHttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}

interface NodeHttpCommon {
  readonly HTTPParser: NodeHttpParserClass;
  /** llhttp's method table: headers-complete gives an index into it. */
  readonly methods: readonly string[];
  readonly _checkIsHttpToken: (value: string) => boolean;
  readonly _checkInvalidHeaderChar: (value: string) => boolean;
}

// `_http_common` is what node:http itself requires; unlike process.binding() it is not deprecated.
const nodeCommon = createRequire(import.meta.url)('_http_common') as NodeHttpCommon;
const { HTTPParser, methods: NODE_METHODS } = nodeCommon;
const checkIsHttpToken = nodeCommon._checkIsHttpToken;
const checkInvalidHeaderChar = nodeCommon._checkInvalidHeaderChar;

// ---------------------------------------------------------------------------------------------
// Parameters.

/** Messages per workload: the issue's figure. */
const FULL_MESSAGES = 100_000;
/** `--quick`: a tenth, for a smoke run. */
const QUICK_MESSAGES = 10_000;
/** One socket read: libuv reads up to 64 KiB, but 16 KiB (a TLS record) is the common size. */
const CHUNK_SIZE = 16 * 1024;
/** Responses awaited per client-role Connection when parsing: a batch spans ~30 input chunks. */
const PARSE_DEPTH = 1000;
/** Exchanges in flight per Connection when writing: a plausible pipelining depth (HTTP clients that pipeline typically allow ≤ 10). */
const WRITE_DEPTH = 10;
const DEFAULT_RUNS = 5;
const DEFAULT_WARMUP = 2;
/** The target stated by the issue: tether's parser ≥ 1.0× node's on small pipelined requests. */
const TARGET_RATIO = 1.0;
const TARGET_WORKLOAD: WorkloadId = 'requests';

const WORKLOAD_IDS = ['requests', 'responses', 'write-responses', 'write-requests'] as const;
type WorkloadId = (typeof WORKLOAD_IDS)[number];
const IMPLS = ['tether', 'node'] as const;
type Impl = (typeof IMPLS)[number];

const USAGE = `usage: node dist/protocol.js [options]

  --quick            ${QUICK_MESSAGES.toLocaleString('en-US')} messages per workload instead of ${FULL_MESSAGES.toLocaleString('en-US')}
  --json             print one JSON document instead of the table
  --only LIST        workloads to run, comma-separated: ${WORKLOAD_IDS.join(', ')}
                     (also: parse = requests,responses; write = write-responses,write-requests)
  --impl LIST        implementations to run: tether, node (default both; ratios need both)
  --runs N           measured runs per workload and implementation (default ${DEFAULT_RUNS})
  --warmup N         warm-up runs before measuring (default ${DEFAULT_WARMUP})
  --help             this text

Run with --expose-gc (as \`pnpm bench\` does) to collect garbage before every timed run.`;

interface Options {
  readonly messages: number;
  readonly json: boolean;
  readonly workloads: readonly WorkloadId[];
  readonly impls: readonly Impl[];
  readonly runs: number;
  readonly warmup: number;
}

const fail: (message: string) => never = failer('');

function parseOptions(argv: readonly string[]): Options {
  const v = readFlags(argv, USAGE, fail, {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    impl: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
  });
  return {
    messages: v.quick === true ? QUICK_MESSAGES : FULL_MESSAGES,
    json: v.json === true,
    workloads: v.only === undefined
      ? WORKLOAD_IDS
      : parseList(fail, v.only, WORKLOAD_IDS, 'only', { parse: ['requests', 'responses'], write: ['write-responses', 'write-requests'] }),
    impls: v.impl === undefined ? IMPLS : parseList(fail, v.impl, IMPLS, 'impl'),
    runs: integerFlag(fail, v.runs, DEFAULT_RUNS, 'runs'),
    warmup: integerFlag(fail, v.warmup, DEFAULT_WARMUP, 'warmup', 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Fixtures: deterministic, built once, shared by both implementations.

const ACCEPT_HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';
const ACCEPT_IMAGE = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

/** What a page load asks for: target, Accept, and the Content-Type its response carries. */
const RESOURCES: readonly { readonly target: string; readonly accept: string; readonly type: string }[] = [
  { target: '/', accept: ACCEPT_HTML, type: 'text/html; charset=utf-8' },
  { target: '/index.html', accept: ACCEPT_HTML, type: 'text/html; charset=utf-8' },
  { target: '/static/js/app.7d3f9c2b.js', accept: '*/*', type: 'application/javascript' },
  { target: '/static/js/vendor.41ac88e0.js', accept: '*/*', type: 'application/javascript' },
  { target: '/static/css/main.c0ffee12.css', accept: 'text/css,*/*;q=0.1', type: 'text/css' },
  { target: '/images/hero-1280x720.webp', accept: ACCEPT_IMAGE, type: 'image/webp' },
  { target: '/images/logo.svg', accept: ACCEPT_IMAGE, type: 'image/svg+xml' },
  { target: '/favicon.ico', accept: ACCEPT_IMAGE, type: 'image/x-icon' },
  { target: '/fonts/inter-var.woff2', accept: '*/*', type: 'font/woff2' },
  { target: '/api/v1/users/42?fields=name,email,avatar', accept: 'application/json', type: 'application/json' },
  { target: '/search?q=http%2F1.1+pipelining&page=2', accept: ACCEPT_HTML, type: 'text/html; charset=utf-8' },
];

const USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
];

const DATE = 'Tue, 02 Dec 2025 10:00:00 GMT';
/** Response bodies are views into this pool (printable ASCII, so latin1 and UTF-8 agree). */
const BODY_POOL_TEXT = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(64);
const BODY_POOL = Buffer.from(BODY_POOL_TEXT, 'latin1');
const MAX_BODY = 1500;

interface RequestSpec {
  readonly method: string;
  readonly target: string;
  /** Flat `[name, value, …]`, the shape both node:http and tether accept without copying. */
  readonly headers: readonly string[];
}

interface ResponseSpec {
  readonly status: number;
  /** Flat `[name, value, …]`; Transfer-Encoding included when chunked, Content-Length never (the writers add it). */
  readonly headers: readonly string[];
  readonly chunked: boolean;
  /** `undefined` for a bodiless (304) response. */
  readonly body: Buffer | undefined;
}

/** What a parser (or writer) run must report; compared field by field with the expected tally. */
interface Tally {
  messages: number;
  /** Field lines seen (parsers) — 0 for writers. */
  fields: number;
  /** Body bytes (parsers) or output bytes (writers). */
  bytes: number;
  /** Parsers: Σ method.length + target.length (requests) or Σ status (responses). */
  check: number;
}

interface Fixtures {
  readonly requests: readonly RequestSpec[];
  readonly responses: readonly ResponseSpec[];
  /** Every request serialized, back to back: the pipelined stream a server reads. */
  readonly requestStream: Buffer;
  /** Every response serialized, back to back: what the client reads. */
  readonly responseStream: Buffer;
  /** Byte offset in the stream where each message ends. */
  readonly requestEnds: readonly number[];
  readonly responseEnds: readonly number[];
  readonly expectRequests: Tally;
  readonly expectResponses: Tally;
}

/** Serialize a head the plain way, independently of both writers under test (the reference bytes). */
function referenceHead(startLine: string, headers: readonly string[], extra: string): string {
  let s = startLine;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}${extra}\r\n`;
}

function buildFixtures(count: number): Fixtures {
  const random = seededRandom(0x7e7e5);
  const requests: RequestSpec[] = [];
  const responses: ResponseSpec[] = [];
  const requestText: string[] = [];
  const responseText: string[] = [];
  const requestEnds: number[] = [];
  const responseEnds: number[] = [];
  let requestBytes = 0;
  let responseBytes = 0;
  const expectRequests: Tally = { messages: 0, fields: 0, bytes: 0, check: 0 };
  const expectResponses: Tally = { messages: 0, fields: 0, bytes: 0, check: 0 };

  for (let i = 0; i < count; i++) {
    const resource = RESOURCES[Math.floor(random() * RESOURCES.length)]!;
    const ua = USER_AGENTS[i % USER_AGENTS.length]!;
    const request: RequestSpec = {
      method: 'GET',
      target: resource.target,
      headers: [
        'Host', 'www.example.com',
        'User-Agent', ua,
        'Accept', resource.accept,
        'Accept-Language', 'en-US,en;q=0.9',
        'Accept-Encoding', 'gzip, deflate, br, zstd',
        'Connection', 'keep-alive',
      ],
    };
    requests.push(request);
    const req = referenceHead(`${request.method} ${request.target} HTTP/1.1\r\n`, request.headers, '');
    requestText.push(req);
    requestBytes += req.length;
    expectRequests.messages++;
    expectRequests.fields += request.headers.length / 2;
    expectRequests.check += request.method.length + request.target.length;

    let response: ResponseSpec;
    let text: string;
    if (i % 10 === 9) {
      // A revalidated cache entry: 304, no body, no framing fields (RFC 9110 §15.4.5).
      const headers = ['Date', DATE, 'Server', 'tether-bench', 'ETag', `"${(i * 2654435761 >>> 0).toString(16)}"`, 'Cache-Control', 'max-age=3600', 'Connection', 'keep-alive'];
      response = { status: 304, headers, chunked: false, body: undefined };
      text = referenceHead('HTTP/1.1 304 Not Modified\r\n', headers, '');
    } else {
      const status = i % 17 === 0 ? 404 : 200;
      const length = 1 + Math.floor(random() * random() * MAX_BODY);
      const offset = Math.floor(random() * (BODY_POOL.length - length));
      const body = BODY_POOL.subarray(offset, offset + length);
      const bodyText = BODY_POOL_TEXT.slice(offset, offset + length);
      const chunked = i % 5 === 2;
      const headers = ['Date', DATE, 'Server', 'tether-bench', 'Content-Type', resource.type, 'Cache-Control', status === 200 ? 'public, max-age=3600' : 'no-store', 'Connection', 'keep-alive'];
      if (chunked) headers.push('Transfer-Encoding', 'chunked');
      response = { status, headers, chunked, body };
      const startLine = `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Not Found'}\r\n`;
      text = chunked
        ? `${referenceHead(startLine, headers, '')}${length.toString(16)}\r\n${bodyText}\r\n0\r\n\r\n`
        : `${referenceHead(startLine, headers, `Content-Length: ${length}\r\n`)}${bodyText}`;
      expectResponses.bytes += length;
    }
    responses.push(response);
    responseText.push(text);
    responseBytes += text.length;
    expectResponses.messages++;
    expectResponses.fields += response.headers.length / 2 + (response.body === undefined || response.chunked ? 0 : 1);
    expectResponses.check += response.status;

    requestEnds.push(requestBytes);
    responseEnds.push(responseBytes);
  }
  const requestStream = Buffer.from(requestText.join(''), 'latin1');
  const responseStream = Buffer.from(responseText.join(''), 'latin1');
  if (requestStream.length !== requestBytes || responseStream.length !== responseBytes) fail('fixture streams are not latin1');
  return { requests, responses, requestStream, responseStream, requestEnds, responseEnds, expectRequests, expectResponses };
}

/** Socket-read-sized slices of `stream[from, to)`: views, not copies. */
function sliceInto(out: Buffer[], stream: Buffer, from: number, to: number): void {
  for (let at = from; at < to; at += CHUNK_SIZE) out.push(stream.subarray(at, Math.min(to, at + CHUNK_SIZE)));
}

/** `count` consecutive messages from `first`, for one Connection, and their input chunks. */
interface Batch {
  readonly first: number;
  readonly count: number;
  /** Chunks never straddle two batches: the batches go to different connections. */
  readonly chunks: readonly Buffer[];
}

function batchesOf(stream: Buffer, ends: readonly number[], depth: number): Batch[] {
  const batches: Batch[] = [];
  for (let first = 0; first < ends.length; first += depth) {
    const count = Math.min(depth, ends.length - first);
    const chunks: Buffer[] = [];
    sliceInto(chunks, stream, first === 0 ? 0 : ends[first - 1]!, ends[first + count - 1]!);
    batches.push({ first, count, chunks });
  }
  return batches;
}

// ---------------------------------------------------------------------------------------------
// tether.

function newTally(): Tally {
  return { messages: 0, fields: 0, bytes: 0, check: 0 };
}

// Two drains rather than one, so that request and response event shapes never meet in the
// same call site: each workload's loop stays as monomorphic as a real server's or client's.

/** Server role: drain request events into `tally`, up to NEED_DATA. */
function drainRequests(conn: Connection, tally: Tally): void {
  for (;;) {
    const event = conn.nextEvent();
    if (event === NEED_DATA || event === PAUSED) return;
    switch (event.type) {
      case 'request':
        tally.check += event.method.length + event.target.length;
        tally.fields += event.headers.size;
        break;
      case 'data':
        tally.bytes += event.data.length;
        break;
      case 'end-of-message':
        tally.messages++;
        break;
      default:
        throw new Error(`unexpected ${event.type} event`);
    }
  }
}

/** Client role: drain response events into `tally`, up to NEED_DATA (PAUSED after the batch's last response). */
function drainResponses(conn: Connection, tally: Tally): void {
  for (;;) {
    const event = conn.nextEvent();
    if (event === NEED_DATA || event === PAUSED) return;
    switch (event.type) {
      case 'response':
        tally.check += event.status;
        tally.fields += event.headers.size;
        break;
      case 'data':
        tally.bytes += event.data.length;
        break;
      case 'end-of-message':
        tally.messages++;
        break;
      default:
        throw new Error(`unexpected ${event.type} event`);
    }
  }
}

function parseRequestsTether(batches: readonly Batch[]): () => Tally {
  // A fresh server-role Connection per batch and per run: a Connection keeps one record per
  // request received and not yet answered, and this workload answers none, so one Connection
  // for everything would measure a queue of 100,000 unanswered requests (a real server bounds
  // it with its pipelining depth and answers as it goes).
  return () => {
    const tally = newTally();
    for (const batch of batches) {
      const conn = new Connection('server');
      for (const chunk of batch.chunks) {
        conn.receiveData(chunk);
        drainRequests(conn, tally);
      }
    }
    return tally;
  };
}

function parseResponsesTether(fx: Fixtures, batches: readonly Batch[]): () => Tally {
  // Setup: per batch, a client-role Connection that has sent the batch's GETs (head, then end).
  const conns = batches.map((batch) => {
    const conn = new Connection('client');
    for (let i = batch.first; i < batch.first + batch.count; i++) {
      const r = fx.requests[i]!;
      conn.send({ type: 'request', method: r.method, target: r.target, headers: r.headers });
      conn.send({ type: 'end-of-message' });
    }
    return conn;
  });
  return () => {
    const tally = newTally();
    for (let b = 0; b < batches.length; b++) {
      const conn = conns[b]!;
      for (const chunk of batches[b]!.chunks) {
        conn.receiveData(chunk);
        drainResponses(conn, tally);
      }
    }
    return tally;
  };
}

function writeResponsesTether(fx: Fixtures, requestBatches: readonly Batch[], sink?: (bytes: Uint8Array) => void): () => Tally {
  // Setup: per batch, a server-role Connection that has received the batch's requests.
  const conns = requestBatches.map((batch) => {
    const conn = new Connection('server');
    const seen = newTally();
    for (const chunk of batch.chunks) {
      conn.receiveData(chunk);
      drainRequests(conn, seen);
    }
    if (seen.messages !== batch.count) fail(`write-responses setup: ${seen.messages} of ${batch.count} requests parsed`);
    return conn;
  });
  const responses = fx.responses;
  return () => {
    const tally = newTally();
    for (let b = 0; b < conns.length; b++) {
      const conn = conns[b]!;
      const batch = requestBatches[b]!;
      for (let i = batch.first; i < batch.first + batch.count; i++) {
        const r = responses[i]!;
        const bytes = conn.sendMessage({ type: 'response', status: r.status, headers: r.headers }, r.body);
        tally.bytes += bytes.length;
        tally.messages++;
        sink?.(bytes);
      }
    }
    return tally;
  };
}

function writeRequestsTether(fx: Fixtures, depth: number, sink?: (bytes: Uint8Array) => void): () => Tally {
  const requests = fx.requests;
  const conns: Connection[] = [];
  for (let first = 0; first < requests.length; first += depth) conns.push(new Connection('client'));
  return () => {
    const tally = newTally();
    for (let b = 0; b < conns.length; b++) {
      const conn = conns[b]!;
      const stop = Math.min(requests.length, (b + 1) * depth);
      for (let i = b * depth; i < stop; i++) {
        const r = requests[i]!;
        const bytes = conn.sendMessage({ type: 'request', method: r.method, target: r.target, headers: r.headers });
        tally.bytes += bytes.length;
        tally.messages++;
        sink?.(bytes);
      }
    }
    return tally;
  };
}

// ---------------------------------------------------------------------------------------------
// node: llhttp through node's binding, and node:http's way of writing a head.

type HeadersCompleteCallback = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number | undefined,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;

/** A parser wired like lib/_http_common.js + lib/_http_server.js (or _http_client.js) do it. */
function nodeParser(type: number, tally: Tally): NodeHttpParser {
  const parser = new HTTPParser();
  // node:http passes an async resource and its maxHeaderSize (0 = the --max-http-header-size default).
  parser.initialize(type, {}, 0, HTTPParser.kLenientNone);
  // Field lines arrive here only when a head has more than 32 of them (node flushes in batches).
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
    pendingHeaders = pendingHeaders.concat(headers);
    pendingUrl += url;
  };
  const onHeadersComplete: HeadersCompleteCallback = (_major, _minor, headers, method, url, statusCode) => {
    let fields = headers;
    if (fields === undefined) {
      fields = pendingHeaders;
      pendingHeaders = [];
    }
    if (type === HTTPParser.REQUEST) {
      let target = url;
      if (target === undefined || target === '') {
        target = pendingUrl;
        pendingUrl = '';
      }
      tally.check += NODE_METHODS[method ?? -1]!.length + target.length;
    } else {
      tally.check += statusCode ?? 0;
    }
    tally.fields += fields.length >> 1;
    // 0: parse the body as framed (1 would skip it, as node:http does for HEAD; 2 is an upgrade).
    return 0;
  };
  parser[HTTPParser.kOnHeadersComplete] = onHeadersComplete;
  parser[HTTPParser.kOnBody] = (body: Buffer): void => {
    tally.bytes += body.length;
  };
  parser[HTTPParser.kOnMessageComplete] = (): void => {
    tally.messages++;
  };
  return parser;
}

function executeAll(parser: NodeHttpParser, chunks: readonly Buffer[]): void {
  for (const chunk of chunks) {
    const r = parser.execute(chunk);
    if (typeof r !== 'number') throw r;
  }
}

function parseNode(type: number, chunks: readonly Buffer[]): () => Tally {
  const tally = newTally();
  const parser = nodeParser(type, tally);
  return () => {
    executeAll(parser, chunks);
    parser.close();
    return tally;
  };
}

// lib/_http_client.js: a path is refused if it holds a character outside U+0021–U+00FF.
const INVALID_PATH = /[^\u0021-\u00ff]/;

/** The framing/connection facts node's `matchHeader` extracts while storing a head. */
interface HeadState {
  contentLength: boolean;
  transferEncoding: boolean;
  connection: boolean;
}

/**
 * lib/_http_outgoing.js `processHeader` + `matchHeader`, for a flat header array: validate,
 * append, and lower-case the names whose length can be a framing or connection field.
 */
function storeFields(head: string, headers: readonly string[], state: HeadState): string {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!checkIsHttpToken(name)) throw new TypeError(`invalid header name ${name}`);
    if (checkInvalidHeaderChar(value)) throw new TypeError(`invalid character in header ${name}`);
    head += `${name}: ${value}\r\n`;
    if (name.length >= 4 && name.length <= 17) {
      switch (name.toLowerCase()) {
        case 'content-length':
          state.contentLength = true;
          break;
        case 'transfer-encoding':
          state.transferEncoding = true;
          break;
        case 'connection':
          state.connection = true;
          break;
      }
    }
  }
  return head;
}

const CHUNK_END_AND_LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n', 'latin1');

/** A response the way node:http's `res.writeHead(status, flatHeaders); res.end(body)` builds it. */
function nodeResponse(status: number, headers: readonly string[], body: Buffer | undefined): Buffer {
  const state: HeadState = { contentLength: false, transferEncoding: false, connection: false };
  let head = storeFields(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`, headers, state);
  const bodyless = status === 204 || status === 304;
  const length = body?.length ?? 0;
  if (!bodyless && !state.contentLength && !state.transferEncoding) head += `Content-Length: ${length}\r\n`;
  head += '\r\n';
  if (bodyless || body === undefined || length === 0) return Buffer.from(head, 'latin1');
  if (state.transferEncoding) {
    const prefix = Buffer.from(`${head}${length.toString(16)}\r\n`, 'latin1');
    return Buffer.concat([prefix, body, CHUNK_END_AND_LAST_CHUNK], prefix.length + length + CHUNK_END_AND_LAST_CHUNK.length);
  }
  const headBytes = Buffer.from(head, 'latin1');
  return Buffer.concat([headBytes, body], headBytes.length + length);
}

/** A request head the way node:http's ClientRequest builds it for a bodiless GET. */
function nodeRequest(method: string, path: string, headers: readonly string[]): Buffer {
  if (!checkIsHttpToken(method)) throw new TypeError(`invalid method ${method}`);
  if (INVALID_PATH.test(path)) throw new TypeError(`invalid path ${path}`);
  const state: HeadState = { contentLength: false, transferEncoding: false, connection: false };
  const head = storeFields(`${method} ${path} HTTP/1.1\r\n`, headers, state);
  return Buffer.from(`${head}\r\n`, 'latin1');
}

function writeResponsesNode(fx: Fixtures, sink?: (bytes: Uint8Array) => void): () => Tally {
  const responses = fx.responses;
  return () => {
    const tally = newTally();
    for (const r of responses) {
      const bytes = nodeResponse(r.status, r.headers, r.body);
      tally.bytes += bytes.length;
      tally.messages++;
      sink?.(bytes);
    }
    return tally;
  };
}

function writeRequestsNode(fx: Fixtures, sink?: (bytes: Uint8Array) => void): () => Tally {
  const requests = fx.requests;
  return () => {
    const tally = newTally();
    for (const r of requests) {
      const bytes = nodeRequest(r.method, r.target, r.headers);
      tally.bytes += bytes.length;
      tally.messages++;
      sink?.(bytes);
    }
    return tally;
  };
}

// ---------------------------------------------------------------------------------------------
// Workloads and measurement.

interface Workload {
  readonly id: WorkloadId;
  readonly title: string;
  /** Bytes a run reads (parsers) or writes (writers). */
  readonly bytes: number;
  readonly messages: number;
  readonly expect: Tally;
  /** Untimed setup; returns the timed run. */
  readonly prepare: Readonly<Record<Impl, () => () => Tally>>;
  /** Writers: produce every message once into `sink`, to compare with the reference stream. */
  readonly produce?: Readonly<Record<Impl, (sink: (bytes: Uint8Array) => void) => void>>;
  readonly reference?: Buffer;
}

function workloads(fx: Fixtures): Workload[] {
  const requestParseBatches = batchesOf(fx.requestStream, fx.requestEnds, PARSE_DEPTH);
  // node's parser needs no batches; it gets the very same chunk objects, in the same order.
  const requestChunks = requestParseBatches.flatMap((batch) => batch.chunks);
  const responseBatches = batchesOf(fx.responseStream, fx.responseEnds, PARSE_DEPTH);
  // node's parser needs no batches; it gets the very same chunk objects, in the same order.
  const responseChunks = responseBatches.flatMap((batch) => batch.chunks);
  const requestBatches = batchesOf(fx.requestStream, fx.requestEnds, WRITE_DEPTH);
  const n = fx.requests.length;
  const writerTally = (stream: Buffer): Tally => ({ messages: n, fields: 0, bytes: stream.length, check: 0 });
  return [
    {
      id: 'requests',
      title: 'parse requests (pipelined)',
      bytes: fx.requestStream.length,
      messages: n,
      expect: fx.expectRequests,
      prepare: {
        tether: () => parseRequestsTether(requestParseBatches),
        node: () => parseNode(HTTPParser.REQUEST, requestChunks),
      },
    },
    {
      id: 'responses',
      title: 'parse responses',
      bytes: fx.responseStream.length,
      messages: n,
      expect: fx.expectResponses,
      prepare: {
        tether: () => parseResponsesTether(fx, responseBatches),
        node: () => parseNode(HTTPParser.RESPONSE, responseChunks),
      },
    },
    {
      id: 'write-responses',
      title: 'write responses',
      bytes: fx.responseStream.length,
      messages: n,
      expect: writerTally(fx.responseStream),
      prepare: {
        tether: () => writeResponsesTether(fx, requestBatches),
        node: () => writeResponsesNode(fx),
      },
      produce: {
        tether: (sink) => void writeResponsesTether(fx, requestBatches, sink)(),
        node: (sink) => void writeResponsesNode(fx, sink)(),
      },
      reference: fx.responseStream,
    },
    {
      id: 'write-requests',
      title: 'write requests',
      bytes: fx.requestStream.length,
      messages: n,
      expect: writerTally(fx.requestStream),
      prepare: {
        tether: () => writeRequestsTether(fx, WRITE_DEPTH),
        node: () => writeRequestsNode(fx),
      },
      produce: {
        tether: (sink) => void writeRequestsTether(fx, WRITE_DEPTH, sink)(),
        node: (sink) => void writeRequestsNode(fx, sink)(),
      },
      reference: fx.requestStream,
    },
  ];
}

const gc = (globalThis as { gc?: (options?: { type: 'major' | 'minor'; execution: 'sync' }) => void }).gc;

function sameTally(a: Tally, b: Tally): boolean {
  return a.messages === b.messages && a.fields === b.fields && a.bytes === b.bytes && a.check === b.check;
}

function describeTally(t: Tally): string {
  return `messages=${t.messages} fields=${t.fields} bytes=${t.bytes} check=${t.check}`;
}

/** One timed run, its result checked against the expected tally. */
function timeOnce(w: Workload, impl: Impl): number {
  // A full gc between runs, so neither side pays for the other's garbage; then one untimed pass,
  // because a full collection also drops type feedback that the JIT rebuilds on the next pass
  // (tens of ms for the JavaScript side, nothing for the C++ parser), and a steady-state
  // server never pays that per batch.
  gc?.();
  w.prepare[impl]()();
  const run = w.prepare[impl]();
  // The pass's garbage goes with a young-generation collection, which keeps type feedback.
  gc?.({ type: 'minor', execution: 'sync' });
  const t0 = performance.now();
  const tally = run();
  const ms = performance.now() - t0;
  if (!sameTally(tally, w.expect)) {
    fail(`${impl} ${w.id}: got ${describeTally(tally)}, expected ${describeTally(w.expect)}`);
  }
  return ms;
}

/** Writers: both must emit exactly the reference stream. */
function checkOutput(w: Workload, impl: Impl): void {
  if (w.produce === undefined || w.reference === undefined) return;
  const parts: Uint8Array[] = [];
  w.produce[impl]((bytes) => parts.push(bytes));
  const out = Buffer.concat(parts);
  if (out.equals(w.reference)) return;
  let at = 0;
  while (at < out.length && out[at] === w.reference[at]) at++;
  const show = (b: Buffer): string => JSON.stringify(b.toString('latin1', Math.max(0, at - 40), at + 40));
  fail(`${impl} ${w.id}: output differs from the reference at byte ${at}:\n  got      ${show(out)}\n  expected ${show(w.reference)}`);
}

interface ImplResult {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly messagesPerSec: number;
  readonly mbPerSec: number;
  readonly runsMs: readonly number[];
}

interface WorkloadResult {
  readonly id: WorkloadId;
  readonly title: string;
  readonly messages: number;
  readonly bytes: number;
  readonly results: Partial<Record<Impl, ImplResult>>;
  /** tether ÷ node throughput (> 1: tether is faster); `null` unless both ran. */
  readonly ratio: number | null;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function measure(w: Workload, opts: Options, progress: (line: string) => void): WorkloadResult {
  for (const impl of opts.impls) checkOutput(w, impl);
  for (let i = 0; i < opts.warmup; i++) for (const impl of opts.impls) timeOnce(w, impl);
  const times: Record<Impl, number[]> = { tether: [], node: [] };
  for (let i = 0; i < opts.runs; i++) {
    // Alternate which side goes first, so neither always runs right after the other's garbage.
    const order = i % 2 === 0 ? opts.impls : [...opts.impls].reverse();
    for (const impl of order) times[impl].push(timeOnce(w, impl));
  }
  const results: Partial<Record<Impl, ImplResult>> = {};
  for (const impl of opts.impls) {
    const runs = times[impl];
    const med = median(runs);
    results[impl] = {
      medianMs: med,
      minMs: Math.min(...runs),
      maxMs: Math.max(...runs),
      messagesPerSec: (w.messages / med) * 1000,
      mbPerSec: w.bytes / 1e6 / (med / 1000),
      runsMs: runs,
    };
    progress(`  ${w.id} ${impl}: median ${med.toFixed(1)} ms (${runs.map((t) => t.toFixed(1)).join(', ')})`);
  }
  const t = results.tether;
  const n = results.node;
  return {
    id: w.id,
    title: w.title,
    messages: w.messages,
    bytes: w.bytes,
    results,
    ratio: t !== undefined && n !== undefined ? n.medianMs / t.medianMs : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Output.


function pad(s: string, width: number, right = false): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

function renderTable(results: readonly WorkloadResult[], opts: Options): string {
  const cols = [
    { title: 'workload', width: 27, right: false },
    { title: 'impl', width: 6, right: false },
    { title: 'MB/run', width: 7, right: true },
    { title: 'median ms', width: 10, right: true },
    { title: 'min–max ms', width: 16, right: true },
    { title: 'msg/s', width: 11, right: true },
    { title: 'MB/s', width: 8, right: true },
    { title: 'tether/node', width: 11, right: true },
  ];
  const line = (cells: readonly string[]): string => cells.map((c, i) => pad(c, cols[i]!.width, cols[i]!.right)).join('  ').trimEnd();
  const out = [line(cols.map((c) => c.title)), line(cols.map((c) => '-'.repeat(c.width)))];
  for (const w of results) {
    opts.impls.forEach((impl, i) => {
      const r = w.results[impl]!;
      out.push(line([
        i === 0 ? w.title : '',
        impl,
        i === 0 ? fmt(w.bytes / 1e6, 1) : '',
        fmt(r.medianMs, 1),
        `${fmt(r.minMs, 1)}–${fmt(r.maxMs, 1)}`,
        fmt(r.messagesPerSec),
        fmt(r.mbPerSec, 1),
        i === 0 && w.ratio !== null ? `${w.ratio.toFixed(2)}×` : '',
      ]));
    });
  }
  return out.join('\n');
}

function environment(): Record<string, string | number | boolean> {
  return {
    node: process.version,
    v8: process.versions.v8,
    llhttp: process.versions.llhttp ?? 'unknown',
    platform: `${platform()} ${arch()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    gcBetweenRuns: gc !== undefined,
  };
}

function main(): void {
  const opts = parseOptions(process.argv.slice(2));
  const progress = (s: string): void => void process.stderr.write(`${s}\n`);
  const started = performance.now();
  const fx = buildFixtures(opts.messages);
  const all = workloads(fx).filter((w) => opts.workloads.includes(w.id));
  if (!opts.json) progress(`@tether/bench: ${fmt(opts.messages)} messages per workload; ${opts.warmup} warm-up + ${opts.runs} measured runs each…`);
  const results = all.map((w) => measure(w, opts, opts.json ? () => undefined : progress));
  const target = results.find((r) => r.id === TARGET_WORKLOAD);
  const targetRatio = target?.ratio ?? null;
  const env = environment();

  if (opts.json) {
    process.stdout.write(`${JSON.stringify({
      environment: env,
      parameters: { messages: opts.messages, chunkSize: CHUNK_SIZE, parseDepth: PARSE_DEPTH, writeDepth: WRITE_DEPTH, runs: opts.runs, warmup: opts.warmup, megabyte: 1e6 },
      workloads: results,
      target: { workload: TARGET_WORKLOAD, required: TARGET_RATIO, ratio: targetRatio, met: targetRatio === null ? null : targetRatio >= TARGET_RATIO },
      elapsedMs: Math.round(performance.now() - started),
    }, null, 2)}\n`);
    return;
  }
  const lines = [
    '',
    `@tether/protocol vs node:http's llhttp — Node ${String(env.node)} (llhttp ${String(env.llhttp)}), ${String(env.platform)}, ${String(env.cpu)}`,
    `${fmt(opts.messages)} messages per workload, ${CHUNK_SIZE / 1024} KiB input chunks, median of ${opts.runs} runs after ${opts.warmup} warm-up${gc === undefined ? ' (run with --expose-gc to collect between runs)' : ', gc then one untimed pass before each run'}`,
    '',
    renderTable(results, opts),
    '',
    'tether/node = node median ÷ tether median: above 1.00× tether is faster. MB = 10^6 bytes of HTTP on the wire.',
    'node side: parsers = llhttp via _http_common HTTPParser with node:http\'s callbacks (no IncomingMessage);',
    '           writers = node:http\'s _storeHeader recipe: validate + template string + Buffer.from(latin1), body joined.',
    `tether side: the public Connection path; requests parsed ${fmt(PARSE_DEPTH)} per server connection, responses ${fmt(PARSE_DEPTH)} per client connection, messages written ${WRITE_DEPTH} in flight per connection.`,
    'Writers\' outputs were checked byte-identical to each other and to the parsed streams.',
  ];
  if (targetRatio !== null) {
    const met = targetRatio >= TARGET_RATIO;
    lines.push('', `target: tether parser ≥ ${TARGET_RATIO.toFixed(1)}× node on small pipelined requests — ${targetRatio.toFixed(2)}× — ${met ? 'MET' : 'NOT MET'}`);
  }
  lines.push(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
