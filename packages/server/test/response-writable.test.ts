/**
 * `res` is node's ServerResponse as a Writable, over real sockets: write/end argument shapes,
 * encodings and callbacks, 'finish' then 'close', the writable* getters, appendHeader,
 * getHeaderNames, flushHeaders, writeContinue, writeEarlyHints (103), sendDate, cork/uncork,
 * destroy after earlier pipelined answers, and pipe/pipeline with a slow client (backpressure).
 */

import net from 'node:net';
import { Readable, Writable, pipeline } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { Handler, ServerOptions, TetherServer } from '../src/index.js';

let server: TetherServer | null = null;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close({ timeout: 0 });
  server = null;
});

async function serve(handler: Handler, options: ServerOptions = {}): Promise<number> {
  server = createServer(options, handler);
  return (await server.listen({ port: 0, host: '127.0.0.1' })).port;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    sockets.push(socket);
  });
}

/** Send `raw` and read until the server closes; resolves the bytes as latin1 text. */
async function untilClose(port: number, raw: string): Promise<string> {
  const socket = await connect(port);
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (chunk: Buffer) => (got += chunk.toString('latin1')));
    socket.on('close', () => resolve(got));
    socket.write(raw);
  });
}

const GET_CLOSE = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/** The body of a chunked response, decoded. */
function dechunk(response: string): string {
  let rest = response.slice(response.indexOf('\r\n\r\n') + 4);
  let out = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

it('is a Writable: write/end with encodings and callbacks, finish then close, the getters', async () => {
  const events: string[] = [];
  const port = await serve((req, res) => {
    expect(res).toBeInstanceOf(Writable);
    expect(res.req).toBe(req);
    expect(res.socket).toBe(req.socket);
    expect(res.connection).toBe(req.socket);
    expect(res.strictContentLength).toBe(false);
    expect(res.writable).toBe(true);
    expect(res.headersSent).toBe(false);
    expect(typeof res.writableHighWaterMark).toBe('number');
    res.on('finish', () => events.push(`finish ended=${res.writableEnded} finished=${res.writableFinished}`));
    res.on('close', () => events.push('close'));
    res.write('héllo ', 'utf8', () => events.push('write cb'));
    expect(res.headersSent).toBe(true);
    expect(typeof res.writableLength).toBe('number');
    res.write('bGF0aW4x', 'base64');
    res.write(' ');
    res.write('6869', 'hex', () => events.push('hex cb'));
    res.write(' ', () => events.push('bare cb'));
    res.write('asc', 'ascii');
    res.write(Buffer.from(' é', 'latin1'));
    res.write(Buffer.from(' ', 'utf16le').toString('utf16le'), 'utf16le');
    res.end('ZW5k', 'base64', () => events.push('end cb'));
    expect(res.writableEnded).toBe(true);
    expect(res.writable).toBe(false);
  });
  const response = await untilClose(port, GET_CLOSE);
  const expected = Buffer.concat([Buffer.from('héllo latin1 hi asc'), Buffer.from(' é', 'latin1'), Buffer.from(' ', 'utf16le'), Buffer.from('end')]);
  expect(dechunk(response)).toBe(expected.toString('latin1'));
  // node:http's order: the writes' callbacks, then 'finish' once all of it is with the socket;
  // end's callback is a 'finish' listener, after those before it; then 'close'.
  expect(events).toEqual(['write cb', 'hex cb', 'bare cb', 'finish ended=true finished=true', 'end cb', 'close']);
});

it('end(data, encoding, cb) and end(cb) without earlier writes send one message with Content-Length', async () => {
  let n = 0;
  const calls: string[] = [];
  const port = await serve((_req, res) => {
    if (n++ === 0) res.end('aGk=', 'base64', () => calls.push('a'));
    else res.end(() => calls.push('b'));
  });
  const a = await untilClose(port, GET_CLOSE);
  const b = await untilClose(port, GET_CLOSE);
  expect(a).toMatch(/content-length: 2\r\n[\s\S]*\r\n\r\nhi$/i);
  expect(b).toMatch(/content-length: 0\r\n/i);
  expect(calls).toEqual(['a', 'b']);
});

it('appendHeader, getHeaderNames, getHeaders', async () => {
  const port = await serve((_req, res) => {
    res.setHeader('X-One', '1');
    res.appendHeader('Set-Cookie', 'a=1');
    res.appendHeader('set-cookie', ['b=2', 'c=3']);
    res.appendHeader('x-one', '2');
    expect(res.getHeaderNames()).toEqual(['x-one', 'set-cookie']);
    expect(res.getHeaders()).toEqual({ 'x-one': ['1', '2'], 'set-cookie': ['a=1', 'b=2', 'c=3'] });
    res.end('ok');
  });
  const response = await untilClose(port, GET_CLOSE);
  expect(response.match(/^set-cookie: .*$/gim)).toEqual(['set-cookie: a=1', 'set-cookie: b=2', 'set-cookie: c=3']);
  expect(response.match(/^x-one: .*$/gim)).toEqual(['x-one: 1', 'x-one: 2']);
});

it('flushHeaders sends the head before any body', async () => {
  let release: () => void = () => undefined;
  const port = await serve((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.flushHeaders();
    expect(res.headersSent).toBe(true);
    release = () => res.end('later');
  });
  const socket = await connect(port);
  const first = await new Promise<string>((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
    socket.write(GET_CLOSE);
  });
  expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n$/);
  let rest = '';
  socket.on('data', (chunk: Buffer) => (rest += chunk.toString('latin1')));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  release();
  await closed;
  expect(dechunk(first + rest)).toBe('later');
});

it('writeEarlyHints sends a 103 before the 200; writeContinue a 100', async () => {
  let n = 0;
  const port = await serve((_req, res) => {
    if (n++ === 0) {
      let called = false;
      res.writeEarlyHints({ link: ['</style.css>; rel=preload; as=style', '</app.js>; rel=preload; as=script'] }, () => (called = true));
      setTimeout(() => res.end(String(called)), 10);
    } else {
      res.writeContinue();
      res.end('go');
    }
  });
  const response = await untilClose(port, GET_CLOSE);
  expect(response).toMatch(/^HTTP\/1\.1 103 Early Hints\r\nlink: <\/style\.css>; rel=preload; as=style\r\nlink: <\/app\.js>; rel=preload; as=script\r\n\r\nHTTP\/1\.1 200 OK\r\n/i);
  expect(response.endsWith('true')).toBe(true);
  const cont = await untilClose(port, GET_CLOSE);
  expect(cont).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*go$/);
});

it('sendDate false leaves out Date; the default sends it', async () => {
  let n = 0;
  const port = await serve((_req, res) => {
    expect(res.sendDate).toBe(true);
    if (n++ === 0) res.sendDate = false;
    res.end('x');
  });
  expect(await untilClose(port, GET_CLOSE)).not.toMatch(/^date:/im);
  expect(await untilClose(port, GET_CLOSE)).toMatch(/^date:/im);
});

it('cork/uncork hold writes until the last uncork', async () => {
  const port = await serve((_req, res) => {
    res.cork();
    res.cork();
    res.write('a');
    res.write('b');
    expect(res.writableCorked).toBe(2);
    res.uncork();
    res.uncork();
    expect(res.writableCorked).toBe(0);
    res.uncork(); // one too many: ignored
    res.end('c');
  });
  expect(dechunk(await untilClose(port, GET_CLOSE))).toBe('abc');
});

it('destroy mid-stream closes the connection after the earlier pipelined answers, and never throws', async () => {
  const seen: string[] = [];
  const port = await serve((req, res) => {
    if (req.url === '/a') {
      res.end('A');
      return;
    }
    res.on('close', () => seen.push(`close destroyed=${res.destroyed}`));
    res.on('error', (err) => seen.push(`error ${err.message}`));
    res.write('partial');
    setTimeout(() => {
      res.destroy(new Error('gave up'));
      res.destroy();
      expect(res.write('more')).toBe(false);
    }, 10);
  });
  const response = await untilClose(port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nA(HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n)7\r\npartial\r\n$/);
  expect(response.match(/HTTP\/1\.1/g)).toHaveLength(2);
  expect(seen).toEqual(['error gave up', 'close destroyed=true']);
});

it("a response whose connection closes under it emits 'close', not 'finish'", async () => {
  const seen: string[] = [];
  let closed: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const port = await serve((_req, res) => {
    res.on('finish', () => seen.push('finish'));
    res.on('close', () => {
      seen.push(`close finished=${res.writableFinished}`);
      closed();
    });
    res.write('x');
  });
  const socket = await connect(port);
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  socket.once('data', () => socket.resetAndDestroy());
  await done;
  expect(seen).toEqual(['close finished=false']);
});

it('pipeline(Readable, res) streams 1 MiB to a slow client with backpressure', async () => {
  const piece = Buffer.alloc(16 * 1024, 0x61);
  let drains = 0;
  let needDrainSeen = false;
  let result: unknown = 'pending';
  const port = await serve((_req, res) => {
    res.setHeader('content-length', String(64 * piece.length));
    res.on('drain', () => drains++);
    const source = Readable.from(Array.from({ length: 64 }, () => piece));
    const write = res.write.bind(res);
    res.write = ((chunk: Uint8Array) => {
      const ok = write(chunk);
      needDrainSeen ||= !ok && res.writableNeedDrain;
      return ok;
    });
    pipeline(source, res, (err) => (result = err ?? null));
  });
  const socket = await connect(port);
  socket.write(GET_CLOSE);
  socket.pause();
  await new Promise((resolve) => setTimeout(resolve, 200));
  let bytes = 0;
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  socket.resume();
  await closed;
  expect(bytes).toBeGreaterThan(64 * piece.length);
  expect(result).toBeNull();
  expect(drains).toBeGreaterThan(0);
  expect(needDrainSeen).toBe(true);
});

it('readable.pipe(res) streams and ends the response', async () => {
  const port = await serve((_req, res) => {
    Readable.from(['one ', 'two ', 'three']).pipe(res);
  });
  expect(dechunk(await untilClose(port, GET_CLOSE))).toBe('one two three');
});
