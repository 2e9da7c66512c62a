/**
 * Whether a response closes its connection is the server's decision (response-policy.ts); a
 * handler's `Connection` header can add a close, never cancel one; a closing response never
 * advertises Keep-Alive; an advertised `max` is never negative nor more than the server serves.
 * Over real TCP, with a raw client that pipelines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler, ServerOptions } from '../src/index.js';
import { Resources, waitFor } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

/** Pipeline `paths`, wait for the connection to close, return its responses and how it ended. */
async function pipelineUntilClosed(handler: Handler, options: ServerOptions, paths: readonly string[]) {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const { server, port } = await resources.server(handler, options);
    const conn = await resources.connect(port);
    conn.send(paths.map(get).join(''));
    expect(await conn.closed(3000)).toBe(true);
    expect(await waitFor(() => server.stats().connections.open === 0, 3000)).toBe(true);
    return { responses: conn.reader.responses, ending: conn.ending, uncaught, stats: server.stats() };
  } finally {
    process.off('uncaughtException', onUncaught);
  }
}

describe('a handler\'s Connection header', () => {
  it('Connection: keep-alive cannot cancel the close after keepAliveMax (no RangeError, max never below 1)', async () => {
    const r = await pipelineUntilClosed(
      (_req, res) => {
        res.setHeader('Connection', 'keep-alive');
        res.end('ok');
      },
      { keepAliveMax: 2 },
      ['/1', '/2', '/3'],
    );
    expect(r.uncaught).toEqual([]);
    expect(r.responses.map((x) => x.status)).toEqual([200, 200]);
    expect(r.responses.map((x) => x.headers.connection)).toEqual(['keep-alive', 'close']);
    expect(r.responses.map((x) => x.headers['keep-alive'])).toEqual(['timeout=5, max=1', undefined]);
    expect(r.ending).toBe('fin');
    expect(r.stats.closedBy['keep-alive-max']).toBe(1);
  });

  it('Connection: keep-alive with other tokens keeps them on the closing response', async () => {
    const r = await pipelineUntilClosed(
      (_req, res) => {
        res.setHeader('Connection', 'keep-alive, x-trace');
        res.setHeader('X-Trace', '1');
        res.end('ok');
      },
      { keepAliveMax: 1 },
      ['/1'],
    );
    expect(r.responses[0]!.headers.connection).toBe('close, x-trace');
    expect(r.responses[0]!.headers['keep-alive']).toBeUndefined();
  });

  it('Connection: close closes, and the server\'s Keep-Alive is not sent with it', async () => {
    const r = await pipelineUntilClosed(
      (_req, res) => {
        res.setHeader('Connection', 'close');
        res.end('ok');
      },
      {},
      ['/1', '/2'],
    );
    expect(r.responses.map((x) => x.status)).toEqual([200]);
    expect(r.responses[0]!.headers.connection).toBe('close');
    expect(r.responses[0]!.headers['keep-alive']).toBeUndefined();
    expect(r.stats.closedBy['connection-close']).toBe(1);
  });

  it('a handler\'s own Keep-Alive is replaced by the server\'s (it cannot promise more than is served)', async () => {
    const { port } = await resources.server(
      (_req, res) => {
        res.setHeader('Keep-Alive', 'timeout=600, max=100000');
        res.end('ok');
      },
      { keepAliveMax: 3 },
    );
    const conn = await resources.connect(port);
    conn.send(get('/1') + get('/2') + get('/3'));
    expect(await conn.closed(3000)).toBe(true);
    expect(conn.reader.responses.map((x) => x.headers['keep-alive'])).toEqual(['timeout=5, max=2', 'timeout=5, max=1', undefined]);
    expect(conn.reader.responses.map((x) => x.headers.connection)).toEqual(['keep-alive', 'keep-alive', 'close']);
  });

  it('Keep-Alive is named in Connection: keep-alive; with no advertisement, neither is sent', async () => {
    for (const [advertiseKeepAlive, connection, keepAlive] of [
      [true, 'keep-alive', 'timeout=5, max=999'],
      [false, undefined, undefined],
    ] as const) {
      const { port } = await resources.server((_req, res) => res.end('ok'), { advertiseKeepAlive });
      const conn = await resources.connect(port);
      conn.send(get('/'));
      expect(await conn.until(() => conn.reader.responses.length === 1, 3000)).toBe(true);
      const res = conn.reader.responses[0];
      expect([res!.headers.connection, res!.headers['keep-alive']], `advertiseKeepAlive: ${advertiseKeepAlive}`).toEqual([connection, keepAlive]);
    }
  });

  it('with Connection: close and the handler\'s Keep-Alive, the response carries neither keep-alive nor Keep-Alive', async () => {
    const r = await pipelineUntilClosed(
      (_req, res) => {
        res.setHeader('Connection', 'close, keep-alive');
        res.setHeader('Keep-Alive', 'timeout=5, max=998');
        res.end('ok');
      },
      {},
      ['/1'],
    );
    expect(r.responses[0]!.headers.connection).toBe('close');
    expect(r.responses[0]!.headers['keep-alive']).toBeUndefined();
  });
});

describe('Keep-Alive max while shutting down', () => {
  it('no Keep-Alive is advertised once a shutdown began; the last received request is answered with close', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { server, port } = await resources.server(async (req, res) => {
      if (req.url === '/1') await gate;
      res.end(req.url);
    });
    const conn = await resources.connect(port);
    conn.send(get('/1') + get('/2'));
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close({ timeout: 2000 });
    release();
    expect(await conn.closed(3000)).toBe(true);
    expect(conn.reader.responses.map((x) => x.body.toString())).toEqual(['/1', '/2']);
    expect(conn.reader.responses.map((x) => x.headers['keep-alive'])).toEqual([undefined, undefined]);
    expect(conn.reader.responses.map((x) => x.headers.connection)).toEqual([undefined, 'close']);
    expect((await closing).forced).toBe(0);
  });
});
