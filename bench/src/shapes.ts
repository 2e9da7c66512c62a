/**
 * Theory of operation: the handler shapes the server benchmarks load — the same code on every
 * server (tether, node:http), so a shape measures how a server takes one way of answering.
 * `hello` is the benchmark (`server.ts`); `text`, `buffer` and `json` are the three
 * common ways a handler writes a small response (`server-shapes.ts`, `server-harness.ts`).
 */

import { HELLO } from './limit-server.js';

/** The response surface the shapes use: node:http's ServerResponse and tether's both have it. */
export interface ShapeResponse {
  setHeader(name: string, value: string): unknown;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string | Uint8Array): unknown;
}

/** A way of answering GET /. */
export interface Shape {
  /** The handler's code, as shown in tables. */
  readonly code: string;
  /** The body every answer must carry. */
  readonly body: string;
  readonly contentType: string;
  readonly handle: (res: ShapeResponse) => void;
}

export const SHAPE_IDS = ['hello', 'text', 'buffer', 'json'] as const;
/** A shape's name on the command line. */
export type ShapeId = (typeof SHAPE_IDS)[number];

/**
 * Where the Fastify kinds of `server-child.ts` answer shape `json`'s body as a Fastify route
 * (`frameworks.ts` loads it; here rather than in `server-child.ts`, whose import runs a child).
 */
export const FASTIFY_JSON_PATH = '/json';

const HELLO_WORLD = 'hello world';
/** Made once, outside the handler: shape `buffer` measures sending a Buffer, not making one. */
const HELLO_WORLD_BYTES = Buffer.from(HELLO_WORLD);
const JSON_BODY = JSON.stringify({ hello: 'world', n: 42 });

export const SHAPES: Readonly<Record<ShapeId, Shape>> = {
  hello: {
    code: "res.setHeader('Content-Type', 'text/plain'); res.end('Hello, World!')",
    body: HELLO,
    contentType: 'text/plain',
    handle: (res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.end(HELLO);
    },
  },
  text: {
    code: "res.setHeader('content-type', 'text/plain'); res.end('hello world')",
    body: HELLO_WORLD,
    contentType: 'text/plain',
    handle: (res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(HELLO_WORLD);
    },
  },
  buffer: {
    code: "res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' }); res.end(BUF) (BUF made once)",
    body: HELLO_WORLD,
    contentType: 'text/plain',
    handle: (res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
      res.end(HELLO_WORLD_BYTES);
    },
  },
  json: {
    code: "res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ hello: 'world', n: 42 }))",
    body: JSON_BODY,
    contentType: 'application/json',
    handle: (res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ hello: 'world', n: 42 }));
    },
  },
};
