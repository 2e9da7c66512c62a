/**
 * node:http's header options, with node's names and node's behaviour, each scenario run against
 * node:http beside tether: how `req.headers` folds repeated lines (node's discard rules, and
 * `joinDuplicateHeaders`), `maxHeadersCount`, and `requireHostHeader` — as options and as
 * settable properties that govern the connections accepted afterwards.
 */

import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { TetherServer } from '../src/index.js';
import { NODE_FIRST_LINE_ONLY, NODE_HEADER_RULES, headerView } from '../src/node-headers.js';
import { rawExchange, statuses, twins } from './node-twin.js';
import type { TwinHandler } from './node-twin.js';
import { Resources } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

/** Answers with what the handler saw of the fields, as JSON. */
const echo: TwinHandler = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ headers: req.headers, distinct: req.headersDistinct, raw: req.rawHeaders }));
};

/** The JSON body of the one response in `text`. */
function body(text: string): { headers: Record<string, unknown>; distinct: Record<string, unknown>; raw: string[] } {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as never;
}

function complete(text: string): boolean {
  const at = text.indexOf('\r\n\r\n');
  const length = /content-length: (\d+)/i.exec(text);
  return at >= 0 && length !== null && text.length >= at + 4 + Number(length[1]);
}

/** Every name node's rules treat, twice, plus cookie, set-cookie and a list field, in mixed case. */
function duplicatesHead(): string {
  let head = 'GET / HTTP/1.1\r\nHost: a\r\n';
  // content-length and host cannot repeat with differing values (both servers refuse it).
  for (const name of NODE_FIRST_LINE_ONLY.filter((n) => n !== 'content-length' && n !== 'host')) head += `${name}: 1\r\n${name.toUpperCase()}: 2\r\n`;
  head += 'Cookie: a=1\r\ncookie: b=2\r\nSet-Cookie: s=1\r\nset-cookie: s=2\r\nAccept: x\r\naccept: y\r\nX-Custom: 1\r\nX-CUSTOM: 2\r\n\r\n';
  return head;
}

describe('req.headers folds repeated lines as node:http does', () => {
  it('by default: the first line of single-valued fields, cookie joined with "; ", set-cookie an array, the rest with ", "', async () => {
    const seen: Record<string, unknown>[] = [];
    for (const twin of await twins(resources, echo)) {
      const reply = await rawExchange(twin.port, duplicatesHead(), { done: complete });
      seen.push(body(reply.text).headers);
    }
    const [tether, node] = seen;
    expect(tether).toEqual(node);
    expect(tether).toMatchObject({ 'content-type': '1', authorization: '1', 'user-agent': '1', cookie: 'a=1; b=2', 'set-cookie': ['s=1', 's=2'], accept: 'x, y', 'x-custom': '1, 2' });
  });

  it('joinDuplicateHeaders (option, and settable): every repeated name joined; cookie still "; "', async () => {
    for (const how of ['option', 'property'] as const) {
      const seen: Record<string, unknown>[] = [];
      const options = how === 'option' ? { tether: { joinDuplicateHeaders: true }, node: { joinDuplicateHeaders: true } } : {};
      const setup = (server: TetherServer | http.Server): void => {
        if (how === 'property') (server as { joinDuplicateHeaders: boolean }).joinDuplicateHeaders = true;
      };
      for (const twin of await twins(resources, echo, options, setup)) {
        const reply = await rawExchange(twin.port, duplicatesHead(), { done: complete });
        seen.push(body(reply.text).headers);
      }
      const [tether, node] = seen;
      expect(tether, how).toEqual(node);
      expect(tether, how).toMatchObject({ 'content-type': '1, 2', authorization: '1, 2', cookie: 'a=1; b=2', 'set-cookie': ['s=1', 's=2'] });
    }
  });

  it('trailers fold by the same rules', async () => {
    const { port } = await resources.server(async (req, res) => {
      await req.text();
      res.end(JSON.stringify(req.trailers));
    });
    const chunked = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nETag: 1\r\netag: 2\r\nX-T: 1\r\nX-T: 2\r\n\r\n';
    const reply = await rawExchange(port, chunked, { done: complete });
    expect(JSON.parse(reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4))).toEqual({ etag: '1', 'x-t': '1, 2' });
  });

  it('the rules are a table: every name node discards keeps its first line', () => {
    for (const name of NODE_FIRST_LINE_ONLY) expect(NODE_HEADER_RULES.get(name), name).toBe('first');
    expect(NODE_HEADER_RULES.get('set-cookie')).toBe('array');
    expect(NODE_HEADER_RULES.get('cookie')).toEqual({ join: '; ' });
    expect(NODE_HEADER_RULES.get('accept')).toBeUndefined();
  });
});

describe('maxHeadersCount', () => {
  const head = 'GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nA: 3\r\nC: 4\r\n\r\n';

  it('is null until set, as node reads it', () => {
    expect(createServer(() => undefined).maxHeadersCount).toBeNull();
    expect(createServer({ maxHeadersCount: 5 }, () => undefined).maxHeadersCount).toBe(5);
  });

  it('headers and headersDistinct read the first N lines; rawHeaders keeps them all', async () => {
    const seen: ReturnType<typeof body>[] = [];
    for (const twin of await twins(resources, echo, {}, (server) => ((server as { maxHeadersCount: number }).maxHeadersCount = 3))) {
      seen.push(body((await rawExchange(twin.port, head, { done: complete })).text));
    }
    const [tether, node] = seen;
    expect(tether).toEqual(node);
    expect(tether?.headers).toEqual({ host: 'a', a: '1', b: '2' });
    expect(tether?.distinct).toEqual({ host: ['a'], a: ['1'], b: ['2'] });
    expect(tether?.raw).toHaveLength(10);
  });

  it('0 reads every line', async () => {
    const seen: ReturnType<typeof body>[] = [];
    for (const twin of await twins(resources, echo, {}, (server) => ((server as { maxHeadersCount: number }).maxHeadersCount = 0))) {
      seen.push(body((await rawExchange(twin.port, head, { done: complete })).text));
    }
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]?.headers).toEqual({ host: 'a', a: '1, 3', b: '2', c: '4' });
  });

  it('framing still reads every line: a Content-Length past the count frames the body', async () => {
    const seen: string[] = [];
    const handler: TwinHandler = (req, res) => {
      let got = '';
      req.on('data', (chunk: Buffer) => (got += chunk.toString()));
      req.on('end', () => res.end(`${req.url} ${JSON.stringify(req.headers)} ${got}`));
    };
    for (const twin of await twins(resources, handler, {}, (server) => ((server as { maxHeadersCount: number }).maxHeadersCount = 2))) {
      const bytes = 'POST /1 HTTP/1.1\r\nHost: a\r\nA: 1\r\nContent-Length: 2\r\n\r\nabGET /2 HTTP/1.1\r\nHost: a\r\n\r\n';
      const reply = await rawExchange(twin.port, bytes, { done: (text) => text.includes('/2 ') });
      seen.push(reply.text.replace(/Date: [^\r]*\r\n/g, '').replace(/Connection: keep-alive\r\nKeep-Alive: [^\r]*\r\n/g, ''));
    }
    expect(seen[0]).toContain('/1 {"host":"a","a":"1"} ab');
    expect(seen[0]).toContain('/2 {"host":"a"} ');
    expect(statuses(seen[0]!)).toEqual(statuses(seen[1]!));
  });

  it('a count that is not a non-negative integer is a RangeError naming it', () => {
    expect(() => createServer({ maxHeadersCount: -1 }, () => undefined)).toThrow(/maxHeadersCount/);
    expect(() => createServer({ maxHeadersCount: 1.5 }, () => undefined)).toThrow(RangeError);
    expect(headerView(null, undefined).lines).toBe(2000);
    expect(headerView(0, undefined).lines).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('requireHostHeader', () => {
  const noHost = 'GET / HTTP/1.1\r\nX: a\r\n\r\n';
  const hostOf: TwinHandler = (req, res) => res.end(`host=${String(req.headers.host)}`);

  it('by default an HTTP/1.1 request without Host gets 400 and the connection closes', async () => {
    for (const twin of await twins(resources, hostOf)) {
      const reply = await rawExchange(twin.port, noHost);
      expect(statuses(reply.text), twin.name).toEqual([400]);
      expect(reply.closed, twin.name).toBe(true);
      expect(reply.text, twin.name).toMatch(/\r\nConnection: close\r\n/i);
    }
  });

  it('false (option, and settable) accepts it', async () => {
    for (const how of ['option', 'property'] as const) {
      const options = how === 'option' ? { tether: { requireHostHeader: false }, node: { requireHostHeader: false } } : {};
      const setup = (server: TetherServer | http.Server): void => {
        if (how === 'property') (server as { requireHostHeader: boolean }).requireHostHeader = false;
      };
      for (const twin of await twins(resources, hostOf, options, setup)) {
        const reply = await rawExchange(twin.port, noHost, { done: (text) => text.endsWith('host=undefined') });
        expect(statuses(reply.text), `${twin.name} ${how}`).toEqual([200]);
        expect(reply.text, `${twin.name} ${how}`).toMatch(/host=undefined$/);
      }
    }
  });

  it('reads back as node does, and a change governs new connections only', async () => {
    const { server, port } = await resources.server((req, res) => res.end(String(req.headers.host)));
    expect(server.requireHostHeader).toBe(true);
    const before = await resources.connect(port);
    server.requireHostHeader = false;
    expect(server.requireHostHeader).toBe(false);
    before.send(noHost);
    await before.closed(2000);
    expect(before.reader.responses.map((r) => r.status)).toEqual([400]);
    const after = await rawExchange(port, noHost, { done: (text) => text.endsWith('undefined') });
    expect(statuses(after.text)).toEqual([200]);
  });
});

describe('maxHeaderSize', () => {
  it("node's option bounds the head as maxHeadBytes does: 431 beyond it, on both servers", async () => {
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(3000)}\r\n\r\n`;
    const small = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    const options = { tether: { maxHeaderSize: 2048 }, node: { maxHeaderSize: 2048 } };
    for (const twin of await twins(resources, (_req, res) => res.end('ok'), options)) {
      const refused = await rawExchange(twin.port, big);
      expect(statuses(refused.text), twin.name).toEqual([431]);
      const accepted = await rawExchange(twin.port, small, { done: (text) => text.endsWith('ok') });
      expect(statuses(accepted.text), twin.name).toEqual([200]);
    }
  });
});
