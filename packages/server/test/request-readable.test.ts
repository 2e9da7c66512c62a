/**
 * `req` is node's IncomingMessage as a Readable, over real sockets: 'data'/'end', pipe,
 * pause/resume with backpressure reaching the socket, setEncoding, async iteration, pipeline,
 * stream/consumers, trailers, headersDistinct, and aborted/'aborted'/'close' when the client
 * leaves mid-body.
 */

import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { text as consumeText } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterEach, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { Handler, ServerRequest, TetherServer } from '../src/index.js';
import { waitFor } from './tcp-helpers.js';

let server: TetherServer | null = null;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close({ timeout: 0 });
  server = null;
});

async function serve(handler: Handler): Promise<number> {
  server = createServer(handler);
  return (await server.listen({ port: 0, host: '127.0.0.1' })).port;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    sockets.push(socket);
  });
}

/** Send `raw`, read until the server closes or `until` matches; resolves the response text. */
async function exchange(port: number, raw: string | Buffer, until = /\r\n\r\n[\s\S]*$/): Promise<string> {
  const socket = await connect(port);
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      const at = got.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(got);
      if (at >= 0 && length !== null && got.length >= at + 4 + Number(length[1]) && until.test(got)) resolve(got);
    });
    socket.on('end', () => resolve(got));
    socket.write(raw);
  });
}

function post(body: string, extra = ''): string {
  return `POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

function bodyOf(response: string): string {
  return Buffer.from(response.slice(response.indexOf('\r\n\r\n') + 4), 'latin1').toString('utf8');
}

it('is a Readable: data and end events, readableEnded, complete, close after end', async () => {
  const seen: string[] = [];
  const port = await serve((req, res) => {
    expect(req).toBeInstanceOf(Readable);
    expect(req.complete).toBe(true); // a small body arrives with its head
    expect(req.readableEnded).toBe(false);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push('end');
      expect(req.readableEnded).toBe(true);
      res.end(`got ${body}`);
    });
    req.on('close', () => seen.push('close'));
  });
  expect(bodyOf(await exchange(port, post('hello')))).toBe('got hello');
  expect(await waitFor(() => seen.length === 2, 1000)).toBe(true);
  expect(seen).toEqual(['end', 'close']);
});

it('pipes into a Writable, and through stream.pipeline and stream/consumers', async () => {
  const port = await serve(async (req, res) => {
    if (req.url === '/pipe') {
      const parts: Buffer[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (parts.push(chunk), cb()) });
      sink.on('finish', () => res.end(`pipe ${Buffer.concat(parts).toString()}`));
      req.pipe(sink);
    } else if (req.url === '/pipeline') {
      let n = 0;
      await pipeline(req, new Writable({ write: (chunk: Buffer, _enc, cb) => ((n += chunk.length), cb()) }));
      res.end(`pipeline ${n}`);
    } else {
      res.end(`consumers ${await consumeText(req)}`);
    }
  });
  const send = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  expect(bodyOf(await exchange(port, send('/pipe', 'abc')))).toBe('pipe abc');
  expect(bodyOf(await exchange(port, send('/pipeline', 'x'.repeat(100_000))))).toBe('pipeline 100000');
  expect(bodyOf(await exchange(port, send('/c', 'héllo')))).toBe('consumers héllo');
});

it('setEncoding gives strings; async iteration and text() still read the body', async () => {
  const port = await serve(async (req, res) => {
    if (req.url === '/enc') {
      req.setEncoding('utf8');
      const types = new Set<string>();
      let body = '';
      for await (const chunk of req as AsyncIterable<unknown>) {
        types.add(typeof chunk);
        body += chunk as string;
      }
      res.end(`${[...types].join()} ${body}`);
    } else if (req.url === '/iter') {
      let n = 0;
      for await (const chunk of req) n += chunk.length;
      res.end(`iter ${n}`);
    } else {
      res.end(`text ${await req.text()}`);
    }
  });
  const send = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  expect(bodyOf(await exchange(port, send('/enc', 'ünï')))).toBe('string ünï');
  expect(bodyOf(await exchange(port, send('/iter', 'y'.repeat(200_000))))).toBe('iter 200000');
  expect(bodyOf(await exchange(port, send('/text', 'plain')))).toBe('text plain');
});

it('pause stops reading the socket (what the client writes stays buffered); resume reads the rest', async () => {
  const size = 1024 * 1024;
  let request: ServerRequest | null = null;
  let received = 0;
  const port = await serve((req, res) => {
    request = req;
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.pause();
    req.on('end', () => res.end(`read ${received}`));
  });
  const socket = await connect(port);
  let response = '';
  socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
  socket.write(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
  // Write until the kernel's buffers and the server's high-water mark are full.
  let sent = 0;
  const block = Buffer.alloc(64 * 1024, 'z');
  while (sent < size && socket.write(block)) sent += block.length;
  if (sent < size) sent += block.length;
  expect(await waitFor(() => request !== null, 2000)).toBe(true);
  // Paused: the server stops reading its socket once a high-water mark of body waits unread, so
  // the rest stays in the kernel's buffers and the client's (node's socket buffer when those fill).
  const readable = request!;
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(received).toBe(0);
  expect(readable.socket.isPaused()).toBe(true);
  const readThen = readable.socket.bytesRead;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(readable.socket.bytesRead).toBe(readThen);
  expect(readThen).toBeLessThan(size);
  expect(readable.readableLength).toBeLessThanOrEqual(4 * 64 * 1024);
  readable.resume();
  while (sent < size) {
    const n = Math.min(block.length, size - sent);
    if (!socket.write(block.subarray(0, n))) await new Promise((resolve) => socket.once('drain', resolve));
    sent += n;
  }
  expect(await waitFor(() => response.includes(`read ${size}`), 5000)).toBe(true);
});

it('aborted, then aborted and close events, when the client leaves mid-body', async () => {
  const events: string[] = [];
  let request: ServerRequest | null = null;
  const port = await serve((req) => {
    request = req;
    expect(req.aborted).toBe(false);
    req.on('data', () => undefined);
    req.on('aborted', () => events.push(`aborted ${String(req.aborted)}`));
    req.on('close', () => events.push('close'));
    req.on('end', () => events.push('end'));
  });
  const socket = await connect(port);
  socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part');
  expect(await waitFor(() => request !== null, 2000)).toBe(true);
  socket.destroy();
  expect(await waitFor(() => events.length === 2, 2000)).toBe(true);
  expect(events).toEqual(['aborted true', 'close']);
  expect(request!.aborted).toBe(true);
  expect(request!.complete).toBe(false);
});

it('trailers of a chunked body after end, {} without; headersDistinct; version numbers', async () => {
  const port = await serve(async (req, res) => {
    if (!req.complete) expect(req.trailers).toEqual({});
    const body = await req.text();
    res.end(
      JSON.stringify({
        body,
        trailers: req.trailers,
        distinct: req.headersDistinct['x-multi'],
        version: [req.httpVersionMajor, req.httpVersionMinor],
        socket: req.connection === req.socket,
        timeout: req.setTimeout(1000, () => undefined) === req,
      }),
    );
  });
  const chunked = 'POST /t HTTP/1.1\r\nHost: x\r\nX-Multi: a, b\r\nx-multi: c\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Check: 42\r\n\r\n';
  const got = JSON.parse(bodyOf(await exchange(port, chunked))) as Record<string, unknown>;
  expect(got).toEqual({ body: 'abc', trailers: { 'x-check': '42' }, distinct: ['a, b', 'c'], version: [1, 1], socket: true, timeout: true });
  const plain = JSON.parse(bodyOf(await exchange(port, 'POST /t HTTP/1.0\r\nContent-Length: 1\r\n\r\nz'))) as Record<string, unknown>;
  expect([plain.trailers, plain.version]).toEqual([{}, [1, 0]]);
});

it('read() pulls the body in paused mode; a handler that never reads keeps the connection going', async () => {
  const port = await serve((req, res) => {
    if (req.url === '/ignore') {
      res.end('ignored');
      return;
    }
    let body = '';
    req.on('readable', () => {
      for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) body += chunk.toString();
    });
    req.on('end', () => res.end(`read ${body}`));
  });
  const twice = post('one') + `POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo` + post('three');
  const got = await exchange(port, twice, /read three/);
  expect(got).toContain('read one');
  expect(got).toContain('ignored');
  expect(got).toContain('read three');
});
