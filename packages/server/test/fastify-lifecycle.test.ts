/**
 * Fastify 5's request life cycle on tether, each scenario run the same way against Fastify on
 * node:http: errors as Fastify formats them (a throw → 500, an error's `statusCode`, a scoped
 * error handler, the 404 route, a body nobody reads, a stream reply that fails after its head),
 * hooks (onRequest, a short-circuiting onRequest, onSend, onResponse after the response,
 * onRequestAbort when the client leaves), keep-alive reuse, a pipelining client (one write of
 * several requests; responses complete and in order), and `app.close()`: idle connections close
 * at once, an in-flight request completes, then its connection closes.
 */

import net from 'node:net';
import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';
import { FASTIFY_SERVERS, fastifyApps } from './fastify-apps.js';
import { Gate, PIPELINED_JSON, checkGracefulClose, countConnections, fetchRaw, sendPipelined } from './http-helpers.js';

describe.each(FASTIFY_SERVERS)('Fastify on $name', ({ name, options }) => {
  const { apps, agents, sockets, start } = fastifyApps(options);

  it('errors as Fastify formats them: a throw is a 500, statusCode is kept, a scoped handler, the 404 route', async () => {
    const { port, agent } = await start(async (app) => {
      app.get('/throw', () => {
        throw new Error('boom');
      });
      app.get('/teapot', async () => {
        await Promise.resolve();
        throw Object.assign(new Error('short and stout'), { statusCode: 418 });
      });
      await app.register((scope, _options, done) => {
        scope.setErrorHandler((error: Error, _request, reply) => reply.code(503).send({ scoped: error.message }));
        scope.get('/scoped', () => {
          throw new Error('inside');
        });
        done();
      });
    });

    const thrown = await fetchRaw(port, '/throw', { agent });
    expect([thrown.status, thrown.headers['content-type'], JSON.parse(thrown.text)]).toEqual([500, 'application/json; charset=utf-8', { statusCode: 500, error: 'Internal Server Error', message: 'boom' }]);
    const teapot = await fetchRaw(port, '/teapot', { agent });
    expect([teapot.status, JSON.parse(teapot.text)]).toEqual([418, { statusCode: 418, error: "I'm a Teapot", message: 'short and stout' }]);
    const scoped = await fetchRaw(port, '/scoped', { agent });
    expect([scoped.status, scoped.text]).toEqual([503, '{"scoped":"inside"}']);
    const missing = await fetchRaw(port, '/nope?x=1', { agent });
    expect([missing.status, JSON.parse(missing.text)]).toEqual([404, { message: 'Route GET:/nope?x=1 not found', error: 'Not Found', statusCode: 404 }]);

    // A 404 for a POST whose body nobody reads: the connection is still good for the next request.
    const unread = await fetchRaw(port, '/nope', { agent, method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(256 * 1024, 7) });
    expect(unread.status).toBe(404);
    const after = await fetchRaw(port, '/throw', { agent });
    expect(after.status).toBe(500);
    expect(after.socket).toBe(thrown.socket);
  });

  it('a stream reply that fails after its head cuts the connection: the client sees a truncated response', async () => {
    const { port, agent } = await start((app) => {
      app.get('/fails', (_request, reply) => {
        const stream = new PassThrough();
        stream.write('the start, ');
        setImmediate(() => stream.destroy(new Error('disk on fire')));
        return reply.type('text/plain').send(stream);
      });
      app.get('/ok', () => 'ok');
    });
    const failed = fetchRaw(port, '/fails', { agent });
    await expect(failed).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    const ok = await fetchRaw(port, '/ok', { agent });
    expect([ok.status, ok.text]).toEqual([200, 'ok']);
  });

  it('hooks: onRequest, a short-circuit, onSend rewriting the payload, onResponse after the response', async () => {
    const log: string[] = [];
    let responded = new Gate();
    const { port, agent } = await start((app) => {
      app.addHook('onRequest', (request, reply, done) => {
        log.push(`onRequest ${request.url}`);
        reply.header('x-seen-by', 'onRequest');
        if (request.url === '/private') reply.code(401).send({ denied: true });
        else done();
      });
      app.addHook('preHandler', async (request) => {
        await Promise.resolve();
        log.push(`preHandler ${request.url}`);
      });
      app.addHook('onSend', async (request, reply, payload) => {
        log.push(`onSend ${request.url}`);
        reply.header('x-original-length', String(String(payload).length));
        return typeof payload === 'string' ? payload.replace('world', 'tether') : payload;
      });
      app.addHook('onResponse', async (request, reply) => {
        log.push(`onResponse ${request.url} ${reply.statusCode} ${reply.raw.writableFinished}`);
        responded.open();
      });
      app.get('/hello', () => ({ hello: 'world' }));
      app.get('/private', () => ({ secret: true }));
    });

    const hello = await fetchRaw(port, '/hello', { agent });
    expect([hello.status, hello.text, hello.headers['x-seen-by'], hello.headers['x-original-length']]).toEqual([200, '{"hello":"tether"}', 'onRequest', '17']);
    await responded.promise;
    expect(log).toEqual(['onRequest /hello', 'preHandler /hello', 'onSend /hello', 'onResponse /hello 200 true']);

    log.length = 0;
    responded = new Gate();
    const denied = await fetchRaw(port, '/private', { agent });
    expect([denied.status, denied.text]).toEqual([401, '{"denied":true}']);
    await responded.promise;
    expect(log).toEqual(['onRequest /private', 'onSend /private', 'onResponse /private 401 true']);
  });

  it('onRequestAbort and request.signal fire when the client resets the connection before the reply', async () => {
    const entered = new Gate();
    const hook = new Gate();
    const signal = new Gate();
    const release = new Gate();
    const { port } = await start((app) => {
      app.addHook('onRequestAbort', async (request) => {
        await Promise.resolve();
        if (request.raw.aborted) hook.open();
      });
      app.get('/wait', async (request) => {
        request.signal.addEventListener('abort', () => signal.open());
        entered.open();
        await release.promise;
        return 'late';
      });
    });
    const socket = net.connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write('GET /wait HTTP/1.1\r\nhost: x\r\n\r\n');
    await entered.promise;
    // A reset: the client is gone. (After a FIN alone tether still answers, where node:http
    // aborts: a client may half-close once its requests are sent.)
    socket.resetAndDestroy();
    await hook.promise;
    await signal.promise;
    release.open();
  });

  it('keeps one connection for several requests with a keep-alive client', async () => {
    const { app, port, agent } = await start((app) => {
      app.get('/n/:n', (request) => ({ n: Number((request.params as { n: string }).n) }));
      app.post('/sum', (request) => ({ sum: (request.body as number[]).reduce((a, b) => a + b, 0) }));
    });
    const connections = countConnections(app.server);
    const seen = new Set<net.Socket>();
    for (let n = 0; n < 5; n++) {
      const got = await fetchRaw(port, `/n/${n}`, { agent });
      expect(got.text).toBe(`{"n":${n}}`);
      expect(got.headers.connection).not.toBe('close');
      seen.add(got.socket);
      const sum = await fetchRaw(port, '/sum', { agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([n, n, 1]) });
      expect(sum.text).toBe(`{"sum":${2 * n + 1}}`);
      seen.add(sum.socket);
    }
    expect(seen.size).toBe(1);
    expect(connections.count).toBe(1);
  });

  it('answers a pipelining client in order, each response complete', async () => {
    const bigText = 'x'.repeat(100_000);
    const { app, port } = await start((app) => {
      app.get('/slow/:n', async (request) => {
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        return { slow: (request.params as { n: string }).n };
      });
      app.post('/echo', (request) => request.body);
      app.get('/big', (_request, reply) => reply.type('text/plain').send(bigText));
      app.get('/throw', () => {
        throw new Error('pipelined boom');
      });
      app.get('/n/:n', (request) => ({ n: (request.params as { n: string }).n }));
    });
    const connections = countConnections(app.server);
    const conn = await sendPipelined(port, ['GET /slow/6 HTTP/1.1\r\nhost: x\r\n\r\n', 'GET /n/7 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'], (socket) => sockets.push(socket));
    const responses = conn.reader.responses;
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 500, 200, 200]);
    expect(responses[0]!.body.toString()).toBe('{"slow":"0"}');
    expect(responses[1]!.body.toString()).toBe(PIPELINED_JSON);
    expect(responses[2]!.body.toString() === bigText).toBe(true);
    expect([responses[3]!.headers['content-length'], responses[3]!.body.length]).toEqual([String(bigText.length), 0]);
    expect(JSON.parse(responses[5]!.body.toString())).toMatchObject({ statusCode: 500, message: 'pipelined boom' });
    expect(responses[6]!.body.toString()).toBe('{"slow":"6"}');
    expect([responses[7]!.body.toString(), responses[7]!.headers.connection]).toEqual(['{"n":"7"}', 'close']);
    expect(conn.ending).toBe('fin');
    expect(connections.count).toBe(1);
  });

  it('app.close() closes idle connections at once, lets an in-flight request finish, then closes its connection', async () => {
    const entered = new Gate();
    const release = new Gate();
    const closing = new Gate();
    const { port, agent } = await start((app) => {
      app.get('/slow', async () => {
        entered.open();
        await release.promise;
        return { finished: true };
      });
      app.get('/quick', () => 'quick');
      app.addHook('preClose', (done) => {
        closing.open();
        done();
      });
    });
    // Past preClose Fastify has called closeIdleConnections() and server.close(): the idle
    // connection goes at once, and no new connection is accepted, while /slow is still running.
    await checkGracefulClose({ name, port, agent, agents, entered, release, close: () => apps[0]!.close(), begun: closing.promise });
    apps.length = 0;
  });
});
