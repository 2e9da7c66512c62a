/**
 * 'checkContinue' and 'checkExpectation', as node:http has them: a request with
 * `Expect: 100-continue` goes to the 'checkContinue' listeners instead of the handler, and the
 * server sends no 100 of its own (the listener calls `res.writeContinue()`, or answers at once);
 * any other expectation goes to 'checkExpectation', else 417. Each scenario runs on node:http
 * beside tether and the peer must see the same.
 */

import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { expectsContinue, routeExpectation } from '../src/expectation.js';
import type { TetherServer } from '../src/index.js';
import { rawExchange, responsesOf, statuses, twins } from './node-twin.js';
import type { TwinHandler } from './node-twin.js';
import { Resources, sleep } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());


const head = (expect: string, version = '1.1'): string => `POST /up HTTP/${version}\r\nHost: a\r\nExpect: ${expect}\r\nContent-Length: 5\r\n\r\n`;

describe('checkContinue', () => {
  it('gets the request instead of the handler; no 100 goes out until the listener sends it', async () => {
    const calls: string[] = [];
    const handler: TwinHandler = (_req, res) => {
      calls.push('handler');
      res.end('handler');
    };
    const seen: string[][] = [];
    const setup = (server: TetherServer | http.Server, name: string): void => {
      (server as http.Server).on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
        calls.push(`${name} checkContinue ${req.url}`);
        // Decide first (a credential check, say), then invite the body.
        setTimeout(() => {
          res.writeContinue();
          let body = '';
          req.on('data', (chunk: Buffer) => (body += chunk.toString()));
          req.on('end', () => res.end(`got ${body}`));
        }, 100);
      });
    };
    for (const twin of await twins(resources, handler, {}, setup)) {
      let early = '';
      const reply = await rawExchange(twin.port, head('100-continue'), {
        done: (text) => text.endsWith('got hello'),
        then: (socket) => {
          socket.once('data', (chunk: Buffer) => {
            early = chunk.toString('latin1');
            socket.write('hello');
          });
        },
      });
      expect(early, twin.name).toBe('HTTP/1.1 100 Continue\r\n\r\n');
      seen.push(responsesOf(reply.text));
    }
    expect(seen[0]).toEqual(['100', '200 "got hello"']);
    expect(seen[0]).toEqual(seen[1]);
    expect(calls).toEqual(['tether checkContinue /up', 'node checkContinue /up']);
  });

  it('nothing is sent while the listener has not decided', async () => {
    const setup = (server: TetherServer | http.Server): void => void (server as http.Server).on('checkContinue', () => undefined);
    for (const twin of await twins(resources, (_req, res) => res.end(), {}, setup)) {
      const reply = await rawExchange(twin.port, head('100-continue'), { ms: 200 });
      expect(reply.text, twin.name).toBe('');
    }
  });

  it('a listener that refuses without a 100: its answer, then the connection closes (the client may or may not send the body)', async () => {
    const seen: string[][] = [];
    const setup = (server: TetherServer | http.Server): void =>
      void (server as http.Server).on('checkContinue', (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.statusCode = 401;
        res.end('no');
      });
    for (const twin of await twins(resources, (_req, res) => res.end('handler'), {}, setup)) {
      const reply = await rawExchange(twin.port, head('100-continue'));
      expect(reply.closed, twin.name).toBe(true);
      seen.push(responsesOf(reply.text));
    }
    expect(seen[0]).toEqual(['401 close "no"']);
    expect(seen[0]).toEqual(seen[1]);
  });

  it('a listener that throws answers 500, as a handler that throws', async () => {
    const { server, port } = await resources.server((_req, res) => res.end('handler'));
    const errors: unknown[] = [];
    server.on('error', (err: unknown) => errors.push(err));
    server.on('checkContinue', () => {
      throw new Error('listener');
    });
    const reply = await rawExchange(port, head('100-continue'));
    expect(statuses(reply.text)).toEqual([500]);
    expect(errors).toMatchObject([{ message: 'listener' }]);
  });
});

describe('checkExpectation', () => {
  it('gets a request with another expectation; without a listener, 417', async () => {
    const setup = (server: TetherServer | http.Server): void =>
      void (server as http.Server).on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => res.end(`met ${String(req.headers.expect)}`));
    const seen: string[][] = [];
    for (const twin of await twins(resources, (_req, res) => res.end('handler'), {}, setup)) {
      const reply = await rawExchange(twin.port, head('x-foo'), { then: (socket) => socket.write('hello'), done: (text) => text.endsWith('x-foo') });
      seen.push(responsesOf(reply.text));
    }
    expect(seen[0]).toEqual(['200 "met x-foo"']);
    expect(seen[0]).toEqual(seen[1]);
    for (const twin of await twins(resources, (_req, res) => res.end('handler'))) {
      const reply = await rawExchange(twin.port, head('x-foo'), { ms: 500 });
      expect(statuses(reply.text), twin.name).toEqual([417]);
      // node keeps the connection and waits for the body the client may never send; tether
      // closes after the 417, so the next bytes can never be misread.
      if (twin.name === 'tether') expect(reply.closed).toBe(true);
    }
  });

  it('HTTP/1.0: the Expect field is ignored, the handler answers', async () => {
    const seen: string[] = [];
    const setup = (server: TetherServer | http.Server, name: string): void => {
      (server as http.Server).on('checkContinue', () => seen.push(`${name} checkContinue`));
      (server as http.Server).on('checkExpectation', () => seen.push(`${name} checkExpectation`));
    };
    const handler: TwinHandler = (req, res) => {
      req.resume();
      req.on('end', () => res.end('handler'));
    };
    for (const twin of await twins(resources, handler, {}, setup)) {
      for (const expect100 of ['x-foo', '100-continue']) {
        const reply = await rawExchange(twin.port, `${head(expect100, '1.0')}hello`, { done: (text) => text.endsWith('handler') });
        expect(statuses(reply.text), `${twin.name} ${expect100}`).toEqual([200]);
      }
    }
    expect(seen).toEqual([]);
  });
});

describe('without listeners, the handler reads the body and tether sends 100 then', () => {
  it('100 Continue only once the handler reads, then its answer', async () => {
    const { port } = await resources.server(async (req, res) => {
      await sleep(80);
      res.end(`got ${await req.text()}`);
    });
    let first = '';
    const started = Date.now();
    let at = 0;
    const reply = await rawExchange(port, head('100-continue'), {
      done: (text) => text.endsWith('got hello'),
      then: (socket) =>
        socket.once('data', (chunk: Buffer) => {
          first = chunk.toString('latin1');
          at = Date.now() - started;
          socket.write('hello');
        }),
    });
    expect(first).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    expect(at).toBeGreaterThanOrEqual(60);
    expect(statuses(reply.text)).toEqual([100, 200]);
  });
});

describe('the route, as a table', () => {
  const none = (): boolean => false;
  const all = (): boolean => true;
  it.each([
    [undefined, '1.1', none, 'request'],
    ['100-continue', '1.1', none, 'request'],
    ['100-Continue', '1.1', all, 'checkContinue'],
    ['x-foo, 100-continue', '1.1', all, 'checkContinue'],
    ['x-foo', '1.1', all, 'checkExpectation'],
    ['x-foo', '1.1', none, 'expectation-failed'],
    ['x-foo', '1.0', none, 'request'],
    ['100-continue', '1.0', all, 'request'],
  ] as const)('Expect %s, HTTP/%s, listeners %o: %s', (expectValue, version, listens, route) => {
    expect(routeExpectation(expectValue, version, listens)).toBe(route);
  });

  it('100-continue is a list member, not a substring', () => {
    expect(expectsContinue('100-continuex')).toBe(false);
    expect(expectsContinue(' 100-continue ')).toBe(true);
  });
});
