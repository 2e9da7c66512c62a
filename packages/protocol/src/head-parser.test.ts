/**
 * The receive side of message heads (RFC 9112 §2–§5, RFC 9110 §5), through a real Connection.
 * Every case runs split at every byte offset and one byte at a time (test-util/splits.ts).
 */

import { describe, expect, it } from 'vitest';
import { Connection } from './connection.js';
import type { ConnectionOptions } from './connection.js';
import type { RemoteErrorCode } from './errors.js';
import type { SendEvent } from './events.js';
import { bytes } from './testing.js';
import { brief, expectRemoteError, expectSameAtEverySplit } from './test-util/splits.js';
import type { NormalEvent, SplitResult } from './test-util/splits.js';

/** What a client sends before it can read a response. */
const GET: readonly SendEvent[] = [{ type: 'request', method: 'GET', target: '/', headers: { host: 'a' } }, { type: 'end-of-message' }];

function request(input: string, connection?: ConnectionOptions): SplitResult {
  return expectSameAtEverySplit('server', input, connection === undefined ? {} : { connection });
}

function response(input: string, connection?: ConnectionOptions): SplitResult {
  return expectSameAtEverySplit('client', input, connection === undefined ? { send: GET } : { send: GET, connection });
}

function firstHead(r: SplitResult): NormalEvent & { type: 'request' | 'response' | 'informational-response' } {
  expect(r.error).toBeNull();
  const e = r.events[0];
  if (e === undefined || (e.type !== 'request' && e.type !== 'response' && e.type !== 'informational-response')) {
    throw new Error(`expected a head, got ${JSON.stringify(r.events)}`);
  }
  return e;
}

type Rejection = [name: string, input: string, code: RemoteErrorCode, status: number, options?: ConnectionOptions];

describe('request-line (RFC 9112 §3)', () => {
  it.each([
    'GET',
    'POST',
    'DELETE',
    'PROPFIND',
    'M-SEARCH',
    // Methods are case-sensitive tokens: "get" is a different (valid) method, not GET.
    'get',
    // Every tchar special (RFC 9110 §5.6.2).
    "X!#$%&'*+-.^_`|~09az",
  ])('accepts the token %j as a method, unchanged', (method) => {
    const r = request(`${method} / HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(brief(r.events)).toEqual([`request ${method} / 1.1`, 'end']);
  });

  it.each([
    ['origin-form', 'GET', '/a/b;p?q=1&r=%20'],
    ['absolute-form', 'GET', 'http://example.com:8080/x?y'],
    ['absolute-form with another scheme', 'GET', 'urn:isbn:0451450523'],
    // "example.com:443" is also a valid absolute-URI (scheme "example.com"): RFC 9112 §3.2 gives
    // no way to refuse it for GET, so it is read as absolute-form.
    ['host:port that is also an absolute-URI', 'GET', 'example.com:443'],
    ['authority-form for CONNECT', 'CONNECT', 'example.com:443'],
    ['authority-form with an IPv4 address', 'CONNECT', '127.0.0.1:8080'],
    ['authority-form with an IPv6 literal', 'CONNECT', '[2001:db8::1]:443'],
    ['asterisk-form for OPTIONS', 'OPTIONS', '*'],
    ['origin-form for OPTIONS', 'OPTIONS', '/'],
  ])('accepts %s', (_name, method, target) => {
    const r = request(`${method} ${target} HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
    const head = firstHead(r);
    expect(head).toMatchObject({ type: 'request', method, target, version: '1.1' });
  });

  it.each([
    ['HTTP/1.1', '1.1'],
    ['HTTP/1.0', '1.0'],
    // RFC 9110 §2.5: a higher minor of a major we implement is processed as our highest minor.
    ['HTTP/1.2', '1.1'],
    ['HTTP/1.9', '1.1'],
  ])('reads %s as %s', (version, expected) => {
    const r = request(`GET / ${version}\r\nHost: a\r\n\r\n`);
    expect(firstHead(r)).toMatchObject({ version: expected });
  });

  it('reads HTTP/1.2 as 1.1 for the Host rule too', () => {
    expectRemoteError(request('GET / HTTP/1.2\r\n\r\n'), 'H1_MISSING_HOST', 400);
  });

  it('accepts a target exactly maxTargetLength long', () => {
    const target = `/${'a'.repeat(15)}`;
    const r = request(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`, { maxTargetLength: 16 });
    expect(firstHead(r)).toMatchObject({ target });
  });

  it.each<Rejection>([
    ['a non-tchar in the method', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_METHOD', 400],
    ['obs-text in the method', 'G\xc9T / HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_METHOD', 400],
    ['an empty method', ' / HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_METHOD', 400],
    ['HTAB instead of SP', 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_METHOD', 400],
    ['two SPs after the method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_REQUEST_LINE', 400],
    ['two SPs before the version', 'GET /  HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['a SP after the version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['no version', 'GET /\r\nHost: a\r\n\r\n', 'H1_INVALID_REQUEST_LINE', 400],
    ['a method alone', 'GET\r\nHost: a\r\n\r\n', 'H1_INVALID_REQUEST_LINE', 400],
    ['a relative target', 'GET a/b HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['obs-text in the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['a NUL in the target', 'GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_REQUEST_LINE', 400],
    ['asterisk-form for GET', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['"*x" for OPTIONS', 'OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['origin-form for CONNECT', 'CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['CONNECT without a port', 'CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['CONNECT with an empty port', 'CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['absolute-form for CONNECT', 'CONNECT http://example.com:443/ HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['authority-form (IPv4) for GET', 'GET 127.0.0.1:80 HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['authority-form (IPv6) for GET', 'GET [::1]:80 HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_TARGET', 400],
    ['a target one byte over the limit', `GET /${'a'.repeat(16)} HTTP/1.1\r\nHost: a\r\n\r\n`, 'H1_TARGET_TOO_LONG', 414, { maxTargetLength: 16 }],
    ['a request line far over the limit', `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`, 'H1_TARGET_TOO_LONG', 414, { maxTargetLength: 16 }],
    ['a request line over the limit and never ended', `GET /${'a'.repeat(100)}`, 'H1_TARGET_TOO_LONG', 414, { maxTargetLength: 16 }],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 'H1_UNSUPPORTED_VERSION', 505],
    ['HTTP/3.0', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n', 'H1_UNSUPPORTED_VERSION', 505],
    ['HTTP/0.9', 'GET / HTTP/0.9\r\nHost: a\r\n\r\n', 'H1_UNSUPPORTED_VERSION', 505],
    // RFC 9112 §2.3: HTTP-name is case-sensitive.
    ['a lower-case HTTP-name', 'GET / http/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['a version without a minor', 'GET / HTTP/1\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['a two-digit minor', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['a version without a dot', 'GET / HTTP/11\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['a letter as minor', 'GET / HTTP/1.x\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['another protocol name', 'GET / FOO/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 400],
    ['a NUL after the version', 'GET / HTTP/1.1\x00\r\nHost: a\r\n\r\n', 'H1_INVALID_REQUEST_LINE', 400],
  ])('refuses %s', (_name, input, code, status, options) => {
    expectRemoteError(request(input, options), code, status);
  });

  it('tolerates CRLFs before the first request line, and between pipelined requests (RFC 9112 §2.2)', () => {
    const r = request('\r\n\r\n\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(brief(r.events)).toEqual(['request GET /a 1.1', 'end', 'request GET /b 1.1', 'end']);
  });

  it('reports a clean close after only leading CRLFs, and a truncated head as incomplete', () => {
    const clean = expectSameAtEverySplit('server', '\r\n\r\n', { eof: true });
    expect(brief(clean.events)).toEqual(['closed']);
    const truncated = expectSameAtEverySplit('server', 'GET / HTTP/1.1\r\nHost: a\r\n', { eof: true });
    expectRemoteError(truncated, 'H1_INCOMPLETE_MESSAGE', 400);
  });
});

describe('status-line (RFC 9112 §4)', () => {
  it.each<[line: string, status: number, reason: string, version: string]>([
    ['HTTP/1.1 200 OK', 200, 'OK', '1.1'],
    ['HTTP/1.1 404 Not Found', 404, 'Not Found', '1.1'],
    // The SP before an empty reason is often left out; RFC 9112 §4 recipients should accept it.
    ['HTTP/1.1 200', 200, '', '1.1'],
    ['HTTP/1.1 200 ', 200, '', '1.1'],
    ['HTTP/1.1 200 a\tb  c', 200, 'a\tb  c', '1.1'],
    ['HTTP/1.1 200 caf\xe9 \xff', 200, 'caf\xe9 \xff', '1.1'],
    ['HTTP/1.0 200 OK', 200, 'OK', '1.0'],
    ['HTTP/1.2 200 OK', 200, 'OK', '1.1'],
    ['HTTP/1.1 599 Whatever', 599, 'Whatever', '1.1'],
    // status-code = 3DIGIT: codes without a defined meaning are still status codes.
    ['HTTP/1.1 999 Odd', 999, 'Odd', '1.1'],
  ])('reads %j', (line, status, reason, version) => {
    const r = response(`${line}\r\nContent-Length: 0\r\n\r\n`);
    expect(firstHead(r)).toEqual({ type: 'response', status, reason, version, headers: ['Content-Length', '0'] });
    expect(brief(r.events)).toEqual([`response ${status} ${version}`, 'end']);
  });

  it('reads informational responses before the final one', () => {
    const r = response('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(brief(r.events)).toEqual(['informational-response 100 1.1', 'informational-response 103 1.1', 'response 200 1.1', 'end']);
  });

  it('tolerates CRLFs before the status line', () => {
    const r = response('\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
    expect(brief(r.events)).toEqual(['response 204 1.1', 'end']);
  });

  it.each<Rejection>([
    ['a two-digit status', 'HTTP/1.1 20 OK', 'H1_INVALID_STATUS_LINE', 502],
    ['a four-digit status', 'HTTP/1.1 2000 OK', 'H1_INVALID_STATUS_LINE', 502],
    ['a status below 100', 'HTTP/1.1 099 OK', 'H1_INVALID_STATUS_LINE', 502],
    ['letters as status', 'HTTP/1.1 2OO OK', 'H1_INVALID_STATUS_LINE', 502],
    ['no SP between status and reason', 'HTTP/1.1 200OK', 'H1_INVALID_STATUS_LINE', 502],
    ['two SPs before the status', 'HTTP/1.1  200 OK', 'H1_INVALID_STATUS_LINE', 502],
    ['no status at all', 'HTTP/1.1', 'H1_INVALID_STATUS_LINE', 502],
    ['a lower-case HTTP-name', 'http/1.1 200 OK', 'H1_INVALID_STATUS_LINE', 502],
    ['"HTTP/2" without a minor', 'HTTP/2 200 OK', 'H1_INVALID_STATUS_LINE', 502],
    ['a NUL in the reason', 'HTTP/1.1 200 O\x00K', 'H1_INVALID_STATUS_LINE', 502],
    ['a DEL in the reason', 'HTTP/1.1 200 O\x7fK', 'H1_INVALID_STATUS_LINE', 502],
    ['HTTP/2.0', 'HTTP/2.0 200 OK', 'H1_UNSUPPORTED_VERSION', 502],
  ])('refuses %s', (_name, line, code, status) => {
    expectRemoteError(response(`${line}\r\nContent-Length: 0\r\n\r\n`), code, status);
  });
});

describe('field lines (RFC 9112 §5, RFC 9110 §5)', () => {
  const head = (fields: string): string => `GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`;

  it('accepts every tchar in a field name and keeps it as sent', () => {
    const name = "X-a_b.c!#$%&'*+^`|~9";
    const r = request(head(`${name}: v\r\n`));
    expect(firstHead(r)).toMatchObject({ headers: ['Host', 'a', name, 'v'] });
  });

  it.each<Rejection>([
    ['a non-tchar in a name', head('Bad(Name): v\r\n'), 'H1_INVALID_HEADER_NAME', 400],
    ['a quoted name', head('"q": v\r\n'), 'H1_INVALID_HEADER_NAME', 400],
    ['obs-text in a name', head('Na\xefve: v\r\n'), 'H1_INVALID_HEADER_NAME', 400],
    ['an empty name', head(': v\r\n'), 'H1_INVALID_HEADER_NAME', 400],
    ['a line without a colon', head('NoColon\r\n'), 'H1_INVALID_HEADER_NAME', 400],
    // Whitespace inside a name is not whitespace before the colon: just an invalid name.
    ['a SP inside a name', head('Bad Name: v\r\n'), 'H1_INVALID_HEADER_NAME', 400],
    ['a SP inside a name, no colon', head('Bad Name\r\n'), 'H1_INVALID_HEADER_NAME', 400],
    // RFC 9112 §5.1: no whitespace between field name and colon; a server MUST reject it with 400.
    ['a SP before the colon', head('Foo : v\r\n'), 'H1_WHITESPACE_BEFORE_COLON', 400],
    ['an HTAB before the colon', head('Foo\t: v\r\n'), 'H1_WHITESPACE_BEFORE_COLON', 400],
    ['whitespace before the colon of Host', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'H1_WHITESPACE_BEFORE_COLON', 400],
    // RFC 9112 §5.2: obs-fold outside message/http is refused with 400.
    ['obs-fold with SP', head('X: a\r\n b\r\n'), 'H1_OBS_FOLD', 400],
    ['obs-fold with HTAB', head('X: a\r\n\tb\r\n'), 'H1_OBS_FOLD', 400],
    // RFC 9112 §2.2: whitespace between the start line and the first field line.
    ['whitespace before the first field line', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 'H1_OBS_FOLD', 400],
    ['a NUL in a value', head('X: a\x00b\r\n'), 'H1_INVALID_HEADER_VALUE', 400],
    ['a CR alone in a value', head('X: a\rb\r\n'), 'H1_BARE_CR', 400],
    ['a CR before the CRLF', head('X: a\r\r\n'), 'H1_BARE_CR', 400],
    ['a LF in a value', head('X: a\nb\r\n'), 'H1_BARE_LF', 400],
    ...[0x01, 0x08, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f, 0x7f].map(
      (c): Rejection => [`control 0x${c.toString(16)} in a value`, head(`X: a${String.fromCharCode(c)}b\r\n`), 'H1_INVALID_HEADER_VALUE', 400],
    ),
  ])('refuses %s', (_name, input, code, status, options) => {
    expectRemoteError(request(input, options), code, status);
  });

  it('refuses obs-fold in a response too', () => {
    expectRemoteError(response('HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n'), 'H1_OBS_FOLD', 502);
  });

  it('refuses a NUL in a response field value', () => {
    expectRemoteError(response('HTTP/1.1 200 OK\r\nX: \x00\r\nContent-Length: 0\r\n\r\n'), 'H1_INVALID_HEADER_VALUE', 502);
  });

  it.each([
    ['SPs', 'X:   a b  ', 'a b'],
    ['HTABs and SPs', 'X:\t \ta\tb\t ', 'a\tb'],
    ['no OWS', 'X:a', 'a'],
    ['an empty value', 'X:', ''],
    ['a value of only OWS', 'X: \t ', ''],
  ])('trims OWS around a value (%s) and keeps it inside', (_name, line, value) => {
    const r = request(head(`${line}\r\n`));
    expect(firstHead(r)).toMatchObject({ headers: ['Host', 'a', 'X', value] });
  });

  it('keeps obs-text (0x80–0xFF) in values as latin1, one character per octet', () => {
    const r = request(head('X: caf\xe9 \x80\xff\r\n'));
    const value = firstHead(r).headers[3]!;
    expect([...value].map((c) => c.charCodeAt(0))).toEqual([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80, 0xff]);
  });

  it('preserves name case in headers.raw and looks names up case-insensitively', () => {
    const input = head('X-MiXeD: V\r\nx-mixed: w\r\nCONTENT-length: 0\r\n');
    const r = request(input);
    expect(firstHead(r).headers).toEqual(['Host', 'a', 'X-MiXeD', 'V', 'x-mixed', 'w', 'CONTENT-length', '0']);
    const conn = new Connection('server');
    conn.receiveData(bytes(input));
    const event = conn.nextEvent();
    if (typeof event === 'symbol' || event.type !== 'request') throw new Error('expected a request');
    expect(event.headers.get('x-mixed')).toBe('V, w');
    expect(event.headers.get('X-MIXED')).toBe('V, w');
    expect(event.headers.getAll('X-Mixed')).toEqual(['V', 'w']);
    expect(event.headers.get('content-length')).toBe('0');
    expect(event.headers.get('host')).toBe('a');
    expect(event.headers.get('missing')).toBeUndefined();
  });

  describe('bare LF (RFC 9112 §2.2)', () => {
    const lf = 'GET / HTTP/1.1\nHost: a\nX: b\n\n';

    it('is refused by default', () => {
      expectRemoteError(request(lf), 'H1_BARE_LF', 400);
    });

    it.each([
      ['in the request line only', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
      ['on the final empty line only', 'GET / HTTP/1.1\r\nHost: a\r\n\n'],
      ['before the request line', '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ])('is refused by default %s', (_name, input) => {
      expectRemoteError(request(input), 'H1_BARE_LF', 400);
    });

    it('is refused in a status line by default', () => {
      expectRemoteError(response('HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n'), 'H1_BARE_LF', 502);
    });

    it('is accepted with allowBareLf, alone or mixed with CRLF, without leaving a CR in values', () => {
      const bare = request(lf, { allowBareLf: true });
      expect(firstHead(bare)).toMatchObject({ method: 'GET', target: '/', version: '1.1', headers: ['Host', 'a', 'X', 'b'] });
      const mixed = request('\nGET / HTTP/1.1\r\nHost: a\nX: b\r\n\n', { allowBareLf: true });
      expect(mixed.events).toEqual(bare.events);
      const status = response('HTTP/1.1 200 OK\nX: b\nContent-Length: 0\n\n', { allowBareLf: true });
      expect(firstHead(status)).toEqual({ type: 'response', status: 200, reason: 'OK', version: '1.1', headers: ['X', 'b', 'Content-Length', '0'] });
    });

    it('still refuses a bare CR with allowBareLf', () => {
      expectRemoteError(request('GET / HTTP/1.1\r\nHost: a\rX: b\n\n', { allowBareLf: true }), 'H1_BARE_CR', 400);
    });
  });

  describe('limits (431)', () => {
    const withFields = (n: number): string => head(Array.from({ length: n - 1 }, (_, i) => `X-${i}: v\r\n`).join(''));

    it('accepts exactly maxHeaderCount field lines and refuses one more', () => {
      const ok = request(withFields(4), { maxHeaderCount: 4 });
      expect(firstHead(ok).headers).toHaveLength(8);
      expectRemoteError(request(withFields(5), { maxHeaderCount: 4 }), 'H1_TOO_MANY_HEADERS', 431);
    });

    it('accepts a head of exactly maxHeadBytes (final CRLF included) and refuses one byte more', () => {
      const input = head(`X: ${'v'.repeat(40)}\r\n`);
      const ok = request(input, { maxHeadBytes: input.length });
      expect(firstHead(ok)).toMatchObject({ headers: ['Host', 'a', 'X', 'v'.repeat(40)] });
      expectRemoteError(request(input, { maxHeadBytes: input.length - 1 }), 'H1_HEADERS_TOO_LARGE', 431);
    });

    it('refuses a head that never ends as soon as it passes maxHeadBytes', () => {
      expectRemoteError(request(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(100)}`, { maxHeadBytes: 64 }), 'H1_HEADERS_TOO_LARGE', 431);
    });

    it('applies the limits to the head only, not to the body or the next request', () => {
      const input = `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n${'b'.repeat(100)}GET / HTTP/1.1\r\nHost: a\r\n\r\n`;
      const r = request(input, { maxHeadBytes: 60, maxHeaderCount: 2 });
      expect(brief(r.events)).toEqual(['request POST / 1.1', `data "${'b'.repeat(100)}"`, 'end', 'request GET / 1.1', 'end']);
    });

    // Regression: the line that crosses maxHeadBytes gave H1_OBS_FOLD / H1_TOO_MANY_HEADERS when it
    // arrived whole but H1_HEADERS_TOO_LARGE when it arrived in pieces.
    it('gives the same error however the line crossing the limit is split', () => {
      const fold = request(`GET / HTTP/1.1\r\nHost: a\r\n ${'v'.repeat(60)}\r\n\r\n`, { maxHeadBytes: 40 });
      expectRemoteError(fold, 'H1_HEADERS_TOO_LARGE', 431);
      const count = request(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(60)}\r\n\r\n`, { maxHeadBytes: 40, maxHeaderCount: 1 });
      expectRemoteError(count, 'H1_HEADERS_TOO_LARGE', 431);
    });
  });
});

describe('Host (RFC 9112 §3.2)', () => {
  it.each([
    ['a name', 'example.com'],
    ['a name and port', 'example.com:8080'],
    ['an IPv4 address', '192.0.2.1:80'],
    ['an IPv6 literal', '[2001:db8::1]:443'],
    ['percent-encoding and sub-delims', 'ex%41mple!$&\'()*+,;=.com'],
    // RFC 9110 §7.2: an empty Host is what a client sends when the target URI has no authority.
    ['an empty value', ''],
  ])('accepts %s', (_name, host) => {
    const r = request(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expect(firstHead(r)).toMatchObject({ headers: ['Host', host] });
  });

  it.each<Rejection>([
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nX: a\r\n\r\n', 'H1_MISSING_HOST', 400],
    ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', 'H1_DUPLICATE_HOST', 400],
    ['two Host lines in different case', 'GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n', 'H1_DUPLICATE_HOST', 400],
    ['two Host lines in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', 'H1_DUPLICATE_HOST', 400],
    ['a SP in Host', 'GET / HTTP/1.1\r\nHost: exa mple\r\n\r\n', 'H1_INVALID_HOST', 400],
    ['a list in Host', 'GET / HTTP/1.1\r\nHost: a, b\r\n\r\n', 'H1_INVALID_HOST', 400],
    ['a path in Host', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 'H1_INVALID_HOST', 400],
    ['userinfo in Host', 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', 'H1_INVALID_HOST', 400],
    ['a non-numeric port', 'GET / HTTP/1.1\r\nHost: a:http\r\n\r\n', 'H1_INVALID_HOST', 400],
    ['an unclosed IPv6 literal', 'GET / HTTP/1.1\r\nHost: [::1:80\r\n\r\n', 'H1_INVALID_HOST', 400],
    ['obs-text in Host', 'GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n', 'H1_INVALID_HOST', 400],
  ])('refuses %s', (_name, input, code, status) => {
    expectRemoteError(request(input), code, status);
  });

  it('does not require Host in HTTP/1.0', () => {
    const r = request('GET / HTTP/1.0\r\n\r\n');
    expect(brief(r.events)).toEqual(['request GET / 1.0', 'end']);
  });

  describe('requireHostHeader: false', () => {
    it('accepts an HTTP/1.1 request without Host', () => {
      const r = request('GET / HTTP/1.1\r\nX: a\r\n\r\n', { requireHostHeader: false });
      expect(brief(r.events)).toEqual(['request GET / 1.1', 'end']);
    });

    it.each<Rejection>([
      ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'H1_DUPLICATE_HOST', 400],
      ['a SP in Host', 'GET / HTTP/1.1\r\nHost: exa mple\r\n\r\n', 'H1_INVALID_HOST', 400],
    ])('still refuses %s', (_name, input, code, status) => {
      expectRemoteError(request(input, { requireHostHeader: false }), code, status);
    });
  });
});

describe('after an error', () => {
  it('never resynchronises: the same error object, whatever arrives next', () => {
    const r = request('GET / HTTP/1.1\r\nHost : a\r\n\r\n');
    const err = expectRemoteError(r, 'H1_WHITESPACE_BEFORE_COLON', 400);
    r.conn.receiveEof();
    expect(() => r.conn.nextEvent()).toThrow(err);
    expect(err.name).toBe('RemoteProtocolError');
  });

  it('keeps the events that came before the error', () => {
    const r = request('GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect(brief(r.events)).toEqual(['request GET /a 1.1', 'end']);
    expectRemoteError(r, 'H1_DUPLICATE_HOST', 400);
  });
});
