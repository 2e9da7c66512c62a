/**
 * What a handler does wrong is thrown at it as a ServerError with a stable code (and the node:http
 * code it stands for), so code written for node:http can match on either.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_ERRORS, ServerError } from '../src/index.js';
import type { ServerResponse } from '../src/index.js';
import { Resources } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

/** Run `act` on a response in a real exchange; return what it threw. */
async function thrown(act: (res: ServerResponse) => void): Promise<unknown> {
  let caught: unknown = 'nothing thrown';
  const { origin } = await resources.server((_req, res) => {
    try {
      act(res);
    } catch (err) {
      caught = err;
    }
    if (!res.writableEnded) {
      try {
        res.statusCode = 200;
        if (!res.headersSent) res.removeHeader('content-length');
        res.end();
      } catch {
        // The case itself left the response unusable: the server answers for it.
      }
    }
  });
  await fetch(origin).then((r) => r.arrayBuffer()).catch(() => undefined);
  return caught;
}

describe('ServerError codes', () => {
  it.each([
    ['TETHER_HEADERS_SENT', 'ERR_HTTP_HEADERS_SENT', (res: ServerResponse) => (res.write('x'), res.setHeader('a', 'b'))],
    ['TETHER_HEADERS_SENT', 'ERR_HTTP_HEADERS_SENT', (res: ServerResponse) => (res.write('x'), res.removeHeader('a'))],
    ['TETHER_HEADERS_SENT', 'ERR_HTTP_HEADERS_SENT', (res: ServerResponse) => (res.write('x'), res.writeHead(200))],
    ['TETHER_WRITE_AFTER_END', 'ERR_STREAM_WRITE_AFTER_END', (res: ServerResponse) => (res.end('x'), res.write('y'))],
    ['TETHER_INVALID_STATUS', 'ERR_HTTP_INVALID_STATUS_CODE', (res: ServerResponse) => res.writeHead(1000)],
    ['TETHER_INVALID_STATUS', 'ERR_HTTP_INVALID_STATUS_CODE', (res: ServerResponse) => ((res.statusCode = 99), res.end())],
    ['TETHER_INVALID_STATUS', 'ERR_HTTP_INVALID_STATUS_CODE', (res: ServerResponse) => ((res.statusCode = Number.NaN), res.write('x'))],
    ['TETHER_INVALID_HEADER', 'ERR_INVALID_CHAR', (res: ServerResponse) => res.setHeader('x-a', 'one\r\ntwo')],
    ['TETHER_INVALID_HEADER', 'ERR_INVALID_CHAR', (res: ServerResponse) => res.setHeader('bad name', 'v')],
    ['TETHER_INVALID_ARGUMENT', 'ERR_INVALID_ARG_TYPE', (res: ServerResponse) => res.write(42 as unknown as string)],
    ['TETHER_RESPONSE_REFUSED', 'ERR_HTTP_CONTENT_LENGTH_MISMATCH', (res: ServerResponse) => (res.setHeader('content-length', '1'), res.end('too long'))],
  ] as const)('%s (node: %s)', async (code, nodeCode, act) => {
    const err = await thrown(act);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe(code);
    expect((err as ServerError).nodeCode).toBe(nodeCode);
    expect(SERVER_ERRORS[code]).toBe(nodeCode);
  });

  it('a numeric string status is read as node:http reads it', async () => {
    const { origin } = await resources.server((_req, res) => {
      res.statusCode = '201' as unknown as number;
      res.end('made');
    });
    const r = await fetch(origin);
    expect(r.status).toBe(201);
    expect(await r.text()).toBe('made');
  });
});
