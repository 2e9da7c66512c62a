/**
 * Persistence (RFC 9112 §9.3, §9.6, §6.1, §6.3) as a matrix: request version × response version ×
 * Connection options on each message × response framing × proxy option, checked
 * - through the pure functions of persistence.ts,
 * - through a server-role Connection (receives the request, sends the response),
 * - through a client-role Connection (sends the request, receives the response),
 * - through a real ConnectionPair, where both ends must agree.
 * The expected values come from {@link expectedPersists}, written from the RFC text below and
 * not from the source. Every parse is also run split at every byte offset.
 */

import { describe, expect, it } from 'vitest';
import { parseConnection } from './connection-header.js';
import { Connection } from './connection.js';
import type { HttpVersion, SendEvent } from './events.js';
import { decideFraming, isRefusal } from './framing.js';
import { concatBytes, decodeLatin1 } from './latin1.js';
import { exchangePersists, requestAllowsPersistence, responseAllowsPersistence } from './persistence.js';
import type { Role, SideState } from './state.js';
import { ConnectionPair, bytes } from './testing.js';
import { brief, expectSameAtEverySplit, normalEvent } from './test-util/splits.js';

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

type Framing = 'length' | 'chunked' | 'until-close';

/** Connection field lines on one message (each string is one field line). */
interface ConnectionVariant {
  readonly name: string;
  readonly lines: readonly string[];
}

const VERSIONS: readonly HttpVersion[] = ['1.0', '1.1'];
const FRAMINGS: readonly Framing[] = ['length', 'chunked', 'until-close'];
const CONNECTIONS: readonly ConnectionVariant[] = [
  { name: 'none', lines: [] },
  { name: 'close', lines: ['close'] },
  { name: 'keep-alive', lines: ['keep-alive'] },
  { name: '"Keep-Alive, Upgrade"', lines: ['Keep-Alive, Upgrade'] },
  { name: '"CLOSE"', lines: ['CLOSE'] },
  { name: 'repeated "x-trace" / "keep-alive"', lines: ['x-trace', 'keep-alive'] },
  { name: 'repeated "keep-alive" / "Close"', lines: ['keep-alive', 'Close'] },
];

interface Cell {
  readonly reqVersion: HttpVersion;
  readonly reqConn: ConnectionVariant;
  readonly resVersion: HttpVersion;
  readonly resConn: ConnectionVariant;
  readonly framing: Framing;
  readonly proxy: boolean;
}

function* cells(): Generator<Cell> {
  for (const reqVersion of VERSIONS)
    for (const reqConn of CONNECTIONS)
      for (const resVersion of VERSIONS)
        for (const resConn of CONNECTIONS)
          for (const framing of FRAMINGS)
            for (const proxy of [false, true]) yield { reqVersion, reqConn, resVersion, resConn, framing, proxy };
}

function label(c: Cell): string {
  return `${c.reqVersion} request [${c.reqConn.name}] → ${c.resVersion} response [${c.resConn.name}], ${c.framing}${c.proxy ? ', proxy' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The expected values, from the RFC
// ---------------------------------------------------------------------------------------------

/** The connection options of a message: comma-separated, OWS-trimmed, case-insensitive (RFC 9110 §7.6.1). */
function connectionOptions(lines: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    for (const part of line.split(',')) {
      const option = part.trim().toLowerCase();
      if (option !== '') out.add(option);
    }
  }
  return out;
}

/**
 * RFC 9112 §9.3, for the recipient of one message:
 * - If the "close" connection option is present, the connection will not persist; else,
 * - if the received protocol is HTTP/1.1 (or later), the connection will persist; else,
 * - if the received protocol is HTTP/1.0, the "keep-alive" connection option is present,
 *   either the recipient is not a proxy or the message is a response, [and the recipient
 *   wishes to honor it], the connection will persist; otherwise,
 * - the connection will close after the current response.
 */
function messageLetsPersist(version: HttpVersion, lines: readonly string[], isResponse: boolean, proxy: boolean): boolean {
  const options = connectionOptions(lines);
  if (options.has('close')) return false;
  if (version === '1.1') return true;
  return options.has('keep-alive') && (!proxy || isResponse);
}

/**
 * RFC 9112 §9.3: "in order to remain persistent, all messages on a connection need to have a
 * self-defined message length"; §6.3 rule 8: a response without one is delimited by the close.
 * RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing: close after the message.
 */
function selfDelimited(version: HttpVersion, framing: Framing): boolean {
  if (framing === 'until-close') return false;
  return !(framing === 'chunked' && version === '1.0');
}

/** Whether the connection persists after the exchange of the cell. */
function expectedPersists(c: Cell): boolean {
  return (
    messageLetsPersist(c.reqVersion, c.reqConn.lines, false, c.proxy) &&
    messageLetsPersist(c.resVersion, c.resConn.lines, true, c.proxy) &&
    selfDelimited(c.resVersion, c.framing)
  );
}

/** Whether the client reads the response body until the server closes. */
function readsUntilClose(c: Cell): boolean {
  return !selfDelimited(c.resVersion, c.framing);
}

/** Both sides' states after the exchange (h11's model: IDLE when persisting, else MUST_CLOSE). */
function expectedStates(c: Cell, role: Role): Record<Role, SideState> {
  if (expectedPersists(c)) return { client: 'IDLE', server: 'IDLE' };
  // A client that read the body until close has seen the server's side close.
  return { client: 'MUST_CLOSE', server: role === 'client' && readsUntilClose(c) ? 'CLOSED' : 'MUST_CLOSE' };
}

// ---------------------------------------------------------------------------------------------
// Wire messages
// ---------------------------------------------------------------------------------------------

const BODY = 'hello';

function connectionFields(lines: readonly string[]): string[] {
  return lines.flatMap((line) => ['Connection', line]);
}

function rawRequest(c: Cell): string {
  return `GET / HTTP/${c.reqVersion}\r\nHost: a\r\n${c.reqConn.lines.map((l) => `Connection: ${l}\r\n`).join('')}\r\n`;
}

function rawResponse(c: Cell): string {
  const head = `HTTP/${c.resVersion} 200 OK\r\n${c.resConn.lines.map((l) => `Connection: ${l}\r\n`).join('')}`;
  switch (c.framing) {
    case 'length':
      return `${head}Content-Length: ${BODY.length}\r\n\r\n${BODY}`;
    case 'chunked':
      return `${head}Transfer-Encoding: chunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
    case 'until-close':
      return `${head}\r\n${BODY}`;
  }
}

/** The body as the client reads it: a 1.0 "chunked" response is read raw until close. */
function bodyRead(c: Cell): string {
  const raw = rawResponse(c);
  return readsUntilClose(c) ? raw.slice(raw.indexOf('\r\n\r\n') + 4) : BODY;
}

function requestEvents(c: Cell): SendEvent[] {
  return [{ type: 'request', method: 'GET', target: '/', headers: ['Host', 'a', ...connectionFields(c.reqConn.lines)] }, { type: 'end-of-message' }];
}

/** The response a server-role Connection is asked to send for the cell. */
function responseEvents(c: Cell): SendEvent[] {
  const framing = c.framing === 'length' ? ['Content-Length', String(BODY.length)] : c.framing === 'chunked' ? ['Transfer-Encoding', 'chunked'] : [];
  return [
    { type: 'response', status: 200, headers: [...connectionFields(c.resConn.lines), ...framing] },
    { type: 'data', data: bytes(BODY) },
    { type: 'end-of-message' },
  ];
}

function sendAll(conn: Connection, events: readonly SendEvent[]): string {
  const out = concatBytes(events.flatMap((e) => conn.send(e)));
  return decodeLatin1(out, 0, out.length);
}

/** The connection options in a head we emitted, parsed independently of the source. */
function emittedConnectionOptions(wire: string): Set<string> {
  const head = wire.slice(0, wire.indexOf('\r\n\r\n'));
  const lines = head.split('\r\n').filter((l) => /^connection:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1));
  return connectionOptions(lines);
}

// ---------------------------------------------------------------------------------------------
// Which cells each role can take part in
// ---------------------------------------------------------------------------------------------

// tether's client sends HTTP/1.1 requests only: an HTTP/1.0 request comes from a foreign client.
const CLIENT_CELLS = [...cells()].filter((c) => c.reqVersion === '1.1');

// tether's server sends HTTP/1.1 responses only, frames them itself, and cannot send chunked to
// an HTTP/1.0 client (RFC 9112 §6.1) nor close-delimit a response to an HTTP/1.1 client (it
// chunks instead): those cells come from a foreign server.
const SERVER_CELLS = [...cells()].filter(
  (c) => c.resVersion === '1.1' && (c.reqVersion === '1.1' ? c.framing !== 'until-close' : c.framing !== 'chunked'),
);

// A real pair needs both: HTTP/1.1 both ways, self-delimited.
const PAIR_CELLS = SERVER_CELLS.filter((c) => c.reqVersion === '1.1');

describe('the expected-value function itself', () => {
  it('covers the matrix and says both yes and no in every role', () => {
    expect([...cells()]).toHaveLength(2 * 7 * 2 * 7 * 3 * 2);
    for (const set of [CLIENT_CELLS, SERVER_CELLS, PAIR_CELLS]) {
      expect(set.some(expectedPersists)).toBe(true);
      expect(set.some((c) => !expectedPersists(c))).toBe(true);
    }
  });

  it.each<[string, Cell, boolean]>([
    ['1.1 / 1.1, nothing said', { reqVersion: '1.1', reqConn: CONNECTIONS[0]!, resVersion: '1.1', resConn: CONNECTIONS[0]!, framing: 'length', proxy: false }, true],
    ['1.0 request without keep-alive', { reqVersion: '1.0', reqConn: CONNECTIONS[0]!, resVersion: '1.1', resConn: CONNECTIONS[0]!, framing: 'length', proxy: false }, false],
    ['1.0 keep-alive both ways', { reqVersion: '1.0', reqConn: CONNECTIONS[2]!, resVersion: '1.0', resConn: CONNECTIONS[2]!, framing: 'length', proxy: false }, true],
    ['1.0 keep-alive request at a proxy', { reqVersion: '1.0', reqConn: CONNECTIONS[2]!, resVersion: '1.0', resConn: CONNECTIONS[2]!, framing: 'length', proxy: true }, false],
    ['"CLOSE" on a 1.1 response', { reqVersion: '1.1', reqConn: CONNECTIONS[0]!, resVersion: '1.1', resConn: CONNECTIONS[4]!, framing: 'chunked', proxy: false }, false],
    ['1.1 until close', { reqVersion: '1.1', reqConn: CONNECTIONS[2]!, resVersion: '1.1', resConn: CONNECTIONS[2]!, framing: 'until-close', proxy: false }, false],
    ['1.0 chunked', { reqVersion: '1.1', reqConn: CONNECTIONS[0]!, resVersion: '1.0', resConn: CONNECTIONS[2]!, framing: 'chunked', proxy: false }, false],
  ])('spot check: %s', (_name, cell, expected) => {
    expect(expectedPersists(cell)).toBe(expected);
  });
});

describe('pure functions (persistence.ts)', () => {
  const messages = VERSIONS.flatMap((version) => CONNECTIONS.map((conn) => ({ version, conn })));

  it.each(messages.flatMap((m) => [false, true].map((proxy) => ({ ...m, proxy }))))(
    'requestAllowsPersistence: $version [$conn.name] proxy=$proxy',
    ({ version, conn, proxy }) => {
      const connection = parseConnection(conn.lines);
      expect(requestAllowsPersistence({ version, connection }, { proxy })).toBe(messageLetsPersist(version, conn.lines, false, proxy));
    },
  );

  it.each(messages.flatMap((m) => FRAMINGS.map((framing) => ({ ...m, framing }))))(
    'responseAllowsPersistence: $version [$conn.name] $framing',
    ({ version, conn, framing }) => {
      // The framing kind a recipient would decide for these framing fields.
      const decided = decideFraming({
        kind: 'response',
        version,
        requestMethod: 'GET',
        status: 200,
        contentLength: framing === 'length' ? ['5'] : undefined,
        transferEncoding: framing === 'chunked' ? ['chunked'] : undefined,
      });
      if (isRefusal(decided)) throw new Error(decided.message);
      const connection = parseConnection(conn.lines);
      expect(responseAllowsPersistence({ version, connection, framing: decided.kind })).toBe(
        messageLetsPersist(version, conn.lines, true, false) && selfDelimited(version, framing),
      );
    },
  );

  it('responseAllowsPersistence: self-delimited when framing is not given', () => {
    expect(responseAllowsPersistence({ version: '1.1', connection: parseConnection(undefined) })).toBe(true);
    expect(responseAllowsPersistence({ version: '1.0', connection: parseConnection('keep-alive') })).toBe(true);
  });

  it('exchangePersists agrees with the RFC over the whole matrix', () => {
    let checked = 0;
    for (const c of cells()) {
      const framing = readsUntilClose(c) ? 'until-close' : c.framing;
      const got = exchangePersists(
        { version: c.reqVersion, connection: parseConnection(c.reqConn.lines) },
        { version: c.resVersion, connection: parseConnection(c.resConn.lines), framing },
        { proxy: c.proxy },
      );
      expect(got, label(c)).toBe(expectedPersists(c));
      checked++;
    }
    expect(checked).toBe(1176);
  });
});

describe('server role: receives the request, sends the response', () => {
  it.each(SERVER_CELLS.map((c) => [label(c), c] as const))('%s', (_name, c) => {
    const r = expectSameAtEverySplit('server', rawRequest(c), { connection: { proxy: c.proxy } });
    expect(brief(r.events)).toEqual([`request GET / ${c.reqVersion}`, 'end']);
    const requestPersists = messageLetsPersist(c.reqVersion, c.reqConn.lines, false, c.proxy);
    // Before the response, the server already knows what the request allows.
    expect(r.keepAlive).toBe(requestPersists);
    expect(r.states).toEqual({ client: requestPersists ? 'IDLE' : 'MUST_CLOSE', server: 'SEND_RESPONSE' });

    const wire = sendAll(r.conn, responseEvents(c));
    const persists = expectedPersists(c);
    expect(r.conn.keepAlive).toBe(persists);
    expect(r.conn.states).toEqual(expectedStates(c, 'server'));
    // RFC 9112 §9.6: a server that will close says so; an HTTP/1.0 client only keeps the
    // connection when the response says keep-alive (RFC 9112 §C.2.2).
    const said = emittedConnectionOptions(wire);
    expect(said.has('close')).toBe(!persists);
    if (c.reqVersion === '1.0' && persists) expect(said.has('keep-alive')).toBe(true);
    // When the server decides to close, it drops a keep-alive the handler wrote (but a handler
    // that wrote both keep-alive and close gets what it wrote: close wins, RFC 9112 §9.3).
    if (!persists && !connectionOptions(c.resConn.lines).has('close')) expect(said.has('keep-alive')).toBe(false);
  });
});

describe('client role: sends the request, receives the response', () => {
  it.each(CLIENT_CELLS.map((c) => [label(c), c] as const))('%s', (_name, c) => {
    const eof = readsUntilClose(c);
    const r = expectSameAtEverySplit('client', rawResponse(c), { send: requestEvents(c), connection: { proxy: c.proxy }, eof });
    expect(brief(r.events)).toEqual([`response 200 ${c.resVersion}`, `data ${JSON.stringify(bodyRead(c))}`, 'end', ...(eof ? ['closed'] : [])]);
    expect(r.keepAlive).toBe(expectedPersists(c));
    expect(r.states).toEqual(expectedStates(c, 'client'));
  });
});

describe('a real ConnectionPair: both ends agree', () => {
  it.each(PAIR_CELLS.map((c) => [label(c), c] as const))('%s', (_name, c) => {
    const pair = new ConnectionPair({ proxy: c.proxy });
    expect(brief(pair.send('client', requestEvents(c)).map(normalEvent))).toEqual(['request GET / 1.1', 'end']);
    expect(brief(pair.send('server', responseEvents(c)).map(normalEvent))).toEqual(['response 200 1.1', `data "${BODY}"`, 'end']);
    const persists = expectedPersists(c);
    expect({ client: pair.client.keepAlive, server: pair.server.keepAlive }).toEqual({ client: persists, server: persists });
    expect(pair.client.states).toEqual(pair.server.states);
    expect(pair.client.states).toEqual(expectedStates(c, 'client'));

    // The same bytes, split every way, give the same verdicts.
    const requestWire = sendAll(new Connection('client'), requestEvents(c));
    const atServer = expectSameAtEverySplit('server', requestWire, { connection: { proxy: c.proxy } });
    const responseWire = sendAll(atServer.conn, responseEvents(c));
    const atClient = expectSameAtEverySplit('client', responseWire, { send: requestEvents(c), connection: { proxy: c.proxy } });
    expect(atServer.conn.keepAlive).toBe(persists);
    expect(atClient.keepAlive).toBe(persists);
    expect(atClient.states).toEqual(atServer.conn.states);
  });
});

describe('the proxy option (RFC 9112 §9.3, the "dumb proxy" problem)', () => {
  const keepAlive10 = 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';

  it('a proxy does not honour keep-alive on an HTTP/1.0 request, and says close', () => {
    const r = expectSameAtEverySplit('server', keepAlive10, { connection: { proxy: true } });
    expect(r.keepAlive).toBe(false);
    const wire = sendAll(r.conn, [{ type: 'response', status: 200, headers: { 'content-length': '0' } }, { type: 'end-of-message' }]);
    expect(emittedConnectionOptions(wire)).toEqual(new Set(['close']));
    expect(r.conn.states).toEqual({ client: 'MUST_CLOSE', server: 'MUST_CLOSE' });
  });

  it('an origin server honours it, and answers keep-alive', () => {
    const r = expectSameAtEverySplit('server', keepAlive10);
    expect(r.keepAlive).toBe(true);
    const wire = sendAll(r.conn, [{ type: 'response', status: 200, headers: { 'content-length': '0' } }, { type: 'end-of-message' }]);
    expect(emittedConnectionOptions(wire)).toEqual(new Set(['keep-alive']));
    expect(r.conn.states).toEqual({ client: 'IDLE', server: 'IDLE' });
  });

  it('a proxy still honours keep-alive on an HTTP/1.0 response', () => {
    const r = expectSameAtEverySplit('client', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', {
      send: [{ type: 'request', method: 'GET', target: '/', headers: { host: 'a' } }, { type: 'end-of-message' }],
      connection: { proxy: true },
    });
    expect(r.keepAlive).toBe(true);
    expect(r.states).toEqual({ client: 'IDLE', server: 'IDLE' });
  });

  it('does not change HTTP/1.1 requests', () => {
    const r = expectSameAtEverySplit('server', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { connection: { proxy: true } });
    expect(r.keepAlive).toBe(true);
  });

  it('pipelined HTTP/1.0 requests: the keep-alive one is answered keep-alive, the next one close', () => {
    const r = expectSameAtEverySplit('server', `${keepAlive10}GET /2 HTTP/1.0\r\n\r\n`);
    expect(brief(r.events)).toEqual(['request GET / 1.0', 'end', 'request GET /2 1.0', 'end']);
    // A close is decided (by the second request), but the first exchange still persists.
    expect(r.keepAlive).toBe(false);
    const ok = (): SendEvent[] => [{ type: 'response', status: 200, headers: { 'content-length': '0' } }, { type: 'end-of-message' }];
    expect(emittedConnectionOptions(sendAll(r.conn, ok()))).toEqual(new Set(['keep-alive']));
    expect(r.conn.states.server).toBe('SEND_RESPONSE');
    expect(emittedConnectionOptions(sendAll(r.conn, ok()))).toEqual(new Set(['close']));
    expect(r.conn.states).toEqual({ client: 'MUST_CLOSE', server: 'MUST_CLOSE' });
  });
});
