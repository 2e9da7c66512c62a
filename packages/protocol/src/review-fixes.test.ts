/**
 * Regression tests for the review findings M2, M3, M5 and the API/duplication items, each named
 * for what was wrong. Every test here failed before its fix (except the formatKeepAlive one,
 * which pins a documented behaviour that did not change).
 */

import { describe, expect, it } from 'vitest';
import * as abnf from './abnf.js';
import { FIELD_VALUE_CHAR, TCHAR } from './abnf.js';
import { decideFraming, isRefusal } from './framing.js';
import type { Framing, FramingRefusal } from './framing.js';
import * as api from './index.js';
import { Connection, Fields, LOCAL_ERRORS, LocalProtocolError, RemoteProtocolError, formatKeepAlive, resolveLimits, validateField, writeRequestHead } from './index.js';
import type { ParserOptions } from './index.js';
import { bytes, drain } from './testing.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

function localCode(f: () => unknown): string | undefined {
  const err = thrown(f);
  expect(err).toBeInstanceOf(LocalProtocolError);
  return (err as LocalProtocolError).code;
}

function req(te: readonly string[]): Framing | FramingRefusal {
  return decideFraming({ kind: 'request', version: '1.1', contentLength: undefined, transferEncoding: te });
}

function res(te: readonly string[]): Framing | FramingRefusal {
  return decideFraming({ kind: 'response', version: '1.1', requestMethod: 'GET', status: 200, contentLength: undefined, transferEncoding: te });
}

const refused = (f: Framing | FramingRefusal): string => (isRefusal(f) ? f.refused : f.kind);

/** What a server does with `Transfer-Encoding: <te>` on a POST: the request, or the error code and status. */
function serverReads(te: string): string {
  const s = new Connection('server');
  s.receiveData(bytes(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`));
  const err = thrown(() => drain(s));
  if (err === undefined) return 'accepted';
  expect(err).toBeInstanceOf(RemoteProtocolError);
  return `${(err as RemoteProtocolError).code} ${(err as RemoteProtocolError).status}`;
}

describe('M3: a request is framed only by exactly "chunked"', () => {
  it.each([
    ['chunked'],
    ['Chunked'],
    ['CHUNKED'],
    [' chunked '],
    ['\tchunked'],
  ])('accepts %j', (te) => {
    expect(serverReads(te)).toBe('accepted');
  });

  it.each([
    // Final coding chunked, others before it: tether decodes none, so the body would reach the
    // application still gzip-coded (RFC 9112 §6.1: 501 for a coding the server does not understand).
    ['gzip, chunked', 'H1_UNSUPPORTED_TRANSFER_CODING 501'],
    ['deflate,chunked', 'H1_UNSUPPORTED_TRANSFER_CODING 501'],
    ['x-custom, chunked', 'H1_UNSUPPORTED_TRANSFER_CODING 501'],
    // Final coding not chunked: the length cannot be determined (RFC 9112 §6.3 item 4: 400).
    ['x', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    ['identity', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    ['chunked, gzip', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    // Elements that are not a bare coding name: parameters (chunked has none, RFC 9112 §7.1) or
    // malformed syntax.
    ['chunked;q=1', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    ['gzip;level=1, chunked', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    ['chunked=1', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    ['"chunked"', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    ['\xa0chunked', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    ['chunked\xa0', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
    // Empty list elements: a Transfer-Encoding obfuscation, refused (framing.ts, transferCodings).
    [', chunked ,', 'H1_TRANSFER_ENCODING_NOT_CHUNKED 400'],
  ])('refuses %j', (te, outcome) => {
    expect(serverReads(te)).toBe(outcome);
  });

  it('gzip then chunked on two field lines is refused like the one-line list', () => {
    expect(refused(req(['gzip', 'chunked']))).toBe('H1_UNSUPPORTED_TRANSFER_CODING');
  });

  it('a comma inside a quoted parameter does not split the list (request and response)', () => {
    // Naive split(',') read `gzip;x=",chunked"` as the codings gzip and chunked.
    expect(refused(req(['gzip;x=",chunked"']))).toBe('H1_TRANSFER_ENCODING_NOT_CHUNKED');
    expect(refused(res(['gzip;x=",chunked"']))).toBe('H1_TRANSFER_ENCODING_NOT_CHUNKED');
    expect(refused(res(['gzip;x="a,chunked"']))).not.toBe('chunked');
  });

  it('responses keep their rules: chunked last is chunked, otherwise read until close', () => {
    expect(refused(res(['gzip, chunked']))).toBe('chunked');
    expect(refused(res(['x-custom', 'chunked']))).toBe('chunked');
    expect(refused(res(['chunked, gzip']))).toBe('until-close');
    expect(refused(res(['identity']))).toBe('until-close');
    expect(refused(res(['']))).toBe('H1_TRANSFER_ENCODING_NOT_CHUNKED');
    expect(refused(res(['chunked;x=1']))).toBe('H1_TRANSFER_ENCODING_NOT_CHUNKED');
  });

  it('a client refuses to send a request with Transfer-Encoding gzip, chunked (its own parser would refuse it)', () => {
    const c = new Connection('client');
    expect(localCode(() => c.send({ type: 'request', method: 'POST', target: '/', headers: { Host: 'a', 'Transfer-Encoding': 'gzip, chunked' } }))).toBe('H1_FRAMING_HEADERS_NOT_ALLOWED');
    expect(c.ourState).toBe('IDLE');
    const ok = text(c.send({ type: 'request', method: 'POST', target: '/', headers: { Host: 'a', 'Transfer-Encoding': 'chunked' } })[0]!);
    expect(ok).toContain('\r\nTransfer-Encoding: chunked\r\n');
  });
});

describe('M2: the writer refuses what the reader refuses', () => {
  it.each([
    ['GET', '/', null],
    ['GET', 'http://a/x', null],
    ['OPTIONS', '*', null],
    ['CONNECT', 'example.com:443', null],
    ['CONNECT', '[::1]:443', null],
    ['GET', '*', 'asterisk'],
    ['CONNECT', '/', 'authority'],
    ['CONNECT', 'example.com', 'authority'],
    ['GET', '1a:b', 'invalid'],
    ['GET', 'a', 'invalid'],
  ] as const)('requestTargetProblem(%s, %j)', (method, target, problem) => {
    const got = abnf.requestTargetProblem(method, target);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toMatch(new RegExp(problem, 'i'));
  });

  it.each([
    ['GET', '*'],
    ['CONNECT', '/'],
    ['CONNECT', 'example.com'],
    ['GET', '1a:b'],
    ['GET', 'index.html'],
  ])('%s %s is refused when sent, as it is when received', (method, target) => {
    const c = new Connection('client');
    expect(localCode(() => c.send({ type: 'request', method, target, headers: { Host: 'a' } }))).toBe('H1_INVALID_TARGET');
    expect(c.ourState).toBe('IDLE');
    expect(localCode(() => writeRequestHead(method, target, new Fields(['Host', 'a'])))).toBe('H1_INVALID_TARGET');
    const s = new Connection('server');
    s.receiveData(bytes(`${method} ${target} HTTP/1.1\r\nHost: a\r\n\r\n`));
    expect(thrown(() => drain(s))).toMatchObject({ name: 'RemoteProtocolError', code: 'H1_INVALID_TARGET', status: 400 });
  });

  it.each(['Content-Length', 'transfer-encoding', 'Host', 'Trailer', 'Connection', 'Keep-Alive', 'TE', 'Upgrade', 'Proxy-Connection'])(
    'a sent trailer section may not carry %s (RFC 9110 §6.5.1)',
    (name) => {
      const c = new Connection('client');
      c.send({ type: 'request', method: 'POST', target: '/', headers: { Host: 'a' } }, { streaming: true });
      c.send({ type: 'data', data: bytes('abc') });
      expect(localCode(() => c.send({ type: 'end-of-message', trailers: { [name]: '1' } }))).toBe('H1_FRAMING_HEADERS_NOT_ALLOWED');
      // Nothing was emitted: the message can still be ended properly.
      expect(c.ourState).toBe('SEND_BODY');
      expect(text(c.send({ type: 'end-of-message', trailers: { 'X-Checksum': 'abc' } })[0]!)).toBe('0\r\nX-Checksum: abc\r\n\r\n');
    },
  );
});

describe('M5: resolveLimits validates its options', () => {
  it.each<[string, ParserOptions]>([
    ['zero maxHeadBytes', { maxHeadBytes: 0 }],
    ['negative maxHeaderCount', { maxHeaderCount: -1 }],
    ['fractional maxTargetLength', { maxTargetLength: 1.5 }],
    ['NaN maxChunkSizeDigits', { maxChunkSizeDigits: Number.NaN }],
    ['Infinity maxChunkExtensionBytes', { maxChunkExtensionBytes: Number.POSITIVE_INFINITY }],
    ['unsafe maxHeadBytes', { maxHeadBytes: 2 ** 53 }],
    ['zero maxBodySize', { maxBodySize: 0 }],
    ['negative maxBodySize', { maxBodySize: -5 }],
    ['a string limit', { maxHeadBytes: '100' as unknown as number }],
    ['a non-boolean allowBareLf', { allowBareLf: 'yes' as unknown as boolean }],
    ['a non-boolean requireHostHeader', { requireHostHeader: 0 as unknown as boolean }],
  ])('refuses %s with H1_INVALID_OPTION', (_name, options) => {
    expect(localCode(() => resolveLimits(options))).toBe('H1_INVALID_OPTION');
    expect(localCode(() => new Connection('server', options))).toBe('H1_INVALID_OPTION');
  });

  it('accepts positive safe integers, Infinity for maxBodySize, and undefined for a default', () => {
    expect(resolveLimits({ maxBodySize: Number.POSITIVE_INFINITY, maxHeadBytes: 1, allowBareLf: true, maxTargetLength: undefined as unknown as number })).toMatchObject({
      maxBodySize: Number.POSITIVE_INFINITY,
      maxHeadBytes: 1,
      allowBareLf: true,
      maxTargetLength: api.DEFAULT_MAX_TARGET_LENGTH,
    });
    expect(LOCAL_ERRORS).toContain('H1_INVALID_OPTION');
  });
});

describe('API: the exported validators agree', () => {
  it('isReasonPhrase is exported', () => {
    expect(api.isReasonPhrase).toBe(abnf.isReasonPhrase);
    expect(api.isReasonPhrase('Not Found')).toBe(true);
    expect(api.isReasonPhrase('OK\r\n')).toBe(false);
  });

  it.each([' a', 'a ', '\ta', 'a\t', ' ', 'a b', '', 'ok', 'caf\xe9', 'a\r\nb', 'a\0'])('validateField and isFieldValue agree on %j', (value) => {
    const accepted = thrown(() => validateField('X-Test', value)) === undefined;
    expect(accepted).toBe(api.isFieldValue(value));
  });

  it('validateField agrees with isToken on names', () => {
    for (const name of ['X-Test', '', 'a b', 'a:b', 'caf\xe9']) {
      expect(thrown(() => validateField(name, 'v')) === undefined).toBe(api.isToken(name));
    }
  });
});

describe('duplication: one grammar, one place', () => {
  it('the token and field-value regular expressions agree with the tables for all 256 octets', () => {
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      expect(abnf.TOKEN_PATTERN.test(ch), `0x${c.toString(16)}`).toBe(TCHAR[c] === 1);
      expect(abnf.NOT_FIELD_VALUE_CHAR.test(ch), `0x${c.toString(16)}`).toBe(FIELD_VALUE_CHAR[c] === 0);
    }
    // Beyond latin1, nothing is a tchar or a field-value octet.
    expect(abnf.TOKEN_PATTERN.test('\u0100')).toBe(false);
    expect(abnf.NOT_FIELD_VALUE_CHAR.test('\u2028')).toBe(true);
  });

  it('DIGITS is shared from abnf.ts', () => {
    expect(abnf.DIGITS.test('0123456789')).toBe(true);
    expect(abnf.DIGITS.test('')).toBe(false);
    expect(abnf.DIGITS.test('1a')).toBe(false);
  });
});

describe('formatKeepAlive', () => {
  it('throws RangeError (argument validation, not a protocol error) on bad input', () => {
    expect(() => formatKeepAlive({ timeout: -1 })).toThrow(RangeError);
    expect(() => formatKeepAlive({ extensions: [['a b', null]] })).toThrow(RangeError);
  });
});
