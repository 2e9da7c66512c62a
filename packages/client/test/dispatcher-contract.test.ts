/**
 * The undici Dispatcher contract of Pool and Client, over real sockets: both handler styles and
 * their call order, the controller (pause stops the socket being read, resume goes on, abort
 * reaches the error callback once), `dispatch()`'s return value and `'drain'`, the connection
 * events, close/destroy in both forms, every header form, refusals (upgrade, CONNECT, another
 * origin), per-request timeouts, undici's `request`/`stream`/`pipeline` on a tether dispatcher,
 * and handler misuse — throwing callbacks, pause/resume/abort at random points — that never
 * crashes the process nor costs the other requests on the connection their data.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { Handler, ServerOptions } from '@tether/server';
import fc from 'fast-check';
import { pipeline as undiciPipeline, request as undiciRequest, stream as undiciStream } from 'undici';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, ClientError, Pool } from '../src/index.js';
import type { DispatchController, DispatchHandler, DispatchOptions, PoolOptions } from '../src/index.js';
import { startNginx } from './nginx.js';
import { eventually } from './outcome.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

const tether = (handler: Handler, options?: ServerOptions): Promise<string> => resources.tether(handler, options);

const pool = (origin: string, options: PoolOptions = {}): Pool => resources.pool(origin, options);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a handler saw: the calls in order, the body, and how it ended. */
interface Seen {
  readonly calls: string[];
  status: number;
  headers: unknown;
  body: Buffer[];
  trailers: unknown;
  error: Error | null;
  readonly done: Promise<void>;
}

function recorder(): { seen: Seen; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { seen: { calls: [], status: 0, headers: null, body: [], trailers: null, error: null, done }, finish };
}

/** A new-style handler recording what it sees; `hooks` may act on the controller. */
function modern(hooks: { onData?: (c: DispatchController, chunk: Buffer) => void; onStart?: (c: DispatchController) => void } = {}): { handler: DispatchHandler; seen: Seen } {
  const { seen, finish } = recorder();
  const handler: DispatchHandler = {
    onRequestStart(controller) {
      seen.calls.push('onRequestStart');
      hooks.onStart?.(controller);
    },
    onResponseStart(_c, status, headers) {
      seen.calls.push('onResponseStart');
      seen.status = status;
      seen.headers = headers;
    },
    onResponseData(controller, chunk) {
      if (seen.calls.at(-1) !== 'onResponseData') seen.calls.push('onResponseData');
      seen.body.push(chunk);
      hooks.onData?.(controller, chunk);
    },
    onResponseEnd(_c, trailers) {
      seen.calls.push('onResponseEnd');
      seen.trailers = trailers;
      finish();
    },
    onResponseError(_c, err) {
      seen.calls.push('onResponseError');
      seen.error = err;
      finish();
    },
  };
  return { handler, seen };
}

/** A legacy handler recording what it sees. */
function legacy(hooks: { onHeaders?: (resume: () => void) => boolean; onData?: (chunk: Buffer) => boolean } = {}): { handler: DispatchHandler; seen: Seen } {
  const { seen, finish } = recorder();
  const handler: DispatchHandler = {
    onConnect() {
      seen.calls.push('onConnect');
    },
    onHeaders(status, rawHeaders, resume) {
      seen.calls.push('onHeaders');
      seen.status = status;
      seen.headers = rawHeaders;
      return hooks.onHeaders?.(resume) ?? true;
    },
    onData(chunk) {
      if (seen.calls.at(-1) !== 'onData') seen.calls.push('onData');
      seen.body.push(chunk);
      return hooks.onData?.(chunk) ?? true;
    },
    onComplete(trailers) {
      seen.calls.push('onComplete');
      seen.trailers = trailers;
      finish();
    },
    onError(err) {
      seen.calls.push('onError');
      seen.error = err;
      finish();
    },
  };
  return { handler, seen };
}

const text = (seen: Seen): string => Buffer.concat(seen.body).toString();

describe('handler styles', () => {
  it('new style: onRequestStart, onResponseStart (parsed headers), onResponseData, onResponseEnd (trailers)', async () => {
    const origin = await tether((req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('trailer', 'x-sum');
      res.write('chunked ');
      res.addTrailers({ 'x-sum': '42' });
      res.end(`body of ${req.url}`);
    });
    const { handler, seen } = modern();
    pool(origin).dispatch({ origin, path: '/m', method: 'GET' }, handler);
    await seen.done;
    expect(seen.calls).toEqual(['onRequestStart', 'onResponseStart', 'onResponseData', 'onResponseEnd']);
    expect(seen.status).toBe(200);
    expect(seen.headers).toMatchObject({ 'set-cookie': ['a=1', 'b=2'], 'transfer-encoding': 'chunked' });
    expect(text(seen)).toBe('chunked body of /m');
    expect(seen.trailers).toEqual({ 'x-sum': '42' });
  });

  it('legacy style: onConnect, onHeaders (raw Buffers), onData, onComplete (raw trailers)', async () => {
    const origin = await tether((req, res) => res.end(`body of ${req.url}`));
    const { handler, seen } = legacy();
    pool(origin).dispatch({ path: '/l', method: 'GET', headers: ['x-a', '1'] }, handler);
    await seen.done;
    expect(seen.calls).toEqual(['onConnect', 'onHeaders', 'onData', 'onComplete']);
    const raw = seen.headers as Buffer[];
    expect(raw.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(raw.map((b) => b.toString()).join('|').toLowerCase()).toContain('content-length|10');
    expect(text(seen)).toBe('body of /l');
    expect(seen.trailers).toEqual([]);
  });

  it('headers as a record, a flat array, pairs, a Map and Headers all arrive', async () => {
    const origin = await tether((req, res) => res.end(`${String(req.headers['x-one'])} ${String(req.headers['x-two'])}`));
    const p = pool(origin);
    const forms: DispatchOptions['headers'][] = [
      { 'x-one': '1', 'x-two': ['2', '3'] },
      ['x-one', '1', 'x-two', Buffer.from('2, 3')],
      [['x-one', '1'], ['x-two', '2, 3']],
      new Map([['x-one', '1'], ['x-two', '2, 3']]),
      new Headers({ 'x-one': '1', 'x-two': '2, 3' }),
    ];
    for (const headers of forms) {
      const { handler, seen } = modern();
      p.dispatch({ path: '/', method: 'GET', headers }, handler);
      await seen.done;
      expect(text(seen)).toBe('1 2, 3');
    }
  });
});

describe('controller and backpressure', () => {
  const BIG = 16 * 1024 * 1024;
  async function bigServer(): Promise<{ origin: string; written: () => number }> {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'y');
    const origin = await tether(async (_req, res) => {
      res.writeHead(200, { 'content-length': String(BIG) });
      for (let sent = 0; sent < BIG; sent += chunk.length) {
        written += chunk.length;
        if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
      }
      res.end();
    });
    return { origin, written: () => written };
  }

  it('a paused controller stops the socket being read until resume()', async () => {
    const { origin, written } = await bigServer();
    let controller: DispatchController | null = null;
    const { handler, seen } = modern({
      onData: (c) => {
        if (controller === null) {
          controller = c;
          c.pause();
        }
      },
    });
    pool(origin).dispatch({ path: '/big', method: 'GET' }, handler);
    await eventually(() => controller !== null);
    await sleep(300);
    const received = Buffer.concat(seen.body).length;
    expect(received).toBeLessThan(1024 * 1024);
    expect(written()).toBeLessThan(BIG / 2);
    expect(controller!.paused).toBe(true);
    controller!.resume();
    await seen.done;
    expect(seen.calls.at(-1)).toBe('onResponseEnd');
    expect(Buffer.concat(seen.body).length).toBe(BIG);
  });

  it('legacy: false from onHeaders and onData pauses, resume() goes on', async () => {
    const { origin, written } = await bigServer();
    let resume: (() => void) | null = null;
    let pauses = 0;
    const { handler, seen } = legacy({
      onHeaders: (r) => {
        resume = r;
        return false;
      },
      onData: () => {
        pauses++;
        setImmediate(() => resume!());
        return false;
      },
    });
    pool(origin).dispatch({ path: '/big', method: 'GET' }, handler);
    await eventually(() => resume !== null);
    await sleep(200);
    expect(seen.body).toHaveLength(0);
    expect(written()).toBeLessThan(BIG / 2);
    resume!();
    await seen.done;
    expect(seen.calls.at(-1)).toBe('onComplete');
    expect(Buffer.concat(seen.body).length).toBe(BIG);
    expect(pauses).toBeGreaterThan(1);
  });

  it('abort(reason) reaches the error callback once, with the reason; a second abort is ignored', async () => {
    const origin = await tether(async (_req, res) => {
      await sleep(5000);
      res.end('late');
    });
    let controller: DispatchController | null = null;
    const { handler, seen } = modern({ onStart: (c) => (controller = c) });
    pool(origin).dispatch({ path: '/', method: 'GET' }, handler);
    await sleep(30);
    const reason = new Error('changed my mind');
    controller!.abort(reason);
    controller!.abort(new Error('again'));
    await seen.done;
    expect(seen.calls).toEqual(['onRequestStart', 'onResponseError']);
    expect(seen.error).toBe(reason);
    expect(controller!.aborted).toBe(true);
    expect(controller!.reason).toBe(reason);
  });

  it('an AbortSignal in the options cancels the request', async () => {
    const origin = await tether(async (_req, res) => {
      await sleep(5000);
      res.end('late');
    });
    const ac = new AbortController();
    const { handler, seen } = legacy();
    pool(origin).dispatch({ path: '/', method: 'GET', signal: ac.signal }, handler);
    await sleep(30);
    ac.abort(new Error('stop'));
    await seen.done;
    expect(seen.calls).toEqual(['onConnect', 'onError']);
    expect(seen.error?.message).toBe('stop');
  });
});

describe('dispatcher life-cycle', () => {
  it("dispatch() returns false once the pool is saturated, then 'drain' follows", async () => {
    const origin = await tether((req, res) => res.end(`body of ${req.url}`));
    const client = new Client(origin);
    resources.defer(() => client.destroy());
    const drains: unknown[][] = [];
    client.on('drain', (...args: unknown[]) => drains.push(args));
    const results: boolean[] = [];
    const seen: Seen[] = [];
    for (let i = 0; i < 3; i++) {
      const h = modern();
      seen.push(h.seen);
      results.push(client.dispatch({ path: `/${i}`, method: 'GET' }, h.handler));
    }
    expect(results).toEqual([true, false, false]);
    await Promise.all(seen.map((s) => s.done));
    expect(seen.map(text)).toEqual(['body of /0', 'body of /1', 'body of /2']);
    await eventually(() => drains.length > 0);
    expect(drains[0]).toEqual([origin, [client]]);
  });

  it("emits 'connect', 'disconnect' and 'connectionError' with undici's arguments", async () => {
    const origin = await tether((_req, res) => res.end('x'));
    const p = pool(origin);
    const events: { name: string; args: unknown[] }[] = [];
    for (const name of ['connect', 'disconnect', 'connectionError']) p.on(name, (...args: unknown[]) => events.push({ name, args }));
    const { handler, seen } = modern();
    p.dispatch({ path: '/', method: 'GET' }, handler);
    await seen.done;
    await p.close();
    expect(events.map((e) => e.name)).toEqual(['connect', 'disconnect']);
    expect(events[0]!.args).toEqual([origin, [p]]);
    expect(events[1]!.args.slice(0, 2)).toEqual([origin, [p]]);
    expect(events[1]!.args[2]).toBeInstanceOf(Error);
  });

  it('close() and destroy() take a callback or give a promise, asyncDispose closes; closed/destroyed say so; later dispatches fail', async () => {
    const origin = await tether((_req, res) => res.end('x'));
    const a = new Pool(origin);
    expect([a.closed, a.destroyed]).toEqual([false, false]);
    await new Promise<void>((resolve) => a.close(() => resolve()));
    expect([a.closed, a.destroyed]).toEqual([true, false]);
    const { handler, seen } = legacy();
    expect(a.dispatch({ path: '/', method: 'GET' }, handler)).toBe(false);
    await seen.done;
    expect(seen.error).toMatchObject({ code: 'TETHER_CLOSED' });
    const b = new Pool(origin);
    await new Promise<void>((resolve) => b.destroy(null, () => resolve()));
    expect([b.closed, b.destroyed]).toEqual([true, true]);
    const c = new Pool(origin);
    await c.destroy(new Error('bye'));
    expect(c.destroyed).toBe(true);
    const d = new Client(origin);
    const { handler: h, seen: s } = modern();
    d.dispatch({ path: '/', method: 'GET' }, h);
    // `await using`: disposal closes gracefully, after the request in flight.
    await d[Symbol.asyncDispose]();
    expect([d.closed, d.destroyed]).toEqual([true, false]);
    await s.done;
    expect(s.calls.at(-1)).toBe('onResponseEnd');
  });

  it('refuses an upgrade, CONNECT and another origin through the handler, with a clear error', async () => {
    const origin = await tether((_req, res) => res.end('x'));
    const p = pool(origin);
    const cases: DispatchOptions[] = [
      { path: '/', method: 'GET', upgrade: 'websocket' },
      { path: '/', method: 'CONNECT' },
      { origin: 'http://example.com', path: '/', method: 'GET' },
      { path: '/', method: 'GET', headers: { 'transfer-encoding': 'chunked' } },
    ];
    const messages: string[] = [];
    for (const options of cases) {
      const { handler, seen } = modern();
      expect(p.dispatch(options, handler)).toBe(false);
      await seen.done;
      expect(seen.error).toBeInstanceOf(ClientError);
      expect(seen.error).toMatchObject({ code: 'TETHER_INVALID_REQUEST', mayHaveBeenProcessed: false });
      messages.push(seen.error!.message);
    }
    expect(messages[0]).toMatch(/upgrade.*not supported/);
    expect(messages[1]).toMatch(/CONNECT is not supported/);
    expect(messages[2]).toMatch(/not this pool's origin/);
  });

  it('a per-request headersTimeout overrides the pool’s', async () => {
    const origin = await tether(async (_req, res) => {
      await sleep(2000);
      res.end('late');
    });
    const { handler, seen } = modern();
    pool(origin, { headersTimeout: 60_000 }).dispatch({ path: '/', method: 'GET', headersTimeout: 50 }, handler);
    await seen.done;
    expect(seen.error).toMatchObject({ code: 'TETHER_HEADERS_TIMEOUT' });
  });

  it('per-request timeouts follow the pool options’ rule: 0 and Infinity mean none, NaN and negatives are refused', async () => {
    const origin = await tether((_req, res) => res.end('ok'));
    const p = pool(origin);
    for (const headersTimeout of [0, Number.POSITIVE_INFINITY]) {
      const { handler, seen } = modern();
      p.dispatch({ path: '/', method: 'GET', headersTimeout, bodyTimeout: headersTimeout }, handler);
      await seen.done;
      expect(seen.error, String(headersTimeout)).toBeNull();
      expect(seen.status).toBe(200);
    }
    for (const bodyTimeout of [Number.NaN, -1, 1.5]) {
      const { handler, seen } = modern();
      p.dispatch({ path: '/', method: 'GET', bodyTimeout }, handler);
      await seen.done;
      expect(seen.error, String(bodyTimeout)).toMatchObject({ code: 'TETHER_INVALID_REQUEST', mayHaveBeenProcessed: false });
      expect(seen.error!.message).toMatch(/bodyTimeout/);
    }
  });
});

/** Echo `METHOD url body` (node:http's handler shape; @tether/server runs it unchanged). */
const echo: http.RequestListener = (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => res.end(`${req.method} ${req.url} ${Buffer.concat(parts).toString()}`));
};

async function nodeHttp(): Promise<string> {
  const server = http.createServer(echo);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  resources.defer(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function nginxEcho(): Promise<string> {
  const nginx = await startNginx({ keepaliveRequests: 5 });
  resources.defer(() => nginx.stop());
  return nginx.origin;
}

/** Each server, and what it answers `METHOD /body<path>` carrying `body` with. */
const SERVERS: readonly [string, () => Promise<string>, (method: string, path: string, body: string) => string][] = [
  ['@tether/server', () => tether(echo as unknown as Handler), (m, p, b) => `${m} ${p} ${b}`],
  ['node:http', nodeHttp, (m, p, b) => `${m} ${p} ${b}`],
  // nginx reads and discards the body, and names its length (chunked when it had none).
  ['nginx', nginxEcho, (m, p, b) => `${m} ${p} length=${b === '' ? '' : String(b.length)} chunked=\n`],
];

describe("undici's request, stream and pipeline on a tether dispatcher", () => {
  for (const [name, start, expected] of SERVERS) {
    it(`request(), stream() and pipeline() work end to end against ${name}`, async () => {
      const origin = await start();
      const dispatcher = pool(origin, { pipelining: 4 }) as unknown as Dispatcher;
      const r = await undiciRequest(`${origin}/body/req`, { dispatcher, method: 'POST', body: 'posted' });
      expect(r.statusCode).toBe(200);
      expect(await r.body.text()).toBe(expected('POST', '/body/req', 'posted'));

      const collected: Buffer[] = [];
      await undiciStream(`${origin}/body/stream`, { dispatcher, method: 'GET', opaque: collected }, ({ opaque }) => {
        const sink = opaque;
        return new Writable({
          write(chunk: Buffer, _enc, cb) {
            sink.push(chunk);
            cb();
          },
        });
      });
      expect(Buffer.concat(collected).toString()).toBe(expected('GET', '/body/stream', ''));

      const out = new PassThrough();
      const piped: Buffer[] = [];
      out.on('data', (c: Buffer) => piped.push(c));
      const input = Readable.from([Buffer.from('piped '), Buffer.from('body')]);
      await streamPipeline(input, undiciPipeline(`${origin}/body/pipe`, { dispatcher, method: 'PUT' }, ({ body }) => body), out);
      const pipedText = Buffer.concat(piped).toString();
      if (name === 'nginx') expect(pipedText).toBe('PUT /body/pipe length= chunked=chunked\n');
      else expect(pipedText).toBe(expected('PUT', '/body/pipe', 'piped body'));
    });
  }
});

describe('handler misuse', () => {
  it('a throwing onData aborts that request only: the others on the connection get their data', async () => {
    const origin = await tether((req, res) => res.end(`body of ${req.url}`));
    const client = new Client(origin, { pipelining: 5 });
    resources.defer(() => client.destroy());
    const handlers = Array.from({ length: 5 }, (_, i) =>
      i === 2
        ? modern({
            onData: () => {
              throw new Error('handler bug');
            },
          })
        : modern(),
    );
    handlers.forEach(({ handler }, i) => client.dispatch({ path: `/${i}`, method: 'GET' }, handler));
    await Promise.all(handlers.map((h) => h.seen.done));
    expect(handlers[2]!.seen.error?.message).toBe('handler bug');
    for (const i of [0, 1, 3, 4]) expect(text(handlers[i]!.seen)).toBe(`body of /${i}`);
  });

  it('a handler destroying its pool mid-batch: every request on the connection settles once, nothing throws', async () => {
    const origin = await tether((req, res) => res.end(`body of ${req.url}`));
    const client = new Client(origin, { pipelining: 3 });
    resources.defer(() => client.destroy());
    // The connection's persistence is confirmed first, so the three are pipelined: their
    // responses arrive together, and the first handler destroys the pool while they are parsed.
    await (await client.request({ path: '/warm' })).text();
    const handlers = Array.from({ length: 3 }, () => modern({ onData: () => void client.destroy() }));
    handlers.forEach(({ handler }, i) => client.dispatch({ path: `/${i}`, method: 'GET' }, handler));
    await Promise.all(handlers.map((h) => h.seen.done));
    for (const { seen } of handlers) {
      expect(seen.calls.filter((c) => c === 'onResponseEnd' || c === 'onResponseError')).toHaveLength(1);
      expect(seen.error).toMatchObject({ code: 'TETHER_CLOSED' });
    }
    await sleep(20);
    expect(client.destroyed).toBe(true);
  });

  it('property: random throws, pauses, resumes and aborts never crash the process nor starve other requests', { timeout: 60_000 }, async () => {
    const origin = await tether((req, res) => res.end(`body of ${req.url} `.repeat(Number(req.url.split('/')[2]) + 1)));
    type Act = 'none' | 'throw' | 'pause-resume' | 'abort' | 'double-abort' | 'close-pool' | 'destroy-pool';
    type Where = 'start' | 'head' | 'data' | 'end';
    const plan = fc.record({ act: fc.constantFrom<Act>('none', 'throw', 'pause-resume', 'abort', 'double-abort', 'close-pool', 'destroy-pool'), where: fc.constantFrom<Where>('start', 'head', 'data', 'end'), style: fc.constantFrom('modern', 'legacy'), size: fc.integer({ min: 0, max: 2000 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(plan, { minLength: 1, maxLength: 8 }), async (plans) => {
        const client = new Client(origin, { pipelining: 4 });
        try {
          const runs = plans.map((p, i) => {
            let terminal = 0;
            let ok = false;
            let body = '';
            let finish!: () => void;
            const done = new Promise<void>((resolve) => (finish = resolve));
            const act = (where: Where, controller: { pause(): void; resume(): void; abort(e?: Error): void }): void => {
              if (p.where !== where) return;
              switch (p.act) {
                case 'throw':
                  throw new Error(`thrown at ${where}`);
                case 'pause-resume':
                  controller.pause();
                  setImmediate(() => controller.resume());
                  return;
                case 'abort':
                  controller.abort(new Error('aborted'));
                  return;
                case 'double-abort':
                  controller.abort(new Error('aborted'));
                  controller.abort(new Error('aborted twice'));
                  return;
                case 'close-pool':
                  void client.close();
                  return;
                case 'destroy-pool':
                  void client.destroy();
                  return;
                case 'none':
                  return;
              }
            };
            const end = (success: boolean): void => {
              terminal++;
              ok = success;
              finish();
            };
            let handler: DispatchHandler;
            if (p.style === 'modern') {
              handler = {
                onRequestStart: (c) => act('start', c),
                onResponseStart: (c) => act('head', c),
                onResponseData: (c, chunk) => {
                  body += chunk.toString();
                  act('data', c);
                },
                onResponseEnd: (c) => {
                  act('end', c);
                  end(true);
                },
                onResponseError: () => end(false),
              };
            } else {
              let abort: (e?: Error) => void = () => undefined;
              let resume: () => void = () => undefined;
              let paused = false;
              const controller = {
                pause: () => (paused = true),
                resume: () => resume(),
                abort: (e?: Error) => abort(e),
              };
              // Legacy handlers pause by returning false, and must then call resume themselves.
              const take = (): boolean => {
                if (!paused) return true;
                paused = false;
                setImmediate(() => resume());
                return false;
              };
              handler = {
                onConnect: (a) => {
                  abort = a;
                  act('start', controller);
                },
                onHeaders: (_s, _h, r) => {
                  resume = r;
                  act('head', controller);
                  return take();
                },
                onData: (chunk) => {
                  body += chunk.toString();
                  act('data', controller);
                  return take();
                },
                onComplete: () => {
                  act('end', controller);
                  end(true);
                },
                onError: () => end(false),
              };
            }
            client.dispatch({ path: `/${i}/${p.size}`, method: 'GET' }, handler);
            return { p, i, done, result: () => ({ terminal, ok, body }) };
          });
          const deadline = sleep(10_000).then(() => 'timeout' as const);
          // A handler destroying the pool fails whatever has not completed, its own request
          // included; one closing it from onRequestStart makes the pool refuse the later dispatches.
          const destroys = plans.some((p) => p.act === 'destroy-pool' || (p.act === 'close-pool' && p.where === 'start'));
          for (const run of runs) {
            const outcome = await Promise.race([run.done.then(() => 'done' as const), deadline]);
            expect(outcome).toBe('done');
            await sleep(0);
            const { terminal, ok, body } = run.result();
            // Exactly one of end or error, whatever the handler did.
            expect(terminal).toBe(1);
            const harmless = run.p.act === 'none' || run.p.act === 'pause-resume' || run.p.act === 'close-pool' || run.p.where === 'end';
            if (harmless && run.p.act !== 'throw' && !destroys) {
              expect(ok).toBe(true);
              expect(body).toBe(`body of /${run.i}/${run.p.size} `.repeat(run.p.size + 1));
            }
          }
        } finally {
          await client.destroy();
        }
      }),
      { numRuns: 30 },
    );
  });
});
