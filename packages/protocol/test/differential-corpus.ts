/**
 * Theory of operation: the corpus of the differential test (differential.test.ts), valid and
 * invalid HTTP/1.1 messages fed both to tether and to Node's llhttp. Each item is one byte
 * stream (latin1 text) that a server reads (`request`) or a client reads after sending requests
 * with the listed methods (`response`). Ids are stable: DIFFERENTIAL.md and the test's
 * `expectedDisagreements` refer to them, so append new items rather than renumbering.
 *
 * Groups (id prefix): rl request line · tgt request-target · meth method · ver version ·
 * hdr field syntax · fold obs-fold · lf bare LF · cr bare CR · nul NUL/controls · cl
 * Content-Length · te Transfer-Encoding · chk chunked coding · host Host rules · long limits ·
 * lead empty lines before a message · conn persistence and upgrades · pipe pipelining · st status
 * line · rsp response framing (1xx/204/304/HEAD/until-close/CONNECT).
 */

/** One input of the differential test. */
export interface CorpusItem {
  readonly id: string;
  /** `request`: parsed by a server; `response`: parsed by a client that sent `requests`. */
  readonly kind: 'request' | 'response';
  /** The bytes, one octet per character. */
  readonly input: string;
  /**
   * Response items: the requests the client sent, oldest first (default one GET). `UPGRADE` is
   * a GET with `Connection: upgrade` and `Upgrade: websocket`.
   */
  readonly requests?: readonly string[];
  /** What the case probes, for the report. */
  readonly note: string;
}

const items: CorpusItem[] = [];

function req(id: string, note: string, input: string): void {
  items.push({ id, kind: 'request', input, note });
}

function res(id: string, note: string, input: string, requests?: readonly string[]): void {
  items.push(requests === undefined ? { id, kind: 'response', input, note } : { id, kind: 'response', input, note, requests });
}

const H = 'Host: example.com\r\n';

// ------------------------------------------------------------------------------------------
// rl: request line (RFC 9112 §3)
req('rl-01', 'minimal valid GET', `GET / HTTP/1.1\r\n${H}\r\n`);
req('rl-02', 'two SP between method and target', `GET  / HTTP/1.1\r\n${H}\r\n`);
req('rl-03', 'two SP between target and version', `GET /  HTTP/1.1\r\n${H}\r\n`);
req('rl-04', 'SP after the version', `GET / HTTP/1.1 \r\n${H}\r\n`);
req('rl-05', 'HTAB as separator', `GET\t/\tHTTP/1.1\r\n${H}\r\n`);
req('rl-06', 'no version (HTTP/0.9 simple request)', 'GET /\r\n\r\n');
req('rl-07', 'no target', `GET HTTP/1.1\r\n${H}\r\n`);
req('rl-08', 'leading SP before the method', ` GET / HTTP/1.1\r\n${H}\r\n`);
req('rl-09', 'only a method', 'GET\r\n\r\n');
req('rl-10', 'request line of three SP-separated fields plus one more', `GET / HTTP/1.1 extra\r\n${H}\r\n`);
req('rl-11', 'truncated request line then EOF', 'GET / HTT');
req('rl-12', 'request line without the empty line (EOF after head fields)', `GET / HTTP/1.1\r\n${H}`);
req('rl-13', 'empty input', '');
req('rl-14', 'request line with NUL between fields', `GET\0/ HTTP/1.1\r\n${H}\r\n`);
req('rl-15', 'version with trailing garbage', `GET / HTTP/1.1x\r\n${H}\r\n`);

// ------------------------------------------------------------------------------------------
// tgt: request-target (RFC 9112 §3.2)
req('tgt-01', 'origin-form with query', `GET /a/b?c=d&e=f HTTP/1.1\r\n${H}\r\n`);
req('tgt-02', 'percent-encoded octets', `GET /%7Euser/a%20b HTTP/1.1\r\n${H}\r\n`);
req('tgt-03', 'absolute-form', `GET http://example.com/x?y HTTP/1.1\r\n${H}\r\n`);
req('tgt-04', 'asterisk-form with OPTIONS', `OPTIONS * HTTP/1.1\r\n${H}\r\n`);
req('tgt-05', 'asterisk-form with GET', `GET * HTTP/1.1\r\n${H}\r\n`);
req('tgt-06', 'authority-form with CONNECT', `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
req('tgt-07', 'CONNECT with origin-form', `CONNECT / HTTP/1.1\r\n${H}\r\n`);
req('tgt-08', 'CONNECT authority without port', `CONNECT example.com HTTP/1.1\r\n${H}\r\n`);
req('tgt-09', 'target starting with "?"', `GET ?x=1 HTTP/1.1\r\n${H}\r\n`);
req('tgt-10', 'relative path without leading slash', `GET index.html HTTP/1.1\r\n${H}\r\n`);
req('tgt-11', 'fragment in target', `GET /a#frag HTTP/1.1\r\n${H}\r\n`);
req('tgt-12', 'obs-text (0xE9) in target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`);
req('tgt-13', 'DEL in target', `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`);
req('tgt-14', 'DQUOTE in target', `GET /a"b HTTP/1.1\r\n${H}\r\n`);
req('tgt-15', 'curly braces, pipe, backslash, caret, backtick in target', `GET /{a}|b\\c^d\`e HTTP/1.1\r\n${H}\r\n`);
req('tgt-16', 'angle brackets in target', `GET /<script> HTTP/1.1\r\n${H}\r\n`);
req('tgt-17', 'absolute-form https with port and userinfo', `GET https://u:p@example.com:8443/x HTTP/1.1\r\n${H}\r\n`);
req('tgt-18', 'double slash path', `GET //a//b HTTP/1.1\r\n${H}\r\n`);
req('tgt-19', 'dot segments', `GET /a/../../etc/passwd HTTP/1.1\r\n${H}\r\n`);
req('tgt-20', 'HTAB inside target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`);
req('tgt-21', 'authority-form with an IPv6 literal', `CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n`);
req('tgt-22', 'OPTIONS with absolute-form', `OPTIONS http://example.com HTTP/1.1\r\n${H}\r\n`);

// ------------------------------------------------------------------------------------------
// meth: methods (RFC 9110 §9; method = token)
for (const [i, m] of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'M-SEARCH', 'PURGE', 'QUERY'].entries()) {
  req(`meth-${String(i + 1).padStart(2, '0')}`, `registered method ${m}`, `${m} / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`);
}
req('meth-13', 'unregistered method FOO', `FOO / HTTP/1.1\r\n${H}\r\n`);
req('meth-14', 'unregistered method BREW', `BREW /pot HTTP/1.1\r\n${H}\r\n`);
req('meth-15', 'lower-case get (methods are case-sensitive)', `get / HTTP/1.1\r\n${H}\r\n`);
req('meth-16', 'method with a non-tchar "@"', `G@T / HTTP/1.1\r\n${H}\r\n`);
req('meth-17', 'method with tchar punctuation', `X-Y_Z!~ / HTTP/1.1\r\n${H}\r\n`);
req('meth-18', 'HTTP/2 connection preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
req('meth-19', 'method prefix of a known one', `GE / HTTP/1.1\r\n${H}\r\n`);
req('meth-20', 'known method with a suffix', `GETX / HTTP/1.1\r\n${H}\r\n`);
req('meth-21', 'very long extension method', `${'A'.repeat(200)} / HTTP/1.1\r\n${H}\r\n`);
req('meth-22', 'obs-text in method', `G\xc9T / HTTP/1.1\r\n${H}\r\n`);

// ------------------------------------------------------------------------------------------
// ver: HTTP-version (RFC 9112 §2.3, RFC 9110 §2.5)
req('ver-01', 'HTTP/1.0 request', 'GET / HTTP/1.0\r\n\r\n');
req('ver-02', 'HTTP/1.2 (higher minor)', `GET / HTTP/1.2\r\n${H}\r\n`);
req('ver-03', 'HTTP/1.9', `GET / HTTP/1.9\r\n${H}\r\n`);
req('ver-04', 'HTTP/2.0 in an HTTP/1 request line', `GET / HTTP/2.0\r\n${H}\r\n`);
req('ver-05', 'HTTP/0.9 with a version field', 'GET / HTTP/0.9\r\n\r\n');
req('ver-06', 'HTTP/3.0', `GET / HTTP/3.0\r\n${H}\r\n`);
req('ver-07', 'HTTP/1.10 (two-digit minor)', `GET / HTTP/1.10\r\n${H}\r\n`);
req('ver-08', 'HTTP/1 (no minor)', `GET / HTTP/1\r\n${H}\r\n`);
req('ver-09', 'HTTP/11 (no dot)', `GET / HTTP/11\r\n${H}\r\n`);
req('ver-10', 'lower-case http/1.1', `GET / http/1.1\r\n${H}\r\n`);
req('ver-11', 'HTTPS/1.1', `GET / HTTPS/1.1\r\n${H}\r\n`);
req('ver-12', 'HTTP/1.x', `GET / HTTP/1.x\r\n${H}\r\n`);
req('ver-13', 'HTTP/01.1 (leading zero major)', `GET / HTTP/01.1\r\n${H}\r\n`);
req('ver-14', 'HTTP/1.1.1', `GET / HTTP/1.1.1\r\n${H}\r\n`);
res('ver-15', 'HTTP/1.0 response with Content-Length', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('ver-16', 'HTTP/1.2 response', 'HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('ver-17', 'HTTP/2.0 in a response status line', 'HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('ver-18', 'lower-case http/1.1 in a status line', 'http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('ver-19', 'HTTP/0.9 status line', 'HTTP/0.9 200 OK\r\nContent-Length: 2\r\n\r\nok');

// ------------------------------------------------------------------------------------------
// hdr: field lines (RFC 9112 §5, RFC 9110 §5.5)
req('hdr-01', 'several fields, case kept, order kept', `GET / HTTP/1.1\r\n${H}Accept: */*\r\nX-Mixed-Case: V\r\nx-lower: v\r\n\r\n`);
req('hdr-02', 'empty field value', `GET / HTTP/1.1\r\n${H}X-Empty:\r\n\r\n`);
req('hdr-03', 'field value of only whitespace', `GET / HTTP/1.1\r\n${H}X-Blank:  \t \r\n\r\n`);
req('hdr-04', 'OWS around the value is not part of it', `GET / HTTP/1.1\r\n${H}X: \t v w \t\r\n\r\n`);
req('hdr-05', 'no space after the colon', `GET / HTTP/1.1\r\n${H}X:v\r\n\r\n`);
req('hdr-06', 'obs-text in a value', `GET / HTTP/1.1\r\n${H}X: caf\xe9 \xff\xa0\r\n\r\n`);
req('hdr-07', 'HTAB inside a value', `GET / HTTP/1.1\r\n${H}X: a\tb\r\n\r\n`);
req('hdr-08', 'DEL in a value', `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`);
req('hdr-09', 'SP inside a field name', `GET / HTTP/1.1\r\n${H}X Y: z\r\n\r\n`);
req('hdr-10', '"@" (not a tchar) in a field name', `GET / HTTP/1.1\r\n${H}X@Y: z\r\n\r\n`);
req('hdr-11', 'DQUOTE in a field name', `GET / HTTP/1.1\r\n${H}X"Y: z\r\n\r\n`);
req('hdr-12', 'obs-text in a field name', `GET / HTTP/1.1\r\n${H}X\xe9: z\r\n\r\n`);
req('hdr-13', 'empty field name', `GET / HTTP/1.1\r\n${H}: z\r\n\r\n`);
req('hdr-14', 'field line without a colon', `GET / HTTP/1.1\r\n${H}Xvalue\r\n\r\n`);
req('hdr-15', 'colons inside the value', `GET / HTTP/1.1\r\n${H}X: a:b::c\r\n\r\n`);
req('hdr-16', 'SP before the colon', `GET / HTTP/1.1\r\n${H}X : v\r\n\r\n`);
req('hdr-17', 'HTAB before the colon', `GET / HTTP/1.1\r\n${H}X\t: v\r\n\r\n`);
req('hdr-18', 'SP before the colon of Content-Length (smuggling shape)', `POST / HTTP/1.1\r\n${H}Content-Length : 3\r\n\r\nabc`);
req('hdr-19', 'repeated field lines are all kept', `GET / HTTP/1.1\r\n${H}Accept: a\r\nAccept: b\r\nSet-Cookie: 1\r\nSet-Cookie: 2\r\n\r\n`);
req('hdr-20', 'underscore and other tchars in a name', `GET / HTTP/1.1\r\n${H}X_Y.Z~!#$%&'*+^\`|: v\r\n\r\n`);
req('hdr-21', 'field name of one character', `GET / HTTP/1.1\r\n${H}X: v\r\n\r\n`);
req('hdr-22', 'value with quoted-string and commas', `GET / HTTP/1.1\r\n${H}X: "a, b", c;q=0.5\r\n\r\n`);
req('hdr-23', 'value with a control character 0x01', `GET / HTTP/1.1\r\n${H}X: a\x01b\r\n\r\n`);
req('hdr-24', 'value with vertical tab and form feed', `GET / HTTP/1.1\r\n${H}X: a\x0b\x0cb\r\n\r\n`);
req('hdr-25', 'colon as the first character of a line after a field', `GET / HTTP/1.1\r\n${H}X: v\r\n:\r\n\r\n`);
res('hdr-26', 'response: SP before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok');
res('hdr-27', 'response: obs-text in values', 'HTTP/1.1 200 OK\r\nX: \xe9t\xe9\r\nContent-Length: 2\r\n\r\nok');
res('hdr-28', 'response: invalid field name', 'HTTP/1.1 200 OK\r\nX(Y): v\r\nContent-Length: 2\r\n\r\nok');
res('hdr-29', 'response: line without a colon', 'HTTP/1.1 200 OK\r\nBroken\r\nContent-Length: 2\r\n\r\nok');
res('hdr-30', 'response: DEL in a value', 'HTTP/1.1 200 OK\r\nX: a\x7f\r\nContent-Length: 2\r\n\r\nok');

// ------------------------------------------------------------------------------------------
// fold: obs-fold (RFC 9112 §5.2)
req('fold-01', 'obs-fold with SP', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`);
req('fold-02', 'obs-fold with HTAB', `GET / HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n`);
req('fold-03', 'whitespace-led line right after the request line', `GET / HTTP/1.1\r\n ${H}\r\n`);
req('fold-04', 'obs-fold in Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length:\r\n 3\r\n\r\nabc`);
req('fold-05', 'obs-fold in Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n`);
res('fold-06', 'response obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok');
res('fold-07', 'response: whitespace-led line right after the status line', 'HTTP/1.1 200 OK\r\n X: a\r\nContent-Length: 2\r\n\r\nok');

// ------------------------------------------------------------------------------------------
// lf: bare LF line terminators (RFC 9112 §2.2)
req('lf-01', 'bare LF everywhere', 'GET / HTTP/1.1\nHost: a\n\n');
req('lf-02', 'bare LF after the request line only', 'GET / HTTP/1.1\nHost: a\r\n\r\n');
req('lf-03', 'bare LF after a field line only', 'GET / HTTP/1.1\r\nHost: a\n\r\n');
req('lf-04', 'bare LF as the empty line', 'GET / HTTP/1.1\r\nHost: a\r\n\n');
req('lf-05', 'bare LF in a chunk-size line', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n`);
req('lf-06', 'bare LF after chunk data', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n`);
req('lf-07', 'bare LF in the last-chunk line', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\n\r\n`);
req('lf-08', 'bare LF ending the trailer section', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nT: v\n\n`);
res('lf-09', 'response with bare LF everywhere', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok');
res('lf-10', 'response: bare LF after the status line only', 'HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok');
res('lf-11', 'response: bare LF in chunked framing', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\n0\n\n');

// ------------------------------------------------------------------------------------------
// cr: bare CR (RFC 9112 §2.2: a bare CR is invalid or replaced by SP)
req('cr-01', 'bare CR inside a value', `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`);
req('cr-02', 'bare CR as line terminator', 'GET / HTTP/1.1\rHost: a\r\r');
req('cr-03', 'CR CR LF ending a field line', `GET / HTTP/1.1\r\n${H}X: a\r\r\n\r\n`);
req('cr-04', 'bare CR in the request line', `GET /a\rb HTTP/1.1\r\n${H}\r\n`);
req('cr-05', 'bare CR in a field name', `GET / HTTP/1.1\r\n${H}X\rY: v\r\n\r\n`);
req('cr-06', 'bare CR after chunk data', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r0\r\n\r\n`);
req('cr-07', 'LF CR LF as the empty line', `GET / HTTP/1.1\r\n${H}\n\r\n`);
res('cr-08', 'response: bare CR in the reason phrase', 'HTTP/1.1 200 O\rK\r\nContent-Length: 2\r\n\r\nok');
res('cr-09', 'response: bare CR inside a value', 'HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 2\r\n\r\nok');

// ------------------------------------------------------------------------------------------
// nul: NUL and controls
req('nul-01', 'NUL in the method', `G\0T / HTTP/1.1\r\n${H}\r\n`);
req('nul-02', 'NUL in the target', `GET /a\0b HTTP/1.1\r\n${H}\r\n`);
req('nul-03', 'NUL in a field name', `GET / HTTP/1.1\r\n${H}X\0Y: v\r\n\r\n`);
req('nul-04', 'NUL in a field value', `GET / HTTP/1.1\r\n${H}X: a\0b\r\n\r\n`);
req('nul-05', 'NUL at the end of a value', `GET / HTTP/1.1\r\n${H}X: a\0\r\n\r\n`);
req('nul-06', 'NUL in the body (opaque octets)', `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\na\0b`);
req('nul-07', 'NUL in a chunk extension', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a=\0\r\nabc\r\n0\r\n\r\n`);
req('nul-08', 'NUL in a trailer value', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nT: a\0b\r\n\r\n`);
req('nul-09', 'NUL before the request line', `\0GET / HTTP/1.1\r\n${H}\r\n`);
res('nul-10', 'response: NUL in the reason phrase', 'HTTP/1.1 200 O\0K\r\nContent-Length: 2\r\n\r\nok');
res('nul-11', 'response: NUL in a value', 'HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 2\r\n\r\nok');
res('nul-12', 'response: control 0x1F in the reason phrase', 'HTTP/1.1 200 O\x1fK\r\nContent-Length: 2\r\n\r\nok');

// ------------------------------------------------------------------------------------------
// cl: Content-Length (RFC 9110 §8.6, RFC 9112 §6.3)
req('cl-01', 'Content-Length body', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`);
req('cl-02', 'Content-Length: 0', `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`);
req('cl-03', 'leading zeros', `POST / HTTP/1.1\r\n${H}Content-Length: 0005\r\n\r\nhello`);
req('cl-04', 'plus sign', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`);
req('cl-05', 'negative', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`);
req('cl-06', 'digits then letters', `POST / HTTP/1.1\r\n${H}Content-Length: 5a\r\n\r\nhello`);
req('cl-07', 'letters only', `POST / HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`);
req('cl-08', 'empty value', `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`);
req('cl-09', 'OWS around the digits', `POST / HTTP/1.1\r\n${H}Content-Length: \t5 \r\n\r\nhello`);
req('cl-10', 'two numbers separated by SP', `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello`);
req('cl-11', 'list of identical values', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`);
req('cl-12', 'list of different values', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\nhello!`);
req('cl-13', 'two identical Content-Length lines', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`);
req('cl-14', 'two different Content-Length lines', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`);
req('cl-15', '20-digit length', `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`);
req('cl-16', 'length above 2^53', `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740993\r\n\r\n`);
req('cl-17', 'body shorter than Content-Length, then EOF', `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nhello`);
req('cl-18', 'body longer than Content-Length (rest read as the next request)', `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nhello`);
req('cl-19', 'hexadecimal length', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`);
req('cl-20', 'Content-Length on a GET', `GET / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`);
req('cl-21', 'list with an empty element', `POST / HTTP/1.1\r\n${H}Content-Length: 5,\r\n\r\nhello`);
req('cl-22', 'decimal point', `POST / HTTP/1.1\r\n${H}Content-Length: 5.0\r\n\r\nhello`);
req('cl-23', 'body with CR LF inside', `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\n\r\na\r\nb\r\n`);
req('cl-24', 'lower-case field name', `POST / HTTP/1.1\r\n${H}content-length: 2\r\n\r\nok`);
res('cl-25', 'response: Content-Length body', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
res('cl-26', 'response: two identical Content-Length lines', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok');
res('cl-27', 'response: conflicting Content-Length lines', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!');
res('cl-28', 'response: invalid Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok');
res('cl-29', 'response: truncated body then EOF', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
res('cl-30', 'response: list of identical values', 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok');
res('cl-31', 'response: negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok');
req('cl-32', 'obs-text 0xA0 before the digits', `POST / HTTP/1.1\r\n${H}Content-Length: \xa05\r\n\r\nhello`);
res('cl-33', 'response: obs-text 0xA0 after the digits', 'HTTP/1.1 200 OK\r\nContent-Length: 2\xa0\r\n\r\nok');

// ------------------------------------------------------------------------------------------
// te: Transfer-Encoding (RFC 9112 §6.1, §6.3)
const CHUNKED_BODY = '3\r\nabc\r\n0\r\n\r\n';
req('te-01', 'chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-02', 'Chunked (case-insensitive coding)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-03', 'chunked with trailing OWS', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked \r\n\r\n${CHUNKED_BODY}`);
req('te-04', 'gzip, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-05', 'chunked, gzip (chunked not last)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n${CHUNKED_BODY}`);
req('te-06', 'identity only', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`);
req('te-07', 'chunked, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-08', 'gzip and chunked on two lines', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-09', 'chunked then gzip on two lines', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n${CHUNKED_BODY}`);
req('te-10', 'xchunked (not chunked)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n${CHUNKED_BODY}`);
req('te-11', 'empty Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n`);
req('te-12', 'leading comma', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: ,chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-13', 'Transfer-Encoding and Content-Length', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${CHUNKED_BODY}`);
req('te-14', 'Content-Length then Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-15', 'chunked in an HTTP/1.0 request', `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-16', 'unknown coding "foo, chunked"', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: foo, chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-17', 'chunked with a parameter', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n${CHUNKED_BODY}`);
req('te-18', 'gzip only (request cannot be delimited)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nabc`);
req('te-19', 'SP before the colon of Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-20', 'obs-text around chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \xa0chunked\r\n\r\n${CHUNKED_BODY}`);
res('te-21', 'response: chunked', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
res('te-22', 'response: chunked and Content-Length', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${CHUNKED_BODY}`);
res('te-23', 'response: gzip only (read until close)', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw bytes');
res('te-24', 'response: chunked, gzip (read until close)', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw bytes');
res('te-25', 'response: chunked in HTTP/1.0', `HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
res('te-26', 'response: chunked, chunked', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n${CHUNKED_BODY}`);
res('te-27', 'response: identity', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nraw bytes');
req('te-28', 'obs-text 0xA0 after chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\xa0\r\n\r\n${CHUNKED_BODY}`);
req('te-29', 'parameter on gzip, then chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip;level=1, chunked\r\n\r\n${CHUNKED_BODY}`);
res('te-30', 'response: chunked with a parameter', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n${CHUNKED_BODY}`);
res('te-31', 'response: obs-text 0xA0 before chunked', `HTTP/1.1 200 OK\r\nTransfer-Encoding: \xa0chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-32', 'trailing comma "chunked,"', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n${CHUNKED_BODY}`);
req('te-33', 'empty Transfer-Encoding line, then chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
req('te-34', 'chunked, then an empty Transfer-Encoding line', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n${CHUNKED_BODY}`);
res('te-35', 'response: trailing comma "chunked,"', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n${CHUNKED_BODY}`);
res('te-36', 'response: leading comma ",chunked"', `HTTP/1.1 200 OK\r\nTransfer-Encoding: ,chunked\r\n\r\n${CHUNKED_BODY}`);
res('te-37', 'response: empty Transfer-Encoding line, then chunked', `HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);

// ------------------------------------------------------------------------------------------
// chk: chunked coding (RFC 9112 §7.1)
const post = (body: string): string => `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${body}`;
req('chk-01', 'several chunks', post('3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n'));
req('chk-02', 'upper-case hex size', post('A\r\n0123456789\r\n0\r\n\r\n'));
req('chk-03', 'leading zeros in the size', post('0003\r\nabc\r\n0\r\n\r\n'));
req('chk-04', 'SP after the size', post('3 \r\nabc\r\n0\r\n\r\n'));
req('chk-05', 'extension name=value', post('3;a=b\r\nabc\r\n0\r\n\r\n'));
req('chk-06', 'extension with a quoted value', post('3;a="b c;d"\r\nabc\r\n0\r\n\r\n'));
req('chk-07', 'extension with BWS around ";" and "="', post('3 ; a = b\r\nabc\r\n0\r\n\r\n'));
req('chk-08', 'extension without a value', post('3;a\r\nabc\r\n0\r\n\r\n'));
req('chk-09', 'empty extension ";"', post('3;\r\nabc\r\n0\r\n\r\n'));
req('chk-10', 'extension with an empty value', post('3;a=\r\nabc\r\n0\r\n\r\n'));
req('chk-11', 'unterminated quoted extension value', post('3;a="b\r\nabc\r\n0\r\n\r\n'));
req('chk-12', 'negative size', post('-3\r\nabc\r\n0\r\n\r\n'));
req('chk-13', '0x prefix', post('0x3\r\nabc\r\n0\r\n\r\n'));
req('chk-14', 'non-hex size', post('g\r\nabc\r\n0\r\n\r\n'));
req('chk-15', 'empty size line', post('\r\nabc\r\n0\r\n\r\n'));
req('chk-16', '20 hex digits', post('ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n'));
req('chk-17', 'data longer than the size', post('3\r\nabcd\r\n0\r\n\r\n'));
req('chk-18', 'no CRLF after the data', post('3\r\nabc0\r\n\r\n'));
req('chk-19', 'no last chunk, then EOF', post('3\r\nabc\r\n'));
req('chk-20', 'trailer fields', post('3\r\nabc\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n'));
req('chk-21', 'invalid trailer field name', post('0\r\nX T: 1\r\n\r\n'));
req('chk-22', 'obs-fold in the trailer section', post('0\r\nX-T: 1\r\n 2\r\n\r\n'));
req('chk-23', 'extension on the last chunk', post('3\r\nabc\r\n0;final=yes\r\n\r\n'));
req('chk-24', 'only the last chunk', post('0\r\n\r\n'));
req('chk-25', 'last chunk then EOF before the empty line', post('3\r\nabc\r\n0\r\n'));
req('chk-26', 'HTAB after the size', post('3\t\r\nabc\r\n0\r\n\r\n'));
req('chk-27', 'size 1 chunks', post('1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n'));
req('chk-28', 'quoted extension value with quoted-pair', post('3;a="x\\"y"\r\nabc\r\n0\r\n\r\n'));
req('chk-29', 'extension with a non-token name', post('3;a@b=c\r\nabc\r\n0\r\n\r\n'));
req('chk-30', 'SP inside the size', post('1 2\r\nabcdefghijkl\r\n0\r\n\r\n'));
req('chk-31', 'obs-text in a quoted extension value', post('3;a="\xe9"\r\nabc\r\n0\r\n\r\n'));
req('chk-32', 'whitespace-led line after the last chunk', post('0\r\n T: v\r\n\r\n'));
res('chk-33', 'response: chunked with trailers', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: done\r\n\r\n');
res('chk-34', 'response: data longer than the chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n');
res('chk-35', 'response: EOF inside a chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab');
req('chk-36', 'SP before a chunk extension without a value "5 ;x"', post('5 ;x\r\nhello\r\n0\r\n\r\n'));

// ------------------------------------------------------------------------------------------
// host: Host rules (RFC 9112 §3.2)
req('host-01', 'HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n');
req('host-02', 'HTTP/1.0 request without Host', 'GET / HTTP/1.0\r\nAccept: */*\r\n\r\n');
req('host-03', 'two identical Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n');
req('host-04', 'two different Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
req('host-05', 'empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n');
req('host-06', 'Host with a port', 'GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n');
req('host-07', 'Host with an IPv6 literal', 'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n');
req('host-08', 'Host with SP inside', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n');
req('host-09', 'Host with a path', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n');
req('host-10', 'Host with userinfo', 'GET / HTTP/1.1\r\nHost: user@a\r\n\r\n');
req('host-11', 'Host with a non-numeric port', 'GET / HTTP/1.1\r\nHost: a:http\r\n\r\n');
req('host-12', 'Host as a comma list', 'GET / HTTP/1.1\r\nHost: a, b\r\n\r\n');
req('host-13', 'absolute-form with a different Host', 'GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n');
req('host-14', 'Host with obs-text', 'GET / HTTP/1.1\r\nHost: caf\xe9.example\r\n\r\n');
req('host-15', 'lower-case host field name', 'GET / HTTP/1.1\r\nhost: a\r\n\r\n');
req('host-16', 'HTTP/1.0 with two Host lines', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n');

// ------------------------------------------------------------------------------------------
// long: sizes and limits (tether: 16 KiB head, 8 KiB target, 100 fields; Node: 16 KiB counted its way)
req('long-01', 'an 8000-byte field value', `GET / HTTP/1.1\r\n${H}X: ${'v'.repeat(8000)}\r\n\r\n`);
req('long-02', 'a 20000-byte field value', `GET / HTTP/1.1\r\n${H}X: ${'v'.repeat(20000)}\r\n\r\n`);
req('long-03', 'a 16300-byte field value (near the 16 KiB limit)', `GET / HTTP/1.1\r\n${H}X: ${'v'.repeat(16300)}\r\n\r\n`);
req('long-04', '50 fields', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 50 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n`);
req('long-05', '150 fields', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 150 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n`);
req('long-06', 'a 4000-byte target', `GET /${'a'.repeat(4000)} HTTP/1.1\r\n${H}\r\n`);
req('long-07', 'a 10000-byte target', `GET /${'a'.repeat(10000)} HTTP/1.1\r\n${H}\r\n`);
req('long-08', 'a 1000-byte field name', `GET / HTTP/1.1\r\n${H}${'N'.repeat(1000)}: v\r\n\r\n`);
req('long-09', 'a 100 KiB body', `POST / HTTP/1.1\r\n${H}Content-Length: 102400\r\n\r\n${'b'.repeat(102400)}`);
req('long-10', '1000 one-byte chunks', post(`${'1\r\nx\r\n'.repeat(1000)}0\r\n\r\n`));
req('long-11', 'a 20000-byte trailer section', post(`0\r\nT: ${'v'.repeat(20000)}\r\n\r\n`));
req('long-12', 'a 20000-byte chunk extension', post(`1;${'e'.repeat(20000)}\r\nx\r\n0\r\n\r\n`));
res('long-13', 'response: a 20000-byte field value', `HTTP/1.1 200 OK\r\nX: ${'v'.repeat(20000)}\r\nContent-Length: 2\r\n\r\nok`);
res('long-14', 'response: a 10000-byte reason phrase', `HTTP/1.1 200 ${'R'.repeat(10000)}\r\nContent-Length: 2\r\n\r\nok`);

// ------------------------------------------------------------------------------------------
// lead: empty lines before a message (RFC 9112 §2.2)
req('lead-01', 'one CRLF before the request line', `\r\nGET / HTTP/1.1\r\n${H}\r\n`);
req('lead-02', 'three CRLF before the request line', `\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`);
req('lead-03', 'bare LF before the request line', `\nGET / HTTP/1.1\r\n${H}\r\n`);
req('lead-04', 'CRLF between pipelined requests', `GET /a HTTP/1.1\r\n${H}\r\n\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
req('lead-05', 'only CRLFs', '\r\n\r\n\r\n');
req('lead-06', 'SP before the request line', ` \r\nGET / HTTP/1.1\r\n${H}\r\n`);
res('lead-07', 'response: CRLF before the status line', '\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('lead-08', 'response: CRLF between pipelined responses', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb', ['GET', 'GET']);

// ------------------------------------------------------------------------------------------
// conn: persistence and protocol switches (RFC 9112 §9.3, RFC 9110 §7.8)
req('conn-01', 'HTTP/1.0 without keep-alive, then more bytes', 'GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
req('conn-02', 'HTTP/1.0 keep-alive, then another request', 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
req('conn-03', 'Connection: close, then more bytes', `GET /a HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
req('conn-04', 'Connection: keep-alive, close', `GET /a HTTP/1.1\r\n${H}Connection: keep-alive, close\r\n\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
req('conn-05', 'Connection: CLOSE (case-insensitive)', `GET /a HTTP/1.1\r\n${H}Connection: CLOSE\r\n\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
req('conn-06', 'Upgrade: websocket with Connection: upgrade, then frames', `GET /chat HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello`);
req('conn-07', 'Upgrade without Connection: upgrade', `GET /a HTTP/1.1\r\n${H}Upgrade: websocket\r\n\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
req('conn-08', 'Upgrade request with a body', `POST /a HTTP/1.1\r\n${H}Connection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabc\x00\x01`);
req('conn-09', 'CONNECT followed by tunnel bytes', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01\x00');
req('conn-10', 'Expect: 100-continue with a body', `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc`);
req('conn-11', 'Connection: close on HTTP/1.0 keep-alive', 'GET /a HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
req('conn-12', 'HTTP/1.0 Proxy-Connection: keep-alive (not honoured)', 'GET /a HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
req('conn-13', 'Connection: close with nothing after', `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
res('conn-14', 'response: Connection: close then more bytes', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb', ['GET', 'GET']);
res('conn-15', 'response: HTTP/1.0 keep-alive then a second response', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\naHTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb', ['GET', 'GET']);
res('conn-16', 'response: 101 to an Upgrade request, then frames', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi', ['UPGRADE']);
res('conn-17', 'response: 101 to a request that did not ask for it', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi');
res('conn-18', 'response: 200 declining an Upgrade request', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', ['UPGRADE']);
res('conn-19', 'response: 2xx to CONNECT, then tunnel bytes', 'HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x03', ['CONNECT']);
res('conn-20', 'response: 407 to CONNECT with a body', 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny', ['CONNECT']);
res('conn-21', 'response: HTTP/1.0 without keep-alive and with Content-Length', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
req('conn-22', 'CONNECT with Content-Length: 10 and ten bytes', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 10\r\n\r\n0123456789');
req('conn-23', 'CONNECT with Transfer-Encoding: chunked', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
req('conn-24', 'CONNECT with Content-Length: 0, then tunnel bytes', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 0\r\n\r\n\x16\x03\x01\x00');

// ------------------------------------------------------------------------------------------
// pipe: pipelining (RFC 9112 §9.3.2)
req('pipe-01', 'two GETs', `GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
req('pipe-02', 'GET, POST with Content-Length, GET', `GET /a HTTP/1.1\r\n${H}\r\nPOST /b HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\n${H}\r\n`);
req('pipe-03', 'chunked POST then GET', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /b HTTP/1.1\r\n${H}\r\n`);
req('pipe-04', 'valid request then an invalid one', `GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}X : y\r\n\r\n`);
req('pipe-05', 'valid request then garbage', `GET /a HTTP/1.1\r\n${H}\r\n\x16\x03\x01garbage`);
req('pipe-06', 'ten HEAD requests', Array.from({ length: 10 }, (_, i) => `HEAD /${i} HTTP/1.1\r\n${H}\r\n`).join(''));
req('pipe-07', 'valid request then an incomplete one', `GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}`);
res('pipe-08', 'responses to GET, HEAD, GET', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc', ['GET', 'HEAD', 'GET']);
res('pipe-09', 'chunked then Content-Length responses', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno`, ['GET', 'GET']);
res('pipe-10', 'a response with no request outstanding', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb');

// ------------------------------------------------------------------------------------------
// st: status line (RFC 9112 §4)
res('st-01', 'no reason phrase, no SP', 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok');
res('st-02', 'empty reason phrase after SP', 'HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok');
res('st-03', 'reason phrase with obs-text and HTAB', 'HTTP/1.1 200 \xc7a\tva\r\nContent-Length: 2\r\n\r\nok');
res('st-04', 'two-digit status', 'HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok');
res('st-05', 'four-digit status', 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok');
res('st-06', 'status 099', 'HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok');
res('st-07', 'status 600', 'HTTP/1.1 600 High\r\nContent-Length: 2\r\n\r\nok');
res('st-08', 'status 999', 'HTTP/1.1 999 Max\r\nContent-Length: 2\r\n\r\nok');
res('st-09', 'letters in the status', 'HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok');
res('st-10', 'no SP between status and reason', 'HTTP/1.1 200OK\r\nContent-Length: 2\r\n\r\nok');
res('st-11', 'two SP before the status', 'HTTP/1.1  200 OK\r\nContent-Length: 2\r\n\r\nok');
res('st-12', 'leading SP before the version', ' HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('st-13', 'reason phrase with leading and trailing SP', 'HTTP/1.1 200  spaced  \r\nContent-Length: 2\r\n\r\nok');
res('st-14', 'status line only, then EOF', 'HTTP/1.1 200 OK\r\n');
res('st-15', 'garbage instead of a status line', 'HELLO WORLD\r\n\r\n');
res('st-16', 'empty response (EOF at once)', '');
res('st-17', 'HTAB after the version', 'HTTP/1.1\t200 OK\r\nContent-Length: 2\r\n\r\nok');
res('st-18', 'negative status', 'HTTP/1.1 -200 OK\r\nContent-Length: 2\r\n\r\nok');

// ------------------------------------------------------------------------------------------
// rsp: response framing (RFC 9112 §6.3)
res('rsp-01', 'read until close', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until EOF');
res('rsp-02', 'HTTP/1.0 read until close', 'HTTP/1.0 200 OK\r\n\r\nold style');
res('rsp-03', 'read until close, empty body', 'HTTP/1.1 200 OK\r\n\r\n');
res('rsp-04', '204 without framing', 'HTTP/1.1 204 No Content\r\nX: y\r\n\r\n');
res('rsp-05', '204 with Content-Length and bytes after', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello');
res('rsp-06', '304 with Content-Length', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: "x"\r\n\r\n');
res('rsp-07', '304 with Transfer-Encoding: chunked', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n');
res('rsp-08', 'HEAD response with Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', ['HEAD']);
res('rsp-09', 'HEAD response with Transfer-Encoding: chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', ['HEAD']);
res('rsp-10', 'HEAD response without framing', 'HTTP/1.1 200 OK\r\n\r\n', ['HEAD']);
res('rsp-11', '100 Continue then 200', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', ['POST']);
res('rsp-12', '103 Early Hints with fields, then 200', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('rsp-13', '102 Processing, then 200', 'HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('rsp-14', 'two 1xx, then 200', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('rsp-15', '1xx with Content-Length', 'HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('rsp-16', '199 (unassigned 1xx), then 200', 'HTTP/1.1 199 Whatever\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
res('rsp-17', '204 with Transfer-Encoding: chunked', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n');
res('rsp-18', '205 with Content-Length: 0', 'HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n');
res('rsp-19', '500 read until close', 'HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\nerror text');
res('rsp-20', '404 chunked with extensions', 'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b\r\nno\r\n0\r\n\r\n');
res('rsp-21', 'HEAD response followed by a GET response', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc', ['HEAD', 'GET']);
res('rsp-22', '304 then 200 pipelined', 'HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', ['GET', 'GET']);
res('rsp-23', 'read until close with CR LF in the body', 'HTTP/1.1 200 OK\r\n\r\nline1\r\nline2\r\n\r\n');
res('rsp-24', 'Content-Length: 0 then EOF', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
res('rsp-25', 'Set-Cookie lines kept apart', 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n');
res('rsp-26', '100 Continue with a Content-Length', 'HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', ['POST']);

/** The corpus, in id order of appearance. */
export const DIFFERENTIAL_CORPUS: readonly CorpusItem[] = items;
