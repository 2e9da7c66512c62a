/** decideSendFraming: what a head we write must say about its body (RFC 9112 §6, RFC 9110 §8.6). */
import { describe, expect, it } from 'vitest';
import { decideSendFraming, isRefusal } from './index.js';
import type { SendFramingInput } from './index.js';

const response = (m: Partial<SendFramingInput>): SendFramingInput => ({ kind: 'response', peerVersion: '1.1', requestMethod: 'GET', status: 200, contentLength: undefined, transferEncoding: undefined, ...m });
const request = (m: Partial<SendFramingInput>): SendFramingInput => ({ kind: 'request', contentLength: undefined, transferEncoding: undefined, ...m });

describe('decideSendFraming', () => {
  it.each<[string, SendFramingInput, string, number, boolean, readonly [string, string] | null]>([
    ['known length → Content-Length', response({ bodyLength: 5 }), 'length', 5, false, ['Content-Length', '5']],
    ['streaming to HTTP/1.1 → chunked', response({}), 'chunked', 0, false, ['Transfer-Encoding', 'chunked']],
    ['streaming to HTTP/1.0 → until close, which closes', response({ peerVersion: '1.0' }), 'until-close', 0, true, null],
    ['the caller framed it: nothing added', response({ contentLength: ['3'] }), 'length', 3, false, null],
    ['HEAD: no body, nothing added', response({ requestMethod: 'HEAD', bodyLength: 10 }), 'none', 0, false, null],
    ['304: no body', response({ status: 304 }), 'none', 0, false, null],
    ['205: Content-Length: 0', response({ status: 205 }), 'none', 0, false, ['Content-Length', '0']],
    ['CONNECT 200: a tunnel', response({ requestMethod: 'CONNECT' }), 'tunnel', 0, false, null],
    ['a request without body: none', request({}), 'none', 0, false, null],
    ['a streamed request: chunked', request({ streaming: true }), 'chunked', 0, false, ['Transfer-Encoding', 'chunked']],
    ['a request with a known length', request({ bodyLength: 2 }), 'length', 2, false, ['Content-Length', '2']],
    // RFC 9110 §9.3.6, §8.6: a CONNECT request has no content, and says nothing about it.
    ['a CONNECT request: none', request({ requestMethod: 'CONNECT' }), 'none', 0, false, null],
    ['a CONNECT request with an empty body: nothing added', request({ requestMethod: 'CONNECT', bodyLength: 0 }), 'none', 0, false, null],
    ['a CONNECT request with the caller\'s Content-Length: 0', request({ requestMethod: 'CONNECT', contentLength: ['0'] }), 'none', 0, false, null],
  ])('%s', (_what, input, kind, length, mustClose, add) => {
    const f = decideSendFraming(input);
    if (isRefusal(f)) throw new Error(f.message);
    expect({ kind: f.kind, length: f.length, mustClose: f.mustClose, add: f.add }).toEqual({ kind, length, mustClose, add });
  });

  it.each<[string, SendFramingInput]>([
    ['Content-Length with Transfer-Encoding', response({ contentLength: ['1'], transferEncoding: ['chunked'] })],
    ['Transfer-Encoding to an HTTP/1.0 client', response({ peerVersion: '1.0', transferEncoding: ['chunked'] })],
    ['Content-Length on a 204', response({ status: 204, contentLength: ['0'] })],
    ['Transfer-Encoding on a 1xx', response({ status: 103, transferEncoding: ['chunked'] })],
    ['a request coding tether cannot frame', request({ transferEncoding: ['gzip, chunked'] })],
    ['a CONNECT request with Content-Length: 10', request({ requestMethod: 'CONNECT', contentLength: ['10'] })],
    ['a CONNECT request with Transfer-Encoding', request({ requestMethod: 'CONNECT', transferEncoding: ['chunked'] })],
    ['a CONNECT request with a body', request({ requestMethod: 'CONNECT', bodyLength: 10 })],
    ['a streamed CONNECT request', request({ requestMethod: 'CONNECT', streaming: true })],
    // A Transfer-Encoding with an empty list element: its recipients disagree on its framing.
    ['a request with Transfer-Encoding "chunked,"', request({ transferEncoding: ['chunked,'] })],
    ['a response with Transfer-Encoding ",chunked"', response({ transferEncoding: [',chunked'] })],
    ['a response with an empty Transfer-Encoding', response({ transferEncoding: [''] })],
  ])('refuses %s', (_what, input) => {
    expect(isRefusal(decideSendFraming(input))).toBe(true);
  });

  it('a CONNECT body is refused as a body (H1_BODY_NOT_ALLOWED), its framing fields as framing', () => {
    const body = decideSendFraming(request({ requestMethod: 'CONNECT', bodyLength: 10 }));
    const field = decideSendFraming(request({ requestMethod: 'CONNECT', contentLength: ['10'] }));
    expect(isRefusal(body) && { refused: body.refused, local: body.local }).toEqual({ refused: 'H1_CONNECT_WITH_CONTENT', local: 'H1_BODY_NOT_ALLOWED' });
    expect(isRefusal(field) && { refused: field.refused, local: field.local }).toEqual({ refused: 'H1_CONNECT_WITH_CONTENT', local: undefined });
  });
});
