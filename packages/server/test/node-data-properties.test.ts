/**
 * Fields node's IncomingMessage and ServerResponse hold as plain data properties, which code
 * written for node reads and assigns (Koa's tests set `req.httpVersionMajor`; on-finished reads
 * `res.finished`), and node's reading of a removed Content-Length. Each runs on node:http beside
 * tether; the handler's module is strict, as every ES module is, so an assignment to a getter
 * without a setter would throw.
 */

import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { rawExchange, twins } from './node-twin.js';
import type { TwinHandler } from './node-twin.js';
import { Resources } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

/** Run `handler` on both servers for one GET; the body each answered. */
async function bodies(handler: TwinHandler, request = GET): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const twin of await twins(resources, handler)) {
    const reply = await rawExchange(twin.port, request, { done: (t) => t.includes('\r\n\r\n') && t.endsWith('END') });
    out[twin.name] = reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4);
  }
  return out;
}

describe('data properties a handler may assign', () => {
  it.each([
    ['req.httpVersionMajor', (req: http.IncomingMessage) => ((req.httpVersionMajor = 2), req.httpVersionMajor)],
    ['req.httpVersionMinor', (req: http.IncomingMessage) => ((req.httpVersionMinor = 0), req.httpVersionMinor)],
    ['req.headers', (req: http.IncomingMessage) => ((req.headers = { host: 'b', 'x-set': '1' }), JSON.stringify(req.headers))],
    ['req.rawHeaders', (req: http.IncomingMessage) => ((req.rawHeaders = ['Host', 'b']), req.rawHeaders.join())],
    ['req.trailers', (req: http.IncomingMessage) => ((req.trailers = { t: '1' }), JSON.stringify(req.trailers))],
    ['req.headersDistinct', (req: http.IncomingMessage) => ((req.headersDistinct = { host: ['b'] }), JSON.stringify(req.headersDistinct))],
  ] as const)('%s: the assignment holds, and the server answers as usual', async (_name, assign) => {
    const seen = await bodies((req, res) => res.end(`${String(assign(req))} END`));
    expect(seen.tether).toBe(seen.node);
  });

  it('res.finished is false until end(), then true; an assignment holds (on-finished reads it)', async () => {
    const byPort = new Map<number, unknown[]>();
    const handler: TwinHandler = (req, res) => {
      const seen = [res.finished];
      res.end('END');
      seen.push(res.finished);
      (res as { finished: boolean }).finished = false;
      seen.push(res.finished);
      byPort.set(req.socket.localPort!, seen);
    };
    const out: Record<string, unknown> = {};
    for (const twin of await twins(resources, handler)) {
      await rawExchange(twin.port, GET, { done: (t) => t.endsWith('END') });
      out[twin.name] = byPort.get(twin.port);
    }
    expect(out.node).toEqual([false, true, false]);
    expect(out.tether).toEqual(out.node);
  });

  it('res.socket can be assigned, as node\'s', async () => {
    const seen = await bodies((_req, res) => {
      const socket = res.socket;
      (res as { socket: unknown }).socket = null;
      const cleared = res.socket === null ? 'null' : 'a socket';
      (res as { socket: unknown }).socket = socket;
      res.end(`${cleared} END`);
    });
    expect(seen.tether).toBe(seen.node);
  });
});

describe('a removed Content-Length', () => {
  it('end(body) sends no Content-Length: the body is chunked, as node sends it', async () => {
    const seen: Record<string, string[]> = {};
    for (const twin of await twins(resources, (_req, res) => {
      res.setHeader('Content-Length', '999');
      res.removeHeader('Content-Length');
      res.end('hello');
    })) {
      const reply = await rawExchange(twin.port, GET + GET, { done: (t) => (t.match(/0\r\n\r\n/g) ?? []).length === 2 });
      // Per response: its framing fields and its body as sent.
      seen[twin.name] = reply.text.split(/(?=HTTP\/1\.1 )/).map((r) => {
        const [head = '', body = ''] = r.split('\r\n\r\n', 2).length === 2 ? [r.slice(0, r.indexOf('\r\n\r\n')), r.slice(r.indexOf('\r\n\r\n') + 4)] : [r];
        const framing = head.split('\r\n').filter((l) => /^(content-length|transfer-encoding):/i.test(l)).map((l) => l.toLowerCase());
        return `${framing.join(' | ')} :: ${JSON.stringify(body)}`;
      });
    }
    expect(seen.node).toEqual(Array(2).fill('transfer-encoding: chunked :: "5\\r\\nhello\\r\\n0\\r\\n\\r\\n"'));
    expect(seen.tether).toEqual(seen.node);
  });
});
