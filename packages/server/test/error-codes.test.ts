/**
 * What a handler does wrong is thrown at it as node:http's ServerResponse throws it: each row runs
 * one misuse on node's response and on tether's, each in a real exchange over a socket, and the
 * two errors must have the same `code`, message, class (`TypeError`, `RangeError`, `Error`),
 * `constructor.name` and `toString()`. tether's must also be a ServerError whose `tetherCode` is
 * the row's.
 *
 * Differences left as they are (no row compares them):
 * - `write()` after `end()`: node emits the error as 'error' on the response, tether throws it at
 *   the call (the row says so);
 * - a body that does not match its Content-Length: node refuses it only with
 *   `strictContentLength`, which those rows set on node's response; tether always refuses it;
 * - a field value that starts or ends with whitespace: node sends it; tether refuses it
 *   (`ERR_INVALID_CHAR`, the protocol's reason as `cause`);
 * - `setHeader('bad name', [])`: node refuses the name; tether has no line to check;
 * - `writeEarlyHints()`: node checks only `link` (`ERR_INVALID_ARG_VALUE`) and writes the rest
 *   unchecked; tether checks each field as a header;
 * - a reason phrase with a CR or LF: node throws at `writeHead()`, tether when the head is sent.
 */
import http from 'node:http';
import type net from 'node:net';
import { LocalProtocolError } from '@tether/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ERRORS, ServerError, createServer } from '../src/index.js';
import type { ServerErrorCode, TetherServer } from '../src/index.js';
import { Resources } from './tcp-helpers.js';

type Res = http.ServerResponse;

/** How a misuse was reported to the handler. */
type How = 'throw' | "'error' event" | 'nothing';

/** What the handler saw of a misuse. */
interface Outcome {
  readonly how: How;
  readonly error: unknown;
}

/** One misuse. */
interface Row {
  readonly misuse: string;
  readonly act: (res: Res) => void;
  /** tether's code for it. */
  readonly tetherCode: ServerErrorCode;
  /** node checks the body against Content-Length only when asked (`strictContentLength`). */
  readonly strict?: true;
  /** node emits this as 'error' on the response; tether throws it at the call. */
  readonly nodeEmits?: true;
}

const bad = <T>(value: unknown): T => value as T;

const ROWS: readonly Row[] = [
  { misuse: 'setHeader after a write', act: (res) => (res.write('x'), res.setHeader('a', 'b')), tetherCode: 'TETHER_HEADERS_SENT' },
  { misuse: 'removeHeader after a write', act: (res) => (res.write('x'), res.removeHeader('a')), tetherCode: 'TETHER_HEADERS_SENT' },
  { misuse: 'appendHeader after a write', act: (res) => (res.write('x'), res.appendHeader('a', 'b')), tetherCode: 'TETHER_HEADERS_SENT' },
  { misuse: 'writeHead after a write', act: (res) => (res.write('x'), res.writeHead(200)), tetherCode: 'TETHER_HEADERS_SENT' },
  { misuse: 'writeHead twice', act: (res) => (res.writeHead(200), res.writeHead(200)), tetherCode: 'TETHER_HEADERS_SENT' },
  { misuse: 'setHeader after writeHead', act: (res) => (res.writeHead(200), res.setHeader('a', 'b')), tetherCode: 'TETHER_HEADERS_SENT' },
  { misuse: 'write after end', act: (res) => (res.end('x'), res.write('y')), tetherCode: 'TETHER_WRITE_AFTER_END', nodeEmits: true },
  { misuse: 'writeHead(1000)', act: (res) => res.writeHead(1000), tetherCode: 'TETHER_INVALID_STATUS' },
  { misuse: 'statusCode 99, then end', act: (res) => ((res.statusCode = 99), res.end()), tetherCode: 'TETHER_INVALID_STATUS' },
  { misuse: 'statusCode NaN, then write', act: (res) => ((res.statusCode = Number.NaN), res.write('x')), tetherCode: 'TETHER_INVALID_STATUS' },
  { misuse: "statusCode 'abc', then end", act: (res) => ((res.statusCode = bad('abc')), res.end()), tetherCode: 'TETHER_INVALID_STATUS' },
  { misuse: 'writeHead with an object', act: (res) => res.writeHead(bad({})), tetherCode: 'TETHER_INVALID_STATUS' },
  { misuse: 'a header value with CR LF', act: (res) => res.setHeader('x-a', 'one\r\ntwo'), tetherCode: 'TETHER_INVALID_HEADER' },
  // Fastify's test/internals/reply.test.js "invalid response headers should not crash the server".
  { misuse: 'a header value with a character above 0xFF', act: (res) => res.setHeader('smile-encoded', '\uD83D\uDE00'), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'a header value with NUL, in a list', act: (res) => res.setHeader('x-a', ['ok', 'a\0b']), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'a header name with a space', act: (res) => res.setHeader('bad name', 'v'), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'a header value that is undefined', act: (res) => res.setHeader('x-a', bad(undefined)), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'appendHeader with undefined', act: (res) => res.appendHeader('x-a', bad(undefined)), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'writeHead with an undefined header value', act: (res) => res.writeHead(200, bad({ 'x-a': undefined })), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'an undefined value for a bad name', act: (res) => res.setHeader('bad name', bad(undefined)), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'an empty header name', act: (res) => res.setHeader('', 'v'), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'a header name that is a number', act: (res) => res.setHeader(bad(42), 'v'), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'a header name that is a symbol', act: (res) => res.setHeader(bad(Symbol('q')), 'v'), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'writeHead with a bad header value', act: (res) => res.writeHead(200, { 'x-a': 'a\nb' }), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'writeHead with a bad header name', act: (res) => res.writeHead(200, { 'x(a)': 'v' }), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'a trailer value with LF', act: (res) => res.addTrailers({ 'x-a': 'a\nb' }), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'a trailer name with a space', act: (res) => res.addTrailers({ 'x y': 'a' }), tetherCode: 'TETHER_INVALID_HEADER' },
  { misuse: 'write(42)', act: (res) => res.write(bad(42)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(-0)', act: (res) => res.write(bad(-0)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write({})', act: (res) => res.write(bad({})), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write([1])', act: (res) => res.write(bad([1])), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(Object.create(null))', act: (res) => res.write(bad(Object.create(null))), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(true)', act: (res) => res.write(bad(true)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(10n)', act: (res) => res.write(bad(10n)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(a symbol)', act: (res) => res.write(bad(Symbol('a description longer than twenty-eight'))), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(a function)', act: (res) => res.write(bad(Math.max)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(undefined)', act: (res) => res.write(bad(undefined)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'write(null)', act: (res) => res.write(bad(null)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'end(42)', act: (res) => res.end(bad(42)), tetherCode: 'TETHER_INVALID_ARGUMENT' },
  { misuse: 'a reason phrase with LF, then end', act: (res) => ((res.statusMessage = 'a\nb'), res.end()), tetherCode: 'TETHER_RESPONSE_REFUSED' },
  {
    misuse: 'end with a body longer than its Content-Length',
    act: (res) => (res.setHeader('content-length', '1'), res.end('too long')),
    tetherCode: 'TETHER_RESPONSE_REFUSED',
    strict: true,
  },
  {
    misuse: 'end with a body shorter than its Content-Length',
    act: (res) => (res.setHeader('content-length', 5), res.end('ab')),
    tetherCode: 'TETHER_RESPONSE_REFUSED',
    strict: true,
  },
  {
    misuse: 'a streamed body shorter than its Content-Length',
    act: (res) => (res.setHeader('content-length', '5'), res.write('ab'), res.end()),
    tetherCode: 'TETHER_RESPONSE_REFUSED',
    strict: true,
  },
  {
    misuse: 'a second write past the Content-Length',
    act: (res) => (res.setHeader('content-length', '2'), res.write('a'), res.write(Buffer.from('bc'))),
    tetherCode: 'TETHER_RESPONSE_REFUSED',
    strict: true,
  },
];

/** Responses node sends as the handler shaped them and tether's protocol refuses: node has no error for them. */
const TETHER_ALONE: readonly Omit<Row, 'tetherCode'>[] = [
  { misuse: 'Content-Length on a 204', act: (res) => ((res.statusCode = 204), res.setHeader('content-length', '1'), res.end()) },
  { misuse: 'a 1xx as the final status', act: (res) => ((res.statusCode = 150), res.end('x')) },
];

const resources = new Resources();
/** The handler's outcome of each request, by server and path. */
const waiting = new Map<string, (outcome: Outcome) => void>();
/** The misuse each path runs. */
const acts = new Map<string, Omit<Row, 'tetherCode'>>();
const ports = { node: 0, tether: 0 };

/** The handler of both servers: runs the path's misuse, reports what it saw, then ends the response if it can. */
function handler(kind: 'node' | 'tether') {
  return (req: http.IncomingMessage, res: Res): void => {
    const row = acts.get(req.url!)!;
    let outcome: Outcome = { how: 'nothing', error: undefined };
    res.on('error', (error) => {
      if (outcome.how === 'nothing') outcome = { how: "'error' event", error };
    });
    if (kind === 'node' && row.strict === true) res.strictContentLength = true;
    try {
      row.act(res);
    } catch (error) {
      outcome = { how: 'throw', error };
    }
    // node emits on the next tick.
    setTimeout(() => {
      waiting.get(`${kind} ${req.url!}`)?.(outcome);
      if (res.writableEnded) return;
      try {
        if (!res.headersSent) {
          res.statusCode = 200;
          res.statusMessage = 'OK';
          res.removeHeader('content-length');
        }
        res.end();
      } catch {
        // The misuse left the response unusable.
        res.destroy();
      }
    }, 5);
  };
}

beforeAll(async () => {
  const tether: TetherServer = createServer(handler('tether'));
  ports.tether = (await tether.listen({ port: 0, host: '127.0.0.1' })).port;
  resources.defer(() => tether.close({ timeout: 500 }));
  const node = http.createServer(handler('node'));
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  ports.node = (node.address() as net.AddressInfo).port;
  resources.defer(() => {
    node.closeAllConnections();
    return new Promise<void>((resolve) => node.close(() => resolve()));
  });
});
afterAll(() => resources.release());

let requests = 0;

/** Run `row`'s misuse in an exchange with `kind`'s server; what the handler saw. */
async function misuse(kind: 'node' | 'tether', row: Omit<Row, 'tetherCode'>): Promise<Outcome> {
  const path = `/${++requests}`;
  acts.set(path, row);
  const seen = new Promise<Outcome>((resolve) => waiting.set(`${kind} ${path}`, resolve));
  const answered = new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: ports[kind], path, agent: false }, (res) => {
      res.resume();
      res.on('close', resolve);
    });
    req.on('error', () => resolve());
  });
  const [outcome] = await Promise.all([seen, answered]);
  return outcome;
}

/** What code written for node:http can see of an error. */
function shape(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { notAnError: error };
  const base = error instanceof RangeError ? 'RangeError' : error instanceof TypeError ? 'TypeError' : 'Error';
  return {
    base,
    name: error.name,
    constructor: (error.constructor as { name?: string }).name,
    code: (error as NodeJS.ErrnoException).code,
    message: error.message,
    text: String(error),
  };
}

describe('errors thrown at a handler are node:http\'s', () => {
  it.each(ROWS)('$misuse', async (row) => {
    const node = await misuse('node', row);
    const tether = await misuse('tether', row);
    // node faults on it (so the comparison cannot pass with both silent), and its error is no ServerError.
    expect(node.how).toBe(row.nodeEmits === true ? "'error' event" : 'throw');
    expect(node.error).not.toBeInstanceOf(ServerError);
    expect(tether.how).toBe('throw');
    expect(shape(tether.error)).toEqual(shape(node.error));
    expect(tether.error).toBeInstanceOf(ServerError);
    const err = tether.error as ServerError;
    expect(err.tetherCode).toBe(row.tetherCode);
    expect(SERVER_ERRORS[row.tetherCode]).toContain(err.code);
  });

  it.each(TETHER_ALONE)('$misuse: node sends it, tether refuses it with its own code', async (row) => {
    const node = await misuse('node', row);
    const tether = await misuse('tether', row);
    expect(node).toEqual({ how: 'nothing', error: undefined });
    expect(tether.how).toBe('throw');
    expect(tether.error).toBeInstanceOf(ServerError);
    expect(tether.error).toMatchObject({ name: 'Error', code: 'TETHER_RESPONSE_REFUSED', tetherCode: 'TETHER_RESPONSE_REFUSED' });
    expect((tether.error as Error).cause).toBeInstanceOf(LocalProtocolError);
  });

  it('a numeric string status is read as node:http reads it', async () => {
    const { origin } = await resources.server((_req, res) => {
      res.statusCode = '201' as unknown as number;
      res.end('made');
    });
    const r = await fetch(origin);
    expect(r.status).toBe(201);
    expect(await r.text()).toBe('made');
  });
});
