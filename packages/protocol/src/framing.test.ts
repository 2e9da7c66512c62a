/**
 * Message body framing (RFC 9112 §6, §7): the §6.3 table through `decideFraming()`, then the
 * same rules through a real Connection parse (every case split at every byte offset).
 */

import { describe, expect, it } from 'vitest';
import type { ConnectionOptions } from './connection.js';
import type { RemoteErrorCode } from './errors.js';
import type { HttpVersion, SendEvent } from './events.js';
import { decideFraming, isRefusal, parseContentLength, transferCodings } from './framing.js';
import type { Framing, FramingRefusal } from './framing.js';
import { brief, expectRemoteError, expectSameAtEverySplit } from './test-util/splits.js';
import type { SplitResult } from './test-util/splits.js';

const LENGTH = (length: number): Framing => ({ kind: 'length', length, mustClose: false });
const NONE: Framing = { kind: 'none', length: 0, mustClose: false };
const CHUNKED: Framing = { kind: 'chunked', length: 0, mustClose: false };
const UNTIL_CLOSE: Framing = { kind: 'until-close', length: 0, mustClose: true };
const TUNNEL: Framing = { kind: 'tunnel', length: 0, mustClose: false };

interface Msg {
  readonly version?: HttpVersion;
  readonly method?: string;
  readonly status?: number;
  readonly cl?: readonly string[];
  readonly te?: readonly string[];
}

function req(m: Msg): Framing | FramingRefusal {
  return decideFraming({ kind: 'request', version: m.version ?? '1.1', requestMethod: m.method ?? 'POST', contentLength: m.cl, transferEncoding: m.te });
}

function res(m: Msg): Framing | FramingRefusal {
  return decideFraming({
    kind: 'response',
    version: m.version ?? '1.1',
    requestMethod: m.method ?? 'GET',
    status: m.status ?? 200,
    contentLength: m.cl,
    transferEncoding: m.te,
  });
}

function refusal(f: Framing | FramingRefusal): RemoteErrorCode | null {
  return isRefusal(f) ? f.refused : null;
}

describe('decideFraming() — RFC 9112 §6.3 in order', () => {
  it.each<[string, Framing | FramingRefusal, Framing]>([
    // 1. HEAD, 1xx, 204, 304: the head is the whole message, whatever the framing fields say.
    ['HEAD 200 with Content-Length', res({ method: 'HEAD', cl: ['10'] }), NONE],
    ['HEAD 200 with chunked', res({ method: 'HEAD', te: ['chunked'] }), NONE],
    ['HEAD 404 with neither', res({ method: 'HEAD', status: 404 }), NONE],
    ['100 with Content-Length', res({ status: 100, cl: ['5'] }), NONE],
    ['103 with chunked', res({ status: 103, te: ['chunked'] }), NONE],
    ['204 with Content-Length', res({ status: 204, cl: ['5'] }), NONE],
    ['204 with chunked', res({ status: 204, te: ['chunked'] }), NONE],
    ['304 with Content-Length', res({ status: 304, cl: ['5'] }), NONE],
    ['304 with neither', res({ status: 304 }), NONE],
    ['1xx to CONNECT', res({ method: 'CONNECT', status: 100 }), NONE],
    // 2. CONNECT 2xx: a tunnel; framing fields are ignored.
    ['CONNECT 200', res({ method: 'CONNECT' }), TUNNEL],
    ['CONNECT 200 with Content-Length', res({ method: 'CONNECT', cl: ['5'] }), TUNNEL],
    ['CONNECT 299 with chunked', res({ method: 'CONNECT', status: 299, te: ['chunked'] }), TUNNEL],
    ['CONNECT 407 with Content-Length', res({ method: 'CONNECT', status: 407, cl: ['5'] }), LENGTH(5)],
    ['CONNECT 300 with neither', res({ method: 'CONNECT', status: 300 }), UNTIL_CLOSE],
    // The request side of CONNECT (RFC 9110 §9.3.6): no content; a zero Content-Length says so.
    ['CONNECT request with neither', req({ method: 'CONNECT' }), NONE],
    ['CONNECT request with Content-Length 0', req({ method: 'CONNECT', cl: ['0'] }), NONE],
    ['CONNECT request with Content-Length "0, 00"', req({ method: 'CONNECT', cl: ['0, 00'] }), NONE],
    ['"connect" (methods are case-sensitive: another method) with Content-Length', req({ method: 'connect', cl: ['10'] }), LENGTH(10)],
    // 3. Transfer-Encoding and Content-Length in a response: TE wins, the connection closes.
    ['response with chunked and Content-Length', res({ te: ['chunked'], cl: ['5'] }), { ...CHUNKED, mustClose: true }],
    ['response with gzip and Content-Length', res({ te: ['gzip'], cl: ['5'] }), UNTIL_CLOSE],
    // 4. Transfer-Encoding.
    ['chunked request', req({ te: ['chunked'] }), CHUNKED],
    ['chunked response', res({ te: ['chunked'] }), CHUNKED],
    ['"Chunked" (codings are case-insensitive)', req({ te: ['Chunked'] }), CHUNKED],
    ['chunked with OWS', req({ te: [' chunked\t'] }), CHUNKED],
    ['an unknown coding before chunked, in a response', res({ te: ['x-custom, chunked'] }), CHUNKED],
    ['response whose final coding is gzip', res({ te: ['chunked, gzip'] }), UNTIL_CLOSE],
    ['response with gzip only', res({ te: ['gzip'] }), UNTIL_CLOSE],
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing: read until close.
    ['HTTP/1.0 response with chunked', res({ version: '1.0', te: ['chunked'] }), UNTIL_CLOSE],
    ['HTTP/1.0 response with chunked and Content-Length', res({ version: '1.0', te: ['chunked'], cl: ['5'] }), UNTIL_CLOSE],
    // 5./6. Content-Length.
    ['request with Content-Length 5', req({ cl: ['5'] }), LENGTH(5)],
    ['response with Content-Length 5', res({ cl: ['5'] }), LENGTH(5)],
    ['Content-Length 0', req({ cl: ['0'] }), NONE],
    ['Content-Length 000', res({ cl: ['000'] }), NONE],
    ['Content-Length with OWS', req({ cl: [' 5 '] }), LENGTH(5)],
    ['Content-Length "5, 5"', req({ cl: ['5, 5'] }), LENGTH(5)],
    ['Content-Length "5" on two lines', req({ cl: ['5', '5'] }), LENGTH(5)],
    ['Content-Length "05" and "5" (same decimal value)', req({ cl: ['05', '5'] }), LENGTH(5)],
    ['Content-Length of 15 digits', req({ cl: ['999999999999999'] }), LENGTH(999999999999999)],
    ['HTTP/1.0 request with Content-Length', req({ version: '1.0', cl: ['3'] }), LENGTH(3)],
    // 7. A request with neither has no body.
    ['request with neither', req({}), NONE],
    ['HTTP/1.0 request with neither', req({ version: '1.0' }), NONE],
    // 8. A response with neither is read until close.
    ['response with neither', res({}), UNTIL_CLOSE],
    ['HTTP/1.0 response with neither', res({ version: '1.0' }), UNTIL_CLOSE],
  ])('%s', (_name, got, expected) => {
    expect(got).toEqual(expected);
  });

  it.each<[string, Framing | FramingRefusal, RemoteErrorCode]>([
    ['a request with chunked and Content-Length', req({ te: ['chunked'], cl: ['5'] }), 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING'],
    ['a request with Content-Length 0 and chunked', req({ te: ['chunked'], cl: ['0'] }), 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING'],
    ['a request whose final coding is gzip', req({ te: ['gzip'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with chunked, gzip', req({ te: ['chunked, gzip'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with an empty Transfer-Encoding', req({ te: [''] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['chunked twice in a request', req({ te: ['chunked, chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['chunked twice in a response', res({ te: ['chunked', 'chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    // Empty list elements: RFC 9110 §5.6.1.2 says skip them, but in Transfer-Encoding they are an
    // obfuscation peers read differently (transferCodings), so the list frames nothing.
    ['a request with "chunked,"', req({ te: ['chunked,'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with ",chunked"', req({ te: [',chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with " , chunked"', req({ te: [' , chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with "chunked , "', req({ te: ['chunked , '] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with an empty line, then "chunked"', req({ te: ['', 'chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with "chunked", then an OWS-only line', req({ te: ['chunked', ' '] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a request with "gzip,,chunked"', req({ te: ['gzip,,chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a response with "chunked,"', res({ te: ['chunked,'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a response with ",chunked"', res({ te: [',chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a response with an empty line, then "chunked"', res({ te: ['', 'chunked'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a response with an empty Transfer-Encoding', res({ te: [''] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['a response with "gzip,"', res({ te: ['gzip,'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['an unknown coding in a request', req({ te: ['br, chunked'] }), 'H1_UNSUPPORTED_TRANSFER_CODING'],
    // tether decodes no coding but chunked: a request is framed only by chunked alone.
    ['gzip then chunked in a list, in a request', req({ te: ['gzip, chunked'] }), 'H1_UNSUPPORTED_TRANSFER_CODING'],
    ['gzip then chunked on two lines, in a request', req({ te: ['gzip', 'chunked'] }), 'H1_UNSUPPORTED_TRANSFER_CODING'],
    // Final coding not chunked: RFC 9112 §6.3 item 4 (400) before §6.1's 501 for an unknown coding.
    ['"identity" in a request (removed by RFC 9112)', req({ te: ['identity'] }), 'H1_TRANSFER_ENCODING_NOT_CHUNKED'],
    ['Transfer-Encoding in an HTTP/1.0 request', req({ version: '1.0', te: ['chunked'] }), 'H1_TRANSFER_ENCODING_IN_HTTP10'],
    // RFC 9110 §9.3.6: a CONNECT request has no content; llhttp reads what follows its head as
    // tunnel data, so a body framed by either field would be a smuggling shape.
    ['a CONNECT request with Content-Length 10', req({ method: 'CONNECT', cl: ['10'] }), 'H1_CONNECT_WITH_CONTENT'],
    ['a CONNECT request with Content-Length "0, 10"', req({ method: 'CONNECT', cl: ['0, 10'] }), 'H1_CONFLICTING_CONTENT_LENGTH'],
    ['a CONNECT request with an invalid Content-Length', req({ method: 'CONNECT', cl: ['1x'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['a CONNECT request with chunked', req({ method: 'CONNECT', te: ['chunked'] }), 'H1_CONNECT_WITH_CONTENT'],
    ['a CONNECT request with gzip', req({ method: 'CONNECT', te: ['gzip'] }), 'H1_CONNECT_WITH_CONTENT'],
    ['a CONNECT request with chunked and Content-Length 0', req({ method: 'CONNECT', te: ['chunked'], cl: ['0'] }), 'H1_CONNECT_WITH_CONTENT'],
    ['an HTTP/1.0 CONNECT request with chunked', req({ version: '1.0', method: 'CONNECT', te: ['chunked'] }), 'H1_CONNECT_WITH_CONTENT'],
    ['Content-Length "+5"', req({ cl: ['+5'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length "-1"', res({ cl: ['-1'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length "0x10"', req({ cl: ['0x10'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length "1e3"', req({ cl: ['1e3'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length "5 5"', req({ cl: ['5 5'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length "5,"', req({ cl: ['5,'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['an empty Content-Length', req({ cl: [''] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length of 16 digits', req({ cl: ['1000000000000000'] }), 'H1_INVALID_CONTENT_LENGTH'],
    ['Content-Length "5, 6"', req({ cl: ['5, 6'] }), 'H1_CONFLICTING_CONTENT_LENGTH'],
    ['Content-Length 5 and 6 on two lines', res({ cl: ['5', '6'] }), 'H1_CONFLICTING_CONTENT_LENGTH'],
  ])('refuses %s', (_name, got, code) => {
    expect(refusal(got)).toBe(code);
  });

  it('parses Content-Length and Transfer-Encoding lists on their own', () => {
    expect(parseContentLength(['007', '7, 7'])).toBe(7);
    expect(transferCodings(['GZip, chunked', ' x'])).toEqual(['gzip', 'chunked', 'x']);
    // An element with parameters is not a bare coding name: the list frames nothing.
    expect(transferCodings(['GZip;q=1, chunked', ' x'])).toBeNull();
    // Nor does a list with an empty element, wherever it is.
    for (const te of [['chunked,'], [',chunked'], ['gzip, ,chunked'], ['', 'chunked'], ['chunked', '\t'], ['']]) {
      expect(transferCodings(te), JSON.stringify(te)).toBeNull();
    }
  });
});

/** What a client sends before it can read a response. */
function requestOf(method: string, fields: Record<string, string> = {}, target = '/'): SendEvent[] {
  return [{ type: 'request', method, target, headers: { host: 'a', ...fields } }, { type: 'end-of-message' }];
}

const GET = requestOf('GET');

function server(input: string, options: { connection?: ConnectionOptions; eof?: boolean } = {}): SplitResult {
  return expectSameAtEverySplit('server', input, options);
}

function client(input: string, options: { send?: SendEvent[]; connection?: ConnectionOptions; eof?: boolean } = {}): SplitResult {
  return expectSameAtEverySplit('client', input, { send: GET, ...options });
}

describe('framing through a Connection', () => {
  describe('bodiless responses (§6.3 rule 1)', () => {
    it('a HEAD response has no body even with Content-Length; the next response follows at once', () => {
      const r = client('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi', {
        send: [...requestOf('HEAD'), ...GET],
      });
      expect(brief(r.events)).toEqual(['response 200 1.1', 'end', 'response 200 1.1', 'data "hi"', 'end']);
      expect(r.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    });

    it.each([
      ['204', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n'],
      ['304', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n'],
      ['304 with chunked', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ])('a %s response has no body; the next response is parsed from the next byte', (_name, first) => {
      const r = client(`${first}HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello`, { send: [...GET, ...GET] });
      expect(brief(r.events).slice(1)).toEqual(['end', 'response 200 1.1', 'data "hello"', 'end']);
      expect(r.keepAlive).toBe(true);
    });

    it('1xx responses carry no body even with Content-Length', () => {
      const r = client('HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 103 Early Hints\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      expect(brief(r.events)).toEqual(['informational-response 100 1.1', 'informational-response 103 1.1', 'response 200 1.1', 'data "ok"', 'end']);
    });
  });

  describe('protocol switches (§6.3 rule 2, RFC 9110 §7.8)', () => {
    it('CONNECT 2xx turns the connection into a tunnel; the bytes after the head are handed back', () => {
      const r = client('HTTP/1.1 200 Connection Established\r\nContent-Length: 3\r\n\r\n\x16\x03\x01abc', {
        send: requestOf('CONNECT', { host: 'example.com:443' }, 'example.com:443'),
      });
      expect(brief(r.events)).toEqual(['response 200 1.1']);
      expect(r.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
      expect(r.trailing).toEqual({ data: '\x16\x03\x01abc', closed: false });
      expect(r.conn.pausedReason).toMatch(/switched/);
    });

    it('a non-2xx answer to CONNECT is an ordinary response, and the connection persists', () => {
      const r = client('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno', {
        send: requestOf('CONNECT', { host: 'example.com:443' }, 'example.com:443'),
      });
      expect(brief(r.events)).toEqual(['response 407 1.1', 'data "no"', 'end']);
      expect(r.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    });

    it.each([
      ['Content-Length: 10', 'Content-Length: 10\r\n'],
      ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\n'],
      ['Content-Length: 0 and Transfer-Encoding: chunked', 'Content-Length: 0\r\nTransfer-Encoding: chunked\r\n'],
    ])('refuses a CONNECT request with %s (400): what follows its head is never read as a body', (_name, fields) => {
      const r = server(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n${fields}\r\n0123456789`);
      expect(r.events).toEqual([]);
      expectRemoteError(r, 'H1_CONNECT_WITH_CONTENT', 400);
    });

    it('accepts a CONNECT request with Content-Length: 0; the bytes after it wait for the answer', () => {
      const r = server('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 0\r\n\r\n\x16\x03\x01');
      expect(brief(r.events)).toEqual(['request CONNECT example.com:443 1.1', 'end']);
      expect(r.states).toEqual({ client: 'MIGHT_SWITCH_PROTOCOL', server: 'SEND_RESPONSE' });
      expect(r.trailing.data).toBe('\x16\x03\x01');
    });

    it('a server holds the bytes after a CONNECT request until it answers', () => {
      const r = server('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01');
      expect(brief(r.events)).toEqual(['request CONNECT example.com:443 1.1', 'end']);
      expect(r.states).toEqual({ client: 'MIGHT_SWITCH_PROTOCOL', server: 'SEND_RESPONSE' });
      expect(r.trailing.data).toBe('\x16\x03\x01');
      r.conn.send({ type: 'response', status: 200 });
      expect(r.conn.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
      expect(r.conn.trailingData.data).toEqual(new Uint8Array([0x16, 0x03, 0x01]));
    });

    const upgrade = requestOf('GET', { connection: 'Upgrade', upgrade: 'websocket' });

    it('101 to an Upgrade request switches; the bytes after it are handed back', () => {
      const r = client('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello', { send: upgrade });
      expect(brief(r.events)).toEqual(['response 101 1.1']);
      expect(r.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
      expect(r.trailing).toEqual({ data: '\x81\x05hello', closed: false });
    });

    it('a declined Upgrade is an ordinary exchange', () => {
      const r = client('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno', { send: upgrade });
      expect(brief(r.events)).toEqual(['response 200 1.1', 'data "no"', 'end']);
      expect(r.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    });

    it.each([
      ['a request without Upgrade', GET],
      ['a request with Upgrade but no "upgrade" connection option', requestOf('GET', { upgrade: 'websocket' })],
      ['a CONNECT request', requestOf('CONNECT', { host: 'example.com:443' }, 'example.com:443')],
    ])('101 to %s is H1_UNEXPECTED_SWITCH', (_name, send) => {
      const r = client('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nxyz', { send });
      expectRemoteError(r, 'H1_UNEXPECTED_SWITCH', 502);
    });
  });

  describe('chunked (RFC 9112 §7.1)', () => {
    const chunkedRequest = (body: string): string => `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;

    it('reads chunks of upper- and lower-case hex sizes, leading zeros included', () => {
      const r = server(chunkedRequest('A\r\n0123456789\r\nb\r\nabcdefghijk\r\n1F\r\n' + 'x'.repeat(31) + '\r\n1f\r\n' + 'y'.repeat(31) + '\r\n0005\r\nhello\r\n0\r\n\r\n'));
      expect(brief(r.events)).toEqual(['request POST / 1.1', `data "0123456789abcdefghijk${'x'.repeat(31)}${'y'.repeat(31)}hello"`, 'end']);
      expect(r.states).toEqual({ client: 'IDLE', server: 'SEND_RESPONSE' });
    });

    it('exposes chunk extensions on the first data event of their chunk', () => {
      const r = server(chunkedRequest('3\r\nabc\r\n5;name=value;Flag\r\nhello\r\n2 ; q = "a \\"b\\" ;c" ; x\t=\ty\r\nhi\r\n0;last=1\r\n\r\n'));
      expect(r.events.slice(1)).toEqual([
        { type: 'data', data: 'abc' },
        { type: 'data', data: 'hello', extensions: [['name', 'value'], ['flag', null]] },
        { type: 'data', data: 'hi', extensions: [['q', 'a "b" ;c'], ['x', 'y']] },
        { type: 'end-of-message', trailers: null },
      ]);
    });

    // RFC 9112 §7.1.1: `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`.
    // Whitespace before ";" is in the grammar, and it cannot move where the chunk ends.
    it('accepts whitespace before a chunk extension: "5 ;x"', () => {
      const r = server(chunkedRequest('5 ;x\r\nhello\r\n0\r\n\r\n'));
      expect(r.events.slice(1)).toEqual([
        { type: 'data', data: 'hello', extensions: [['x', null]] },
        { type: 'end-of-message', trailers: null },
      ]);
      expect(r.states).toEqual({ client: 'IDLE', server: 'SEND_RESPONSE' });
    });

    it('delivers trailers on end-of-message, case preserved, OWS trimmed', () => {
      const r = server(chunkedRequest('2\r\nhi\r\n0\r\nExpires: never \r\nX-Checksum:\tabc\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n'));
      expect(r.events.slice(1, 3)).toEqual([
        { type: 'data', data: 'hi' },
        { type: 'end-of-message', trailers: ['Expires', 'never', 'X-Checksum', 'abc'] },
      ]);
      expect(brief(r.events).slice(3)).toEqual(['request GET /next 1.1', 'end']);
    });

    it('a chunked response is read the same way, and ends without waiting for a close', () => {
      const r = client('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;a=b\r\nwiki\r\n0\r\nT: 1\r\n\r\n');
      expect(r.events.slice(1)).toEqual([
        { type: 'data', data: 'wiki', extensions: [['a', 'b']] },
        { type: 'end-of-message', trailers: ['T', '1'] },
      ]);
      expect(r.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    });

    it('accepts bare LF in chunk framing only with allowBareLf', () => {
      const body = '2\nhi\n0\n\n';
      expectRemoteError(server(chunkedRequest(body)), 'H1_BARE_LF', 400);
      const r = server(chunkedRequest(body), { connection: { allowBareLf: true } });
      expect(brief(r.events)).toEqual(['request POST / 1.1', 'data "hi"', 'end']);
    });

    it.each<[string, string, RemoteErrorCode, number, ConnectionOptions?]>([
      ['a non-hex size', 'g\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['a size with a sign', '+5\r\nhello\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['a negative size', '-1\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['whitespace before the size', ' 5\r\nhello\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['an empty size line', '\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['a 0x prefix', '0x5\r\nhello\r\n', 'H1_INVALID_CHUNK_EXTENSION', 400],
      ['17 hex digits (default limit 16)', '00000000000000005\r\nhello\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['3 hex digits with maxChunkSizeDigits 2', '100\r\n', 'H1_INVALID_CHUNK_SIZE', 400, { maxChunkSizeDigits: 2 }],
      ['a size beyond 2^53', 'FFFFFFFFFFFFFFFF\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['a size line too long', '5;' + 'a'.repeat(40) + '\r\nhello\r\n', 'H1_CHUNK_EXTENSIONS_TOO_LARGE', 400, { maxChunkExtensionBytes: 16 }],
      ['a size line too long, never ended', '5;' + 'a'.repeat(40), 'H1_CHUNK_EXTENSIONS_TOO_LARGE', 400, { maxChunkExtensionBytes: 16 }],
      ['extensions over the per-message budget', '1;aaaaaa\r\nx\r\n1;bbbbbb\r\ny\r\n0\r\n\r\n', 'H1_CHUNK_EXTENSIONS_TOO_LARGE', 400, { maxChunkExtensionBytes: 10 }],
      // Regression: a non-hex first byte gave H1_INVALID_CHUNK_SIZE when it arrived alone but
      // H1_CHUNK_EXTENSIONS_TOO_LARGE or H1_BARE_LF when the whole line arrived at once.
      ['a non-hex first byte on a line too long', 'z'.repeat(40) + '\r\n', 'H1_INVALID_CHUNK_SIZE', 400, { maxChunkExtensionBytes: 16 }],
      ['a non-hex first byte on a line ending in bare LF', 'z\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n', 'H1_BARE_LF', 400],
      ['";" without a name', '5;\r\nhello\r\n', 'H1_INVALID_CHUNK_EXTENSION', 400],
      ['"=" without a value', '5;a=\r\nhello\r\n', 'H1_INVALID_CHUNK_EXTENSION', 400],
      ['an unterminated quoted value', '5;a="b\r\nhello\r\n', 'H1_INVALID_CHUNK_EXTENSION', 400],
      ['two tokens as a value', '5;a=b c\r\nhello\r\n', 'H1_INVALID_CHUNK_EXTENSION', 400],
      ['a control in an extension', '5;a=\x01\r\nhello\r\n', 'H1_INVALID_CHUNK_SIZE', 400],
      ['data longer than its size', '5\r\nhelloX\r\n0\r\n\r\n', 'H1_INVALID_CHUNK_DATA', 400],
      ['data followed by CR and not LF', '5\r\nhello\rX0\r\n\r\n', 'H1_INVALID_CHUNK_DATA', 400],
      ['data followed by a bare LF', '5\r\nhello\n0\r\n\r\n', 'H1_INVALID_CHUNK_DATA', 400],
      ['obs-fold in the trailers', '0\r\nA: b\r\n c\r\n\r\n', 'H1_OBS_FOLD', 400],
      ['a NUL in a trailer', '0\r\nA: \x00\r\n\r\n', 'H1_INVALID_HEADER_VALUE', 400],
      ['too many trailer lines', '0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'H1_TOO_MANY_HEADERS', 431, { maxHeaderCount: 2 }],
    ])('refuses %s', (_name, body, code, status, connection) => {
      expectRemoteError(server(chunkedRequest(body), connection === undefined ? {} : { connection }), code, status);
    });

    it('refuses a chunked body over maxBodySize by the sum of its chunks (413), after the chunks that fit', () => {
      const r = server(chunkedRequest('6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n'), { connection: { maxBodySize: 10 } });
      expect(brief(r.events)).toEqual(['request POST / 1.1', 'data "abcdef"']);
      expectRemoteError(r, 'H1_BODY_TOO_LARGE', 413);
    });

    it('accepts a chunked body of exactly maxBodySize', () => {
      const r = server(chunkedRequest('6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n'), { connection: { maxBodySize: 10 } });
      expect(brief(r.events)).toEqual(['request POST / 1.1', 'data "abcdefghij"', 'end']);
    });

    it('refuses a huge (but safe) chunk size with 413', () => {
      expectRemoteError(server(chunkedRequest('FFFFFFFFFFFFF\r\n')), 'H1_BODY_TOO_LARGE', 413);
    });

    it('is H1_INCOMPLETE_MESSAGE when the connection closes inside a chunked body', () => {
      const r = server(chunkedRequest('5\r\nhel'), { eof: true });
      expect(brief(r.events)).toEqual(['request POST / 1.1', 'data "hel"']);
      expectRemoteError(r, 'H1_INCOMPLETE_MESSAGE', 400);
    });
  });

  describe('Content-Length (RFC 9112 §6.2, RFC 9110 §8.6)', () => {
    const post = (cl: string): string => `POST / HTTP/1.1\r\nHost: a\r\n${cl}\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n`;

    it.each([
      ['"5"', 'Content-Length: 5\r\n'],
      // OWS around a field value is not part of it (RFC 9110 §5.5), so " 5 " is 5.
      ['" 5 " (OWS trimmed)', 'Content-Length:  5 \r\n'],
      ['"5, 5" (collapsed)', 'Content-Length: 5, 5\r\n'],
      ['"5" on two lines (collapsed)', 'Content-Length: 5\r\ncontent-length: 5\r\n'],
      ['"005"', 'Content-Length: 005\r\n'],
    ])('reads exactly the declared bytes for %s, then the next request', (_name, cl) => {
      const r = server(post(cl));
      expect(brief(r.events)).toEqual(['request POST / 1.1', 'data "hello"', 'end', 'request GET / 1.1', 'end']);
    });

    it.each<[string, string, RemoteErrorCode]>([
      ['"+5"', 'Content-Length: +5\r\n', 'H1_INVALID_CONTENT_LENGTH'],
      ['"-1"', 'Content-Length: -1\r\n', 'H1_INVALID_CONTENT_LENGTH'],
      ['"0x10"', 'Content-Length: 0x10\r\n', 'H1_INVALID_CONTENT_LENGTH'],
      ['"5 5"', 'Content-Length: 5 5\r\n', 'H1_INVALID_CONTENT_LENGTH'],
      ['an empty value', 'Content-Length:\r\n', 'H1_INVALID_CONTENT_LENGTH'],
      ['"5, 6"', 'Content-Length: 5, 6\r\n', 'H1_CONFLICTING_CONTENT_LENGTH'],
      ['5 and 6 on two lines', 'Content-Length: 5\r\nContent-Length: 6\r\n', 'H1_CONFLICTING_CONTENT_LENGTH'],
      ['Content-Length with chunked', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING'],
      ['chunked with Content-Length', 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING'],
    ])('refuses a request with %s (400)', (_name, cl, code) => {
      expectRemoteError(server(post(cl)), code, 400);
    });

    it('refuses a response with conflicting Content-Length values too', () => {
      expectRemoteError(client('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello'), 'H1_CONFLICTING_CONTENT_LENGTH', 502);
    });

    it('refuses a Content-Length over maxBodySize with 413 before reading the body', () => {
      const r = server('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello', { connection: { maxBodySize: 10 } });
      expect(r.events).toEqual([]);
      expectRemoteError(r, 'H1_BODY_TOO_LARGE', 413);
      const ok = server('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789', { connection: { maxBodySize: 10 } });
      expect(brief(ok.events)).toEqual(['request POST / 1.1', 'data "0123456789"', 'end']);
    });

    it('refuses a response body over maxBodySize with 413', () => {
      expectRemoteError(client('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n', { connection: { maxBodySize: 10 } }), 'H1_BODY_TOO_LARGE', 502);
    });

    it('is H1_INCOMPLETE_MESSAGE, naming the bytes that arrived, when the connection closes early', () => {
      const r = client('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', { eof: true });
      expect(brief(r.events)).toEqual(['response 200 1.1', 'data "abc"']);
      const err = expectRemoteError(r, 'H1_INCOMPLETE_MESSAGE', 502);
      expect(err.message).toMatch(/\b3 of 10\b/);
    });

    it('is H1_INCOMPLETE_MESSAGE for a request body cut short too', () => {
      const r = server('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n', { eof: true });
      const err = expectRemoteError(r, 'H1_INCOMPLETE_MESSAGE', 400);
      expect(err.message).toMatch(/\b0 of 4\b/);
    });
  });

  describe('Transfer-Encoding (RFC 9112 §6.1)', () => {
    it.each<[string, string, RemoteErrorCode, number]>([
      ['whose final coding is not chunked', 'Transfer-Encoding: gzip\r\n', 'H1_TRANSFER_ENCODING_NOT_CHUNKED', 400],
      ['with chunked before gzip', 'Transfer-Encoding: chunked, gzip\r\n', 'H1_TRANSFER_ENCODING_NOT_CHUNKED', 400],
      ['with an unknown coding', 'Transfer-Encoding: x-custom, chunked\r\n', 'H1_UNSUPPORTED_TRANSFER_CODING', 501],
    ])('refuses a request %s', (_name, te, code, status) => {
      expectRemoteError(server(`POST / HTTP/1.1\r\nHost: a\r\n${te}\r\n0\r\n\r\n`), code, status);
    });

    // RFC 9110 §5.6.1.2 would skip the empty element; llhttp and h11 refuse these requests, and a
    // front end that does not see `chunked` in them frames what follows differently.
    it.each([
      ['"chunked," (an empty element after it)', 'Transfer-Encoding: chunked,\r\n'],
      ['",chunked" (an empty element before it)', 'Transfer-Encoding: ,chunked\r\n'],
      ['an empty field line, then "chunked"', 'Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n'],
      ['"chunked", then an empty field line', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: \r\n'],
    ])('refuses a request whose Transfer-Encoding is %s (400)', (_name, te) => {
      const r = server(`POST / HTTP/1.1\r\nHost: a\r\n${te}\r\n3\r\nabc\r\n0\r\n\r\n`);
      expect(r.events).toEqual([]);
      expectRemoteError(r, 'H1_TRANSFER_ENCODING_NOT_CHUNKED', 400);
    });

    it.each([
      ['"chunked,"', 'Transfer-Encoding: chunked,\r\n'],
      ['",chunked"', 'Transfer-Encoding: ,chunked\r\n'],
      ['an empty field line, then "chunked"', 'Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n'],
      ['empty', 'Transfer-Encoding:\r\n'],
    ])('refuses a response whose Transfer-Encoding is %s (502): peers disagree on its framing', (_name, te) => {
      const r = client(`HTTP/1.1 200 OK\r\n${te}\r\n3\r\nabc\r\n0\r\n\r\n`, { eof: true });
      expect(r.events).toEqual([]);
      expectRemoteError(r, 'H1_TRANSFER_ENCODING_NOT_CHUNKED', 502);
    });

    it('refuses Transfer-Encoding in an HTTP/1.0 request with 400', () => {
      expectRemoteError(server('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), 'H1_TRANSFER_ENCODING_IN_HTTP10', 400);
    });

    it('in a response with Content-Length, Transfer-Encoding wins and the connection will not persist', () => {
      const r = client('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n');
      expect(brief(r.events)).toEqual(['response 200 1.1', 'data "hi"', 'end']);
      expect(r.keepAlive).toBe(false);
      expect(r.states).toEqual({ client: 'MUST_CLOSE', server: 'MUST_CLOSE' });
    });

    it.each([
      ['gzip only', '1.1', 'gzip'],
      ['chunked, then gzip', '1.1', 'chunked, gzip'],
      ['chunked in HTTP/1.0', '1.0', 'chunked'],
    ])('reads a response with Transfer-Encoding %s until close, body bytes untouched', (_name, version, te) => {
      const r = client(`HTTP/${version} 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n2\r\nhi\r\n0\r\n\r\n`, { eof: true });
      expect(brief(r.events)).toEqual([`response 200 ${version}`, 'data "2\\r\\nhi\\r\\n0\\r\\n\\r\\n"', 'end', 'closed']);
      expect(r.keepAlive).toBe(false);
      expect(r.states).toEqual({ client: 'MUST_CLOSE', server: 'CLOSED' });
    });
  });

  describe('read until close (§6.3 rule 8)', () => {
    it('a response without length ends at receiveEof(), then the connection is closed', () => {
      const r = client('HTTP/1.1 200 OK\r\nX: y\r\n\r\nall of this is body\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', { eof: true });
      expect(brief(r.events)).toEqual(['response 200 1.1', 'data "all of this is body\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\n\\r\\n"', 'end', 'closed']);
      expect(r.keepAlive).toBe(false);
      expect(r.states).toEqual({ client: 'MUST_CLOSE', server: 'CLOSED' });
    });

    it('does not end before the close', () => {
      const r = client('HTTP/1.1 200 OK\r\n\r\nsome', {});
      expect(brief(r.events)).toEqual(['response 200 1.1', 'data "some"']);
      expect(r.states.server).toBe('SEND_BODY');
      expect(r.keepAlive).toBe(false);
    });

    it('an empty body read until close is just end-of-message at the close', () => {
      const r = client('HTTP/1.1 200 OK\r\n\r\n', { eof: true });
      expect(brief(r.events)).toEqual(['response 200 1.1', 'end', 'closed']);
    });

    it('a request without Content-Length or Transfer-Encoding has no body (rule 7)', () => {
      const r = server('POST / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(brief(r.events)).toEqual(['request POST / 1.1', 'end', 'request GET / 1.1', 'end']);
    });
  });
});
