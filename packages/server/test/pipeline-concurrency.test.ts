/**
 * `pipelineConcurrency`: handlers of pipelined GET/HEAD requests run at once, responses still leave
 * in request order, held within a memory bound; nothing runs ahead of a request of another method.
 * Over real TCP: a raw client pipelines, the handlers record when they start and finish.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler, ServerOptions, TetherServer } from '../src/index.js';
import { Resources, sleep } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());
let server: TetherServer;

async function start(handler: Handler, options: ServerOptions): Promise<number> {
  const started = await resources.server(handler, options);
  server = started.server;
  return started.port;
}

/** Send `raw` at once and collect `count` responses. */
async function pipeline(port: number, raw: string, count: number): Promise<{ status: number; body: string; headers: Readonly<Record<string, string>> }[]> {
  const conn = await resources.connect(port);
  conn.send(raw);
  if (!(await conn.until(() => conn.reader.responses.length >= count, 3000))) throw new Error(`got ${conn.reader.responses.length} of ${count} responses`);
  return conn.reader.responses.map((r) => ({ status: r.status, body: r.body.toString('latin1'), headers: r.headers }));
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

/** A handler that answers `/<ms>` after that many ms, logging starts and ends. */
function delayed(log: string[]): Handler {
  return async (req, res) => {
    log.push(`start ${req.url}`);
    await sleep(Number(req.url.slice(1)));
    log.push(`end ${req.url}`);
    res.end(`body of ${req.url}`);
  };
}

describe('pipelineConcurrency', () => {
  it('runs pipelined GET handlers at once and still answers in request order', async () => {
    const log: string[] = [];
    const port = await start(delayed(log), { pipelineConcurrency: 4 });
    const responses = await pipeline(port, get('/120') + get('/10') + get('/40') + get('/1'), 4);
    expect(responses.map((r) => r.body)).toEqual(['body of /120', 'body of /10', 'body of /40', 'body of /1']);
    // All four started before the first finished; the later ones finished first.
    expect(log.slice(0, 4)).toEqual(['start /120', 'start /10', 'start /40', 'start /1']);
    expect(log.indexOf('end /120')).toBe(7);
    // Keep-Alive max counts responses in order, not handler starts.
    expect(responses.map((r) => r.headers['keep-alive'])).toEqual(['timeout=5, max=999', 'timeout=5, max=998', 'timeout=5, max=997', 'timeout=5, max=996']);
  });

  it('runs one at a time by default', async () => {
    const log: string[] = [];
    const port = await start(delayed(log), {});
    await pipeline(port, get('/30') + get('/1'), 2);
    expect(log).toEqual(['start /30', 'end /30', 'start /1', 'end /1']);
  });

  it('never starts a handler ahead of, or alongside, a request of another method', async () => {
    const log: string[] = [];
    const port = await start(async (req, res) => {
      log.push(`start ${req.method} ${req.url}`);
      await req.bytes();
      await sleep(req.method === 'POST' ? 60 : 5);
      log.push(`end ${req.method} ${req.url}`);
      res.end(req.url);
    }, { pipelineConcurrency: 8 });
    const post = 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi';
    const responses = await pipeline(port, get('/a') + post + get('/b') + get('/c'), 4);
    expect(responses.map((r) => r.body)).toEqual(['/a', '/p', '/b', '/c']);
    // /a runs alone (the POST behind it waits), the POST runs alone, then /b and /c together.
    expect(log).toEqual(['start GET /a', 'end GET /a', 'start POST /p', 'end POST /p', 'start GET /b', 'start GET /c', 'end GET /b', 'end GET /c']);
  });

  it('holds a response written ahead within the memory bound: write() returns false, then drain after its turn', async () => {
    const events: string[] = [];
    const big = Buffer.alloc(48 * 1024, 0x61);
    const port = await start(async (req, res) => {
      if (req.url === '/slow') {
        await sleep(60);
        res.end('slow');
        return;
      }
      res.setHeader('content-length', String(big.length * 3));
      let ok = true;
      let written = 0;
      for (; written < 3 && ok; written++) ok = res.write(big);
      events.push(`wrote ${written} then ${ok ? 'ok' : 'full'}`);
      if (!ok) await new Promise((r) => res.once('drain', r));
      events.push('drained');
      for (; written < 3; written++) res.write(big);
      res.end();
    }, { pipelineConcurrency: 2, writeHighWaterMark: 64 * 1024 });
    const responses = await pipeline(port, get('/slow') + get('/big'), 2);
    expect(responses[0]!.body).toBe('slow');
    expect(responses[1]!.body).toBe('a'.repeat(big.length * 3));
    expect(events).toEqual(['wrote 2 then full', 'drained']);
  });

  it('a handler that throws ahead of its turn gets a 500 in its place; the others are answered', async () => {
    const errors: unknown[] = [];
    const port = await start(async (req, res) => {
      if (req.url === '/boom') throw new Error('boom');
      await sleep(req.url === '/first' ? 40 : 1);
      res.end(req.url);
    }, { pipelineConcurrency: 4 });
    server.on('error', (err) => errors.push(err));
    const responses = await pipeline(port, get('/first') + get('/boom') + get('/never'), 2);
    expect(responses.map((r) => r.status)).toEqual([200, 500]);
    expect(responses[1]!.headers.connection).toBe('close');
    expect(errors).toHaveLength(1);
  });

  it('a handler that throws ahead of its turn after writing its head: the connection is destroyed at its turn, after the earlier response', async () => {
    const port = await start(async (req, res) => {
      if (req.url === '/half') {
        res.write('part');
        throw new Error('halfway');
      }
      await sleep(30);
      res.end('whole');
    }, { pipelineConcurrency: 2 });
    const conn = await resources.connect(port);
    conn.send(get('/first') + get('/half'));
    expect(await conn.closed(3000)).toBe(true);
    // The earlier response arrived whole; the half-written one is cut (its chunked body never ends).
    expect(conn.reader.responses.map((r) => r.body.toString('latin1'))).toEqual(['whole']);
    expect(conn.reader.bodyStarted).toBe(true);
  });
});
