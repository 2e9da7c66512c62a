/**
 * Theory of operation: a differential test of tether's parser against Node's own (llhttp, as
 * node:http drives it), on the corpus of differential-corpus.ts.
 *
 * Both parsers read each item in one piece and then see EOF; each run is summarised as the
 * messages it completed (start line, field lines, body, trailers) and how it ended:
 * `complete` (all input understood), `stopped` (the rest of the input is not HTTP any more: a
 * close was decided, or the protocol switched), or `rejected` (a parse error). Two runs agree
 * when the summaries are equal.
 *
 * Node's parser is driven the way lib/_http_server.js and lib/_http_client.js drive it: a
 * server with an 'upgrade' listener (returns 2 from kOnHeadersComplete for upgrades and
 * CONNECT), a client that skips the body of responses to HEAD, of 1xx and of 304, and treats any
 * response to CONNECT as a switch. Strict mode (no lenient flags), the default header limit.
 *
 * Every disagreement must be listed in `expectedDisagreements` (with a one-line reason) and in
 * DIFFERENTIAL.md (with the RFC section); an unlisted disagreement, or a listed item that now
 * agrees, fails the test.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';

import { Connection, NEED_DATA, PAUSED, RemoteProtocolError } from '../src/index.js';
import { DIFFERENTIAL_CORPUS } from './differential-corpus.js';
import type { CorpusItem } from './differential-corpus.js';

// ---------------------------------------------------------------------------------------------
// Node's parser (lib/_http_common.js exports the binding's HTTPParser)

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

interface NodeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | (Error & { code?: string; reason?: string });
  finish(): undefined | (Error & { code?: string; reason?: string });
  close(): void;
  [callback: number]: unknown;
}

interface NodeParserClass {
  new (): NodeParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
}

const common = createRequire(import.meta.url)('_http_common') as { HTTPParser: NodeParserClass; methods: readonly string[] };
const { HTTPParser } = common;

/** Node reports a request's method as an index into llhttp's method table: learn the table. */
const METHOD_BY_INDEX = new Map<number, string>();
for (const name of common.methods) {
  const p = new HTTPParser();
  const learn: HeadersCompleteCallback = (_major, _minor, _headers, method) => {
    if (method !== undefined) METHOD_BY_INDEX.set(method, name);
    return 0;
  };
  p[HTTPParser.kOnHeadersComplete] = learn;
  p.initialize(HTTPParser.REQUEST, {}, 0, 0);
  p.execute(Buffer.from(`${name} ${name === 'CONNECT' ? 'a:1' : '/'} HTTP/1.1\r\n\r\n`, 'latin1'));
  p.close();
}

// ---------------------------------------------------------------------------------------------
// Run summaries

interface Message {
  readonly method?: string;
  readonly url?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly version: string;
  readonly headers: readonly string[];
  readonly body: string;
  readonly trailers: readonly string[];
}

interface Run {
  readonly messages: readonly Message[];
  readonly end: 'complete' | 'stopped' | 'rejected';
  /** The error code (or why it stopped), for the report. */
  readonly detail: string;
}

/** The method tether's client sends for a corpus request name, and its extra fields. */
function requestFor(name: string): { method: string; target: string; headers: Record<string, string> } {
  if (name === 'UPGRADE') return { method: 'GET', target: '/', headers: { Host: 'example.com', Connection: 'upgrade', Upgrade: 'websocket' } };
  if (name === 'CONNECT') return { method: 'CONNECT', target: 'example.com:443', headers: { Host: 'example.com:443' } };
  return { method: name, target: '/', headers: { Host: 'example.com' } };
}

function runNode(item: CorpusItem): Run {
  const isRequest = item.kind === 'request';
  const parser = new HTTPParser();
  const messages: Message[] = [];
  const pending = [...(item.requests ?? ['GET'])].map((r) => (r === 'UPGRADE' ? 'GET' : r));
  let current: { -readonly [K in keyof Message]: Message[K] } | null = null;
  let headers: string[] = [];
  let url = '';
  let switched = false;
  /** Messages completed before a response that answered no request, if one came. */
  let unsolicitedAt: number | undefined;

  parser[HTTPParser.kOnMessageBegin] = () => {
    headers = [];
    url = '';
  };
  parser[HTTPParser.kOnHeaders] = (h: string[], u: string) => {
    headers.push(...h);
    url += u;
  };
  const onHeadersComplete: HeadersCompleteCallback = (major, minor, h, method, u, status, reason, upgrade) => {
    const fields = h ?? headers;
    headers = [];
    const version = `${major}.${minor}`;
    if (isRequest) {
      current = { method: METHOD_BY_INDEX.get(method ?? -1) ?? `#${method}`, url: u ?? url, version, headers: fields, body: '', trailers: [] };
      url = '';
      // lib/_http_server.js parserOnIncoming: upgrades (and CONNECT) go to the 'upgrade' listener.
      if (upgrade) switched = true;
      return upgrade ? 2 : 0;
    }
    current = { status: status ?? 0, reason: reason ?? '', version, headers: fields, body: '', trailers: [] };
    // lib/_http_client.js parserOnIncomingClient.
    if (upgrade) {
      switched = true;
      return 2;
    }
    const asked = pending[0];
    if (asked === undefined) {
      unsolicitedAt ??= messages.length; // Node destroys the socket: a response nobody asked for.
      return 1;
    }
    if (asked === 'CONNECT') {
      switched = true;
      return 2;
    }
    if ((status ?? 0) >= 100 && (status ?? 0) < 200) return 1;
    pending.shift();
    return asked === 'HEAD' || status === 304 ? 1 : 0;
  };
  parser[HTTPParser.kOnHeadersComplete] = onHeadersComplete;
  parser[HTTPParser.kOnBody] = (b: Buffer) => {
    if (current !== null) current.body += b.toString('latin1');
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current === null) return;
    current.trailers = headers;
    headers = [];
    messages.push(current);
    current = null;
  };
  parser[HTTPParser.kOnExecute] = () => undefined;
  parser.initialize(isRequest ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, 0, 0);
  try {
    const data = Buffer.from(item.input, 'latin1');
    const ret = data.length === 0 ? 0 : parser.execute(data);
    if (unsolicitedAt !== undefined) return { messages: messages.slice(0, unsolicitedAt), end: 'rejected', detail: 'response without a request' };
    if (ret instanceof Error) {
      // llhttp refuses bytes after a message that ended the connection ("Data after Connection: close").
      if (ret.code === 'HPE_CLOSED_CONNECTION') return { messages, end: 'stopped', detail: ret.code };
      return { messages, end: 'rejected', detail: `${ret.code ?? 'error'}: ${ret.reason ?? ret.message}` };
    }
    if (switched) return { messages, end: 'stopped', detail: 'upgrade' };
    const fin = parser.finish();
    if (fin instanceof Error) return { messages, end: 'rejected', detail: `${fin.code ?? 'error'}: ${fin.reason ?? fin.message}` };
    return { messages, end: 'complete', detail: '' };
  } finally {
    parser.close();
  }
}

function runTether(item: CorpusItem): Run {
  const isRequest = item.kind === 'request';
  const conn = new Connection(isRequest ? 'server' : 'client');
  if (!isRequest) {
    for (const name of item.requests ?? ['GET']) {
      const r = requestFor(name);
      conn.send({ type: 'request', method: r.method, target: r.target, headers: r.headers });
      conn.send({ type: 'end-of-message' });
    }
  }
  const messages: Message[] = [];
  let current: { -readonly [K in keyof Message]: Message[K] } | null = null;
  const data = new Uint8Array(item.input.length);
  for (let i = 0; i < data.length; i++) data[i] = item.input.charCodeAt(i);
  if (data.length > 0) conn.receiveData(data);
  let eof = false;
  try {
    for (;;) {
      const e = conn.nextEvent();
      if (e === NEED_DATA || e === PAUSED) {
        const state = conn.theirState;
        if (state === 'MIGHT_SWITCH_PROTOCOL' || state === 'SWITCHED_PROTOCOL') {
          // A 101 or a 2xx to CONNECT ends its message with its head.
          if (current !== null) messages.push(current);
          return { messages, end: 'stopped', detail: state };
        }
        if (e === PAUSED && conn.trailingData.data.length > 0) return { messages, end: 'stopped', detail: `${state}, input ignored` };
        if (eof) return { messages, end: 'complete', detail: state };
        conn.receiveEof();
        eof = true;
        continue;
      }
      switch (e.type) {
        case 'request':
          current = { method: e.method, url: e.target, version: e.version, headers: [...e.headers.raw], body: '', trailers: [] };
          break;
        case 'response':
          current = { status: e.status, reason: e.reason, version: e.version, headers: [...e.headers.raw], body: '', trailers: [] };
          break;
        case 'informational-response':
          messages.push({ status: e.status, reason: e.reason, version: e.version, headers: [...e.headers.raw], body: '', trailers: [] });
          break;
        case 'data':
          if (current !== null) current.body += Buffer.from(e.data).toString('latin1');
          break;
        case 'end-of-message':
          if (current !== null) {
            current.trailers = e.trailers === null ? [] : [...e.trailers.raw];
            messages.push(current);
          }
          current = null;
          break;
        case 'connection-closed':
          return { messages, end: 'complete', detail: '' };
      }
    }
  } catch (err) {
    if (err instanceof RemoteProtocolError) return { messages, end: 'rejected', detail: err.code };
    throw err;
  }
}

function summary(run: Run): unknown {
  return { end: run.end, messages: run.messages };
}

function agree(a: Run, b: Run): boolean {
  return JSON.stringify(summary(a)) === JSON.stringify(summary(b));
}

// ---------------------------------------------------------------------------------------------
// Known disagreements: corpus id → why tether's answer is the right one (details and RFC
// sections in DIFFERENTIAL.md).

const expectedDisagreements: Readonly<Record<string, string>> = {
  'rl-02': "request-line whitespace: the grammar is single SP and a recipient SHOULD NOT autocorrect (RFC 9112 §3)",
  'rl-03': "request-line whitespace: the grammar is single SP and a recipient SHOULD NOT autocorrect (RFC 9112 §3)",
  'rl-06': "not HTTP/1.x: HTTP/0.9 and 2.0 are not spoken in HTTP/1 syntax (RFC 9110 §2.5, 505/502)",
  'ver-04': "not HTTP/1.x: HTTP/0.9 and 2.0 are not spoken in HTTP/1 syntax (RFC 9110 §2.5, 505/502)",
  'ver-05': "not HTTP/1.x: HTTP/0.9 and 2.0 are not spoken in HTTP/1 syntax (RFC 9110 §2.5, 505/502)",
  'ver-17': "not HTTP/1.x: HTTP/0.9 and 2.0 are not spoken in HTTP/1 syntax (RFC 9110 §2.5, 505/502)",
  'ver-19': "not HTTP/1.x: HTTP/0.9 and 2.0 are not spoken in HTTP/1 syntax (RFC 9110 §2.5, 505/502)",
  'tgt-05': "request-target form not allowed with this method (RFC 9112 §3.2.3-3.2.4, RFC 9110 §9.3.6)",
  'tgt-07': "request-target form not allowed with this method (RFC 9112 §3.2.3-3.2.4, RFC 9110 §9.3.6)",
  'tgt-08': "request-target form not allowed with this method (RFC 9112 §3.2.3-3.2.4, RFC 9110 §9.3.6)",
  'nul-10': "controls are not reason-phrase octets (RFC 9112 §4)",
  'nul-12': "controls are not reason-phrase octets (RFC 9112 §4)",
  'te-11': "Transfer-Encoding that cannot frame the body safely (RFC 9112 §6.1, §6.3, §7.1)",
  'te-15': "Transfer-Encoding that cannot frame the body safely (RFC 9112 §6.1, §6.3, §7.1)",
  'te-16': "Transfer-Encoding that cannot frame the body safely (RFC 9112 §6.1, §6.3, §7.1)",
  'te-26': "Transfer-Encoding that cannot frame the body safely (RFC 9112 §6.1, §6.3, §7.1)",
  'te-30': "Transfer-Encoding that cannot frame the body safely (RFC 9112 §6.1, §6.3, §7.1)",
  'te-04': "a request is framed only by chunked alone: tether decodes no other coding (RFC 9112 §6.1: 501)",
  'te-08': "a request is framed only by chunked alone: tether decodes no other coding (RFC 9112 §6.1: 501)",
  'te-29': "Transfer-Encoding that cannot frame the body safely (RFC 9112 §6.1, §6.3, §7.1)",
  'te-31': "Transfer-Encoding that cannot frame the body safely (RFC 9112 §6.1, §6.3, §7.1)",
  'te-12': "an empty list element in Transfer-Encoding is an obfuscation: refused, as h11 does (RFC 9110 §5.6.1)",
  'te-33': "an empty list element in Transfer-Encoding is an obfuscation: refused, as h11 does (RFC 9110 §5.6.1)",
  'te-34': "an empty list element in Transfer-Encoding is an obfuscation: refused, as h11 does (RFC 9110 §5.6.1)",
  'te-35': "an empty list element in Transfer-Encoding is an obfuscation: refused, as h11 does (RFC 9110 §5.6.1)",
  'te-36': "an empty list element in Transfer-Encoding is an obfuscation: refused, as h11 does (RFC 9110 §5.6.1)",
  'te-37': "an empty list element in Transfer-Encoding is an obfuscation: refused, as h11 does (RFC 9110 §5.6.1)",
  'chk-10': "chunk-ext-val is a token or quoted-string, never empty (RFC 9112 §7.1.1)",
  'host-01': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-03': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-04': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-08': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-09': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-10': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-11': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-12': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-14': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'host-16': "a request needs exactly one valid Host, else 400 (RFC 9112 §3.2)",
  'long-05': "over tether's configured limits: 431/414 (RFC 9110 §5.4, RFC 9112 §3)",
  'long-07': "over tether's configured limits: 431/414 (RFC 9110 §5.4, RFC 9112 §3)",
  'lead-03': "only CRLF empty lines are skipped; bare LF is opt-in (RFC 9112 §2.2)",
  'conn-17': "101 without an Upgrade request is unusable (RFC 9110 §7.8, §15.2.2)",
  'conn-22': "a CONNECT request has no content: a framing field on one is refused (RFC 9110 §9.3.6)",
  'conn-23': "a CONNECT request has no content: a framing field on one is refused (RFC 9110 §9.3.6)",
  'st-06': "status outside 100..599 is invalid; failed as a server error, as h11/hyper do (RFC 9110 §15)",
  'meth-13': "extension methods are valid tokens; 501 is the application's answer (RFC 9110 §9.1)",
  'meth-14': "extension methods are valid tokens; 501 is the application's answer (RFC 9110 §9.1)",
  'meth-15': "extension methods are valid tokens; 501 is the application's answer (RFC 9110 §9.1)",
  'meth-17': "extension methods are valid tokens; 501 is the application's answer (RFC 9110 §9.1)",
  'meth-19': "extension methods are valid tokens; 501 is the application's answer (RFC 9110 §9.1)",
  'meth-20': "extension methods are valid tokens; 501 is the application's answer (RFC 9110 §9.1)",
  'meth-21': "extension methods are valid tokens; 501 is the application's answer (RFC 9110 §9.1)",
  'ver-02': "a higher 1.x minor version is read as 1.1 (RFC 9110 §2.5)",
  'ver-03': "a higher 1.x minor version is read as 1.1 (RFC 9110 §2.5)",
  'ver-16': "a higher 1.x minor version is read as 1.1 (RFC 9110 §2.5)",
  'cl-11': "repeated identical Content-Length may be collapsed to one (RFC 9110 §8.6)",
  'cl-13': "repeated identical Content-Length may be collapsed to one (RFC 9110 §8.6)",
  'cl-26': "repeated identical Content-Length may be collapsed to one (RFC 9110 §8.6)",
  'cl-30': "repeated identical Content-Length may be collapsed to one (RFC 9110 §8.6)",
  'te-22': "in a response Transfer-Encoding overrides Content-Length; tether closes after (RFC 9112 §6.3 rule 3)",
  'chk-07': "BWS is part of the chunk-ext grammar (RFC 9112 §7.1.1)",
  'chk-36': "BWS is part of the chunk-ext grammar (RFC 9112 §7.1.1)",
  'te-25': "TE in HTTP/1.0 is faulty framing: read until close, not chunked (RFC 9112 §6.1)",
  'conn-08': "the Upgrade request's body is part of the HTTP/1.1 message (RFC 9112 §6.3, RFC 9110 §7.8)",
  'conn-11': "close wins, and only Connection: keep-alive keeps an HTTP/1.0 connection (RFC 9112 §9.3, §9.6)",
  'conn-12': "close wins, and only Connection: keep-alive keeps an HTTP/1.0 connection (RFC 9112 §9.3, §9.6)",
  'conn-20': "only a 2xx to CONNECT makes a tunnel; a 407 is an ordinary response (RFC 9112 §6.3 rule 2)",
};

// ---------------------------------------------------------------------------------------------

/** Summarise a run in one line for the failure messages and DIFFERENTIAL.md. */
function describeRun(run: Run): string {
  const clip = (s: string): string => (s.length > 24 ? `${s.slice(0, 12)}…(${s.length})` : s);
  const heads = run.messages.map((m) => (m.method !== undefined ? `${clip(m.method)} ${clip(m.url ?? '')} ${m.version}` : `${m.status ?? ''} ${m.version}`));
  return `${run.end}${run.detail === '' ? '' : ` (${run.detail})`}; ${run.messages.length} message(s)${heads.length > 0 ? `: ${heads.join(' | ')}` : ''}`;
}

const results = DIFFERENTIAL_CORPUS.map((item) => {
  const node = runNode(item);
  const tether = runTether(item);
  return { item, node, tether, agree: agree(node, tether) };
});

if (process.env.DIFF_DUMP === '1') {
  for (const r of results.filter((x) => !x.agree)) {
    console.log(JSON.stringify({ id: r.item.id, note: r.item.note, node: describeRun(r.node), tether: describeRun(r.tether), nodeMsgs: r.node.messages, tetherMsgs: r.tether.messages }));
  }
}

describe('differential: tether vs Node (llhttp)', () => {
  it('has a corpus of at least 200 requests and responses with unique ids', () => {
    expect(DIFFERENTIAL_CORPUS.length).toBeGreaterThanOrEqual(200);
    expect(new Set(DIFFERENTIAL_CORPUS.map((i) => i.id)).size).toBe(DIFFERENTIAL_CORPUS.length);
    expect(DIFFERENTIAL_CORPUS.filter((i) => i.kind === 'response').length).toBeGreaterThanOrEqual(60);
  });

  it('agrees with Node everywhere except the listed disagreements', () => {
    const unexpected = results
      .filter((r) => !r.agree && !(r.item.id in expectedDisagreements))
      .map((r) => `${r.item.id} (${r.item.note}): node ${describeRun(r.node)}; tether ${describeRun(r.tether)}`);
    expect(unexpected).toEqual([]);
  });

  it('every listed disagreement still disagrees', () => {
    const stale = results.filter((r) => r.agree && r.item.id in expectedDisagreements).map((r) => r.item.id);
    expect(stale).toEqual([]);
    const unknown = Object.keys(expectedDisagreements).filter((id) => !DIFFERENTIAL_CORPUS.some((i) => i.id === id));
    expect(unknown).toEqual([]);
  });

  it('DIFFERENTIAL.md has one table row per listed disagreement, and no others', () => {
    const doc = readFileSync(new URL('../DIFFERENTIAL.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z]+-\d+)` \|/gm)].map((m) => m[1]);
    expect([...rows].sort()).toEqual(Object.keys(expectedDisagreements).sort());
  });

  it('both parsers accept the valid baseline cases', () => {
    for (const id of ['rl-01', 'cl-01', 'te-01', 'chk-20', 'pipe-02', 'rsp-11', 'pipe-08']) {
      const r = results.find((x) => x.item.id === id);
      expect(r?.node.end, id).not.toBe('rejected');
      expect(r?.agree, id).toBe(true);
    }
  });
});
