/**
 * Theory of operation: the origin every strategy loads the page from — @tether/server for the
 * HTTP/1.1 strategies and node:http2 (cleartext, prior knowledge) for the multiplexed reference,
 * both serving the same bytes on 127.0.0.1. Bodies are prepared once, so the server's own work
 * stays negligible next to the emulated network. One object may be made slow (a server think
 * time) to show head-of-line blocking.
 */

import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer } from '@tether/server';
import type { TetherServer } from '@tether/server';
import type { Page } from './page.js';

/** An object the server answers only after a delay. */
export interface SlowObject {
  /** Index of the object in the page. */
  readonly index: number;
  readonly delayMs: number;
}

/** The running origin. */
export interface Origin {
  /** Port of the HTTP/1.1 server. */
  readonly port: number;
  /** Port of the HTTP/2 (h2c) server. */
  readonly h2Port: number;
  close(): Promise<void>;
}

function bodies(page: Page): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>([[page.htmlPath, page.html]]);
  page.objects.forEach((o, i) => map.set(o.path, new Uint8Array(o.size).fill(97 + (i % 26))));
  return map;
}

/** Start both servers for `page`. */
export async function startOrigin(page: Page, slow?: SlowObject): Promise<Origin> {
  const content = bodies(page);
  const slowPath = slow === undefined ? undefined : page.objects[slow.index]?.path;
  const delay = (path: string): Promise<void> | undefined =>
    path === slowPath && slow !== undefined ? new Promise((resolve) => setTimeout(resolve, slow.delayMs)) : undefined;

  const server: TetherServer = createServer({ keepAliveTimeout: 30_000, keepAliveMax: 10_000, maxPipelineDepth: 64 }, async (req, res) => {
    const body = content.get(req.url);
    if (body === undefined) {
      res.statusCode = 404;
      res.end('not found\n');
      return;
    }
    const wait = delay(req.url);
    if (wait !== undefined) await wait;
    res.setHeader('content-type', req.url === page.htmlPath ? 'text/html' : 'application/octet-stream');
    res.end(body);
  });
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });

  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    const body = content.get(path);
    stream.on('error', () => undefined);
    const answer = (): void => {
      if (stream.destroyed) return;
      if (body === undefined) {
        stream.respond({ ':status': 404 });
        stream.end('not found\n');
        return;
      }
      stream.respond({ ':status': 200, 'content-type': path === page.htmlPath ? 'text/html' : 'application/octet-stream', 'content-length': body.length });
      stream.end(body);
    };
    const wait = delay(path);
    if (wait === undefined) answer();
    else void wait.then(answer);
  });
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  const h2Port = (h2.address() as AddressInfo).port;

  return {
    port,
    h2Port,
    async close() {
      await Promise.all([
        server.close({ timeout: 1000 }),
        new Promise<void>((resolve) => {
          h2.close(() => resolve());
          // Sessions still open are closed by the client side; do not wait forever for them.
          setTimeout(resolve, 1000).unref();
        }),
      ]);
    },
  };
}
