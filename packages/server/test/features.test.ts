import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ManualClock } from '@tether/protocol/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { Handler, ServerOptions, TetherServer } from '../src/index.js';

const servers: TetherServer[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
});

async function start(handler: Handler, options: ServerOptions = {}): Promise<{ server: TetherServer; port: number }> {
  const server = createServer(options, handler);
  servers.push(server);
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, port };
}

/** A raw client: write, and read what arrives. */
async function client(port: number): Promise<{ socket: net.Socket; read: (until: RegExp, ms?: number) => Promise<string>; ended: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  await new Promise((r) => socket.once('connect', r));
  let text = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  const ended = new Promise<void>((r) => socket.once('end', () => r()));
  const read = async (until: RegExp, ms = 2000): Promise<string> => {
    const deadline = Date.now() + ms;
    while (!until.test(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(until)}; got ${JSON.stringify(text)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 20);
      });
    }
    return text;
  };
  return { socket, read, ended };
}

describe('@tether/server features', () => {
  it('sends 100 Continue when the handler reads a body the client holds back', async () => {
    const { port } = await start(async (req, res) => res.end(`got ${await req.text()}`));
    const c = await client(port);
    c.socket.write('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    await c.read(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    c.socket.write('hello');
    expect(await c.read(/got hello$/)).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  });

  it('answers an expectation it cannot meet with 417', async () => {
    let called = false;
    const { port } = await start((_req, res) => {
      called = true;
      res.end();
    });
    const c = await client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n');
    expect(await c.read(/\r\n\r\n$/)).toMatch(/^HTTP\/1\.1 417 Expectation Failed\r\n[\s\S]*connection: close\r\n/i);
    await c.ended;
    expect(called).toBe(false);
  });

  it('sends trailers after a chunked body', async () => {
    const { port } = await start((_req, res) => {
      res.write('abc');
      res.addTrailers({ 'x-checksum': '42' });
      res.end();
    });
    const c = await client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await c.read(/0\r\nx-checksum: 42\r\n\r\n$/)).toMatch(/Transfer-Encoding: chunked\r\n[\s\S]*3\r\nabc\r\n0\r\nx-checksum: 42\r\n\r\n$/);
  });

  it('drops trailers on a response that cannot carry them (204, Content-Length), as node:http does', async () => {
    const { port } = await start((req, res) => {
      res.addTrailers({ 'x-checksum': '42' });
      if (req.url === '/204') res.statusCode = 204;
      else res.setHeader('content-length', '2');
      res.end(req.url === '/204' ? undefined : 'ok');
    });
    const c = await client(port);
    c.socket.write('GET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /cl HTTP/1.1\r\nHost: a\r\n\r\nGET /cl HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const all = await c.read(/Connection: close\r\n\r\nok$/);
    expect(all.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(3);
    expect(all).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    expect(all).not.toMatch(/x-checksum/i);
  });

  it('answers 408 and closes when a request body does not arrive within requestTimeout', async () => {
    const clock = new ManualClock();
    const { server, port } = await start(async (req, res) => res.end(await req.text()), { requestTimeout: 150, clock });
    const c = await client(port);
    c.socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 30));
    clock.advance(149);
    await new Promise((r) => setTimeout(r, 30));
    expect(server.stats().closedBy.timeout).toBe(0);
    clock.advance(1);
    expect(await c.read(/\r\n\r\n$/)).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*connection: close\r\n/i);
    await c.ended;
    await new Promise((r) => setTimeout(r, 20));
    expect(server.stats().closedBy.timeout).toBe(1);
  });

  it('drops the unread body of an answered request and parses the next request', async () => {
    const { port } = await start((req, res) => res.end(req.url));
    const c = await client(port);
    c.socket.write('POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /second HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await c.read(/\/second$/)).toMatch(/\/first[\s\S]*HTTP\/1\.1 200 OK[\s\S]*\/second$/);
  });

  it("hands an Upgrade request to an 'upgrade' listener with the socket and the bytes after the head", async () => {
    const { server, port } = await start((_req, res) => res.end('no upgrade'));
    server.on('upgrade', (req: { url: string }, socket: net.Socket, head: Buffer) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nearly:${head.toString()}`);
      socket.on('data', (d: Buffer) => socket.write(d));
      // The listener owns the socket now, its end included.
      socket.on('end', () => socket.end());
    });
    const c = await client(port);
    c.socket.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nfirst');
    await c.read(/early:first$/);
    c.socket.write('ping');
    expect(await c.read(/ping$/)).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(server.stats().closedBy.upgrade).toBe(1);
  });

  it('refuses connections beyond maxConnections', async () => {
    const { port } = await start((_req, res) => res.end('ok'), { maxConnections: 1 });
    const first = await client(port);
    const second = await client(port);
    await second.ended;
    first.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await first.read(/ok$/)).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('refuses option values that are not counts or durations, naming the option', () => {
    const handler: Handler = (_req, res) => res.end();
    expect(() => createServer({ keepAliveTimeout: -1 }, handler)).toThrow(/keepAliveTimeout/);
    expect(() => createServer({ keepAliveMax: 0 }, handler)).toThrow(RangeError);
    expect(() => createServer({ pipelineConcurrency: 1.5 }, handler)).toThrow(/pipelineConcurrency/);
    expect(() => createServer({ headersTimeout: Number.NaN }, handler)).toThrow(/headersTimeout/);
    // The protocol's options too, when the server is made rather than at the first connection.
    expect(() => createServer({ maxHeadBytes: 0 }, handler)).toThrow(/maxHeadBytes/);
    expect(() => createServer({ requireHostHeader: 'no' as unknown as boolean }, handler)).toThrow(RangeError);
  });

  it('keepAliveTimeout 0 keeps an idle connection open and advertises only max', async () => {
    const { server, port } = await start((_req, res) => res.end('ok'), { keepAliveTimeout: 0 });
    const c = await client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await c.read(/ok$/)).toMatch(/\r\nKeep-Alive: max=999\r\n/);
    await new Promise((r) => setTimeout(r, 150));
    expect(server.stats().connections.open).toBe(1);
    c.socket.write('GET /again HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await c.read(/ok[\s\S]*ok$/)).toMatch(/max=998/);
  });

  it('keepAliveMax Infinity advertises only the timeout, on every response', async () => {
    const { port } = await start((_req, res) => res.end('ok'), { keepAliveMax: Number.POSITIVE_INFINITY });
    const c = await client(port);
    c.socket.write('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
    const text = await c.read(/ok[\s\S]*ok$/);
    expect(text.match(/\r\nKeep-Alive: [^\r]*\r\n/g)).toEqual(['\r\nKeep-Alive: timeout=5\r\n', '\r\nKeep-Alive: timeout=5\r\n']);
  });

  it('responses are EventEmitters whose listeners work from the first on(): finish, custom events, removal', async () => {
    const seen: string[] = [];
    const { port } = await start((_req, res) => {
      expect(res).toBeInstanceOf(EventEmitter);
      expect(res.listenerCount('finish')).toBe(0);
      expect(res.emit('nothing')).toBe(false);
      const drop = (): number => seen.push('removed listener ran');
      res.on('finish', drop);
      res.off('finish', drop);
      res.once('finish', () => seen.push('finish'));
      res.on('custom', (v: string) => seen.push(v));
      expect(res.emit('custom', 'custom')).toBe(true);
      expect(res.eventNames()).toEqual(['finish', 'custom']);
      res.end('ok');
      expect(res.listenerCount('finish')).toBe(0);
    });
    const c = await client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.read(/ok$/);
    expect(seen).toEqual(['custom', 'finish']);
  });

  it('response headers: names in any case name one header, replaced in place, removable, repeated from arrays', async () => {
    const { port } = await start((_req, res) => {
      res.setHeader('X-One', 'a');
      res.setHeader('x-two', 2);
      res.setHeader('X-Three', ['c1', 'c2']);
      res.setHeader('x-ONE', 'b'); // replaces X-One, keeps its place, takes the new spelling
      expect(res.getHeader('X-ONE')).toBe('b');
      expect(res.hasHeader('X-TWO')).toBe(true);
      res.removeHeader('X-Two');
      expect(res.hasHeader('x-two')).toBe(false);
      expect(res.getHeader('x-two')).toBeUndefined();
      res.removeHeader('x-absent');
      expect(res.getHeaders()).toEqual({ 'x-one': 'b', 'x-three': ['c1', 'c2'] });
      expect(() => res.setHeader('Bad Name', 'v')).toThrow('Header name must be a valid HTTP token ["Bad Name"]');
      expect(() => res.setHeader('X-Bad', 'a\r\nInjected: yes')).toThrow('Invalid character in header content ["X-Bad"]');
      res.end('ok');
    });
    const c = await client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const text = await c.read(/ok$/);
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head.split('\r\n').filter((l) => l.toLowerCase().startsWith('x-'))).toEqual(['x-ONE: b', 'X-Three: c1', 'X-Three: c2']);
    expect(head).not.toMatch(/Injected/);
  });

  it('text bodies go out as UTF-8 with their byte length, alone and mixed with ASCII answers in one write', async () => {
    const bodies: Record<string, string> = { '/ascii': 'plain', '/utf8': 'h\u00e9llo \u20ac \u{1f600}', '/empty': '' };
    const { port } = await start((req, res) => res.end(bodies[req.url]));
    const c = await client(port);
    const received: Buffer[] = [];
    c.socket.on('data', (d: Buffer) => received.push(d));
    c.socket.write(['/ascii', '/utf8', '/empty', '/utf8', '/ascii'].map((u) => `GET ${u} HTTP/1.1\r\nHost: a\r\n\r\n`).join(''));
    await c.read(/plain[\s\S]*plain$/);
    const wire = Buffer.concat(received);
    const answers: { length: number; body: string }[] = [];
    for (let at = 0; at < wire.length; ) {
      const headEnd = wire.indexOf('\r\n\r\n', at);
      const head = wire.subarray(at, headEnd).toString('latin1');
      const length = Number(/Content-Length: (\d+)/.exec(head)?.[1]);
      answers.push({ length, body: wire.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8') });
      at = headEnd + 4 + length;
    }
    const utf8 = bodies['/utf8']!;
    expect(answers).toEqual([
      { length: 5, body: 'plain' },
      { length: Buffer.byteLength(utf8), body: utf8 },
      { length: 0, body: '' },
      { length: Buffer.byteLength(utf8), body: utf8 },
      { length: 5, body: 'plain' },
    ]);
    // And alone (one answer in its own write).
    c.socket.write('GET /utf8 HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const last = Buffer.concat(received);
    expect(last.subarray(last.length - Buffer.byteLength(utf8)).toString('utf8')).toBe(utf8);
  });

  it('sends byte bodies octet for octet: ASCII ones as text, others as bytes, mixed with UTF-8 text in one write', async () => {
    const ascii = Buffer.from('hello world');
    const bodies: Record<string, Uint8Array | string> = {
      '/ascii': ascii,
      '/binary': Uint8Array.from([0x00, 0x7f, 0x80, 0xe9, 0xff]),
      // A view that is not a Buffer, at an offset into its store.
      '/view': new Uint8Array(ascii.buffer, ascii.byteOffset + 6, 5),
      '/utf8': 'héllo ✓',
      '/empty': Buffer.alloc(0),
    };
    const { port } = await start((req, res) => {
      const body = bodies[req.url]!;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    });
    const c = await client(port);
    const received: Buffer[] = [];
    c.socket.on('data', (d: Buffer) => received.push(d));
    const order = ['/ascii', '/binary', '/view', '/utf8', '/empty', '/ascii'];
    c.socket.write(order.map((u) => `GET ${u} HTTP/1.1\r\nHost: a\r\n\r\n`).join(''));
    await c.read(/hello world$/);
    const wire = Buffer.concat(received);
    const answers: Buffer[] = [];
    for (let at = 0; at < wire.length; ) {
      const headEnd = wire.indexOf('\r\n\r\n', at);
      const length = Number(/content-length: (\d+)/i.exec(wire.subarray(at, headEnd).toString('latin1'))?.[1]);
      answers.push(wire.subarray(headEnd + 4, headEnd + 4 + length));
      at = headEnd + 4 + length;
    }
    const bytes = (b: Uint8Array | string): Buffer => (typeof b === 'string' ? Buffer.from(b) : Buffer.from(b));
    expect(answers).toEqual(order.map((u) => bytes(bodies[u]!)));
  });
});
