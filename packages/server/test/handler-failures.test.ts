/**
 * A handler's failure is charged to its own response and nothing else: a 500 in its place when
 * none of it was written, else the connection closes right after the earlier answers. Never an
 * uncaught exception, never a wedged connection, never another request's answer lost. Over real
 * TCP, for a front handler, a handler started early (pipelineConcurrency), and listeners.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler, ServerOptions, TetherServer } from '../src/index.js';
import { Resources, sleep, waitFor } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

interface Outcome {
  readonly statuses: number[];
  readonly bodies: string[];
  readonly ending: string;
  readonly errors: unknown[];
  readonly uncaught: unknown[];
}

/** Pipeline `paths` on one connection; wait until it closes; collect what the server and process saw. */
async function run(handler: Handler, options: ServerOptions, paths: readonly string[], setup?: (server: TetherServer) => void): Promise<Outcome> {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  try {
    const { server, port } = await resources.server(handler, options);
    const errors: unknown[] = [];
    server.on('error', (err) => errors.push(err));
    setup?.(server);
    const conn = await resources.connect(port);
    conn.send(paths.map(get).join(''));
    expect(await conn.closed(3000)).toBe(true);
    await waitFor(() => server.stats().connections.open === 0, 2000);
    await sleep(5);
    return { statuses: conn.reader.responses.map((r) => r.status), bodies: conn.reader.responses.map((r) => r.body.toString()), ending: conn.ending, errors, uncaught };
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
}

describe('a handler started ahead of its turn (pipelineConcurrency)', () => {
  it('an invalid status recorded early is a 500 at its turn; the earlier answer is whole', async () => {
    const o = await run(
      async (req, res) => {
        if (req.url === '/a') await sleep(20);
        else res.statusCode = 1000;
        res.end(`answer ${req.url}`);
      },
      { pipelineConcurrency: 2 },
      ['/a', '/bad', '/c'],
    );
    expect(o.uncaught).toEqual([]);
    expect(o.statuses).toEqual([200, 500]);
    expect(o.bodies[0]).toBe('answer /a');
    expect(o.ending).toBe('fin');
    expect(o.errors).toEqual([expect.objectContaining({ code: 'ERR_HTTP_INVALID_STATUS_CODE', tetherCode: 'TETHER_INVALID_STATUS' })]);
  });

  it('fields the protocol refuses at replay (Content-Length on a 204) are a 500 at its turn', async () => {
    const o = await run(
      async (req, res) => {
        if (req.url === '/a') await sleep(20);
        else {
          res.statusCode = 204;
          res.setHeader('Content-Length', '5');
        }
        res.end();
      },
      { pipelineConcurrency: 2 },
      ['/a', '/bad'],
    );
    expect(o.uncaught).toEqual([]);
    expect(o.statuses).toEqual([200, 500]);
  });

  it('a throw before its head is a 500 at its turn; after its head, the connection closes after the earlier answers', async () => {
    const before = await run(
      async (req, res) => {
        if (req.url === '/a') {
          await sleep(20);
          res.end('a');
          return;
        }
        throw new Error('early failure');
      },
      { pipelineConcurrency: 2 },
      ['/a', '/b'],
    );
    expect(before.uncaught).toEqual([]);
    expect(before.statuses).toEqual([200, 500]);
    const after = await run(
      async (req, res) => {
        if (req.url === '/a') {
          await sleep(20);
          res.end('a');
          return;
        }
        res.write('part of b');
        throw new Error('failure after the head');
      },
      { pipelineConcurrency: 2 },
      ['/a', '/b', '/c'],
    );
    expect(after.uncaught).toEqual([]);
    expect(after.statuses).toEqual([200]);
    expect(after.bodies).toEqual(['a']);
  });
});

describe('the handler being answered', () => {
  const failings: [string, () => unknown][] = [
    [
      'throws synchronously',
      () => {
        throw new Error('sync');
      },
    ],
    [
      'rejects',
      async () => {
        await sleep(1);
        throw new Error('async');
      },
    ],
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a careless handler's rejection
    ['rejects with undefined', () => Promise.reject(undefined)],
  ];
  it.each(failings)('%s: 500 in its place, after the earlier answers', async (_name, failing) => {
    const o = await run((req, res) => (req.url === '/bad' ? failing() : res.end(req.url)), {}, ['/a', '/bad', '/c']);
    expect(o.uncaught).toEqual([]);
    expect(o.statuses).toEqual([200, 500]);
    expect(o.bodies[0]).toBe('/a');
    expect(o.errors).toHaveLength(1);
  });

  it('a response ended and then a throw: the answer stands, the throw is reported', async () => {
    const o = await run(
      (req, res) => {
        res.setHeader('Connection', req.url === '/c' ? 'close' : 'keep-alive');
        res.end(req.url);
        if (req.url === '/b') throw new Error('after end');
      },
      {},
      ['/a', '/b', '/c'],
    );
    expect(o.uncaught).toEqual([]);
    expect(o.statuses).toEqual([200, 200, 200]);
    expect(o.errors).toHaveLength(1);
  });

  it('a body longer than its Content-Length closes the connection after what was written', async () => {
    const o = await run(
      (req, res) => {
        if (req.url !== '/bad') return void res.end(req.url);
        res.setHeader('Content-Length', '2');
        res.write('ab');
        try {
          res.end('cd');
        } catch (err) {
          expect(err).toMatchObject({ code: 'ERR_HTTP_CONTENT_LENGTH_MISMATCH', tetherCode: 'TETHER_RESPONSE_REFUSED' });
        }
      },
      {},
      ['/a', '/bad', '/c'],
    );
    expect(o.uncaught).toEqual([]);
    expect(o.statuses).toEqual([200, 200]);
    expect(o.bodies).toEqual(['/a', 'ab']);
  });

  it('an error listener that throws does not break the connection (a process warning instead)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const o = await run(
        (req, res) => {
          if (req.url === '/bad') throw new Error('handler');
          res.end(req.url);
        },
        {},
        ['/a', '/bad'],
        (server) =>
          server.on('error', () => {
            throw new Error('listener');
          }),
      );
      expect(o.uncaught).toEqual([]);
      expect(o.statuses).toEqual([200, 500]);
      await waitFor(() => warnings.length > 0, 1000);
      expect(warnings.map((w) => w.message)).toContain('listener');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an upgrade listener that throws: reported, the connection closes, earlier answers whole', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const { server, port } = await resources.server((req, res) => res.end(req.url));
      const errors: unknown[] = [];
      server.on('error', (err) => errors.push(err));
      server.on('upgrade', () => {
        throw new Error('upgrade listener');
      });
      const conn = await resources.connect(port);
      conn.send(`${get('/a')}GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n`);
      expect(await conn.closed(3000)).toBe(true);
      expect(conn.reader.responses.map((r) => r.status)).toEqual([200]);
      expect(uncaught).toEqual([]);
      expect(errors).toHaveLength(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe('a connection closed for a broken response', () => {
  it('serves nothing more: the handler\'s later end() and the requests behind it are dropped, not answered on a dead socket', async () => {
    const { server, port } = await resources.server(
      (req, res) => {
        if (req.url !== '/a') return void res.end(req.url);
        res.statusCode = 205;
        try {
          res.write('no body allowed');
        } catch {
          // The refusal: the head is out, the connection is closing.
        }
        res.end();
      },
      { keepAliveMax: 2 },
    );
    const conn = await resources.connect(port);
    conn.send(get('/a') + get('/b'));
    expect(await conn.closed(3000)).toBe(true);
    expect(conn.reader.responses.map((r) => r.status)).toEqual([205]);
    await waitFor(() => server.stats().connections.open === 0, 2000);
    expect(server.stats().closedBy.error).toBe(1);
    expect(server.stats().closedBy['keep-alive-max']).toBe(0);
  });
});
